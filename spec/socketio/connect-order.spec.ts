/**
 * The CONNECT reply comes first: whatever a connect handler emits (to the
 * client, to a room it just joined) reaches the client after `40{"sid"}`, on
 * both transports, and nothing of it reaches a client that is refused. The
 * first four cases are the connect cases of the socket.io-protocol test suite.
 *
 *   client                       server
 *   40{"token":"123"} -------->  connect handler: emit('auth', auth)
 *                     <--------  40{"sid":"..."}
 *                     <--------  42["auth",{"token":"123"}]
 */
import { expect } from 'chai';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { RawPolling } from '../helpers/raw-engine.js';
import type { AsyncMode } from '../../lib/index.js';
import { SioHarness } from '../helpers/socketio.js';
import type { RawSio } from '../helpers/socketio.js';
import { registerConnectOrderHandlers } from '../fixtures/connect-order-handlers.js';

/** Connects to '/' and reads its greeting and an echo: nothing held from before slips in between. */
async function expectNothingElse(raw: RawSio): Promise<void> {
  await raw.connect('/');
  expect(await raw.nextText('the auth event on /')).to.equal('2["auth",{}]');
  expect(await raw.nextText('the room event on /')).to.equal('2["room","greeted"]');
  raw.send('2["message","after"]');
  expect(await raw.nextText('the echo')).to.equal('2["message-back",["after"]]');
}

const SID_REPLY = /^0(\/custom,)?\{"sid":"[^"]+"\}$/;

async function start(asyncMode: AsyncMode): Promise<SioHarness> {
  const pool =
    asyncMode === 'worker-pool'
      ? { appModule: new URL('../fixtures/connect-order-app.js', import.meta.url).href }
      : {};
  const h = await SioHarness.start({ asyncMode, ...pool });
  registerConnectOrderHandlers(h.io);
  return h;
}

const SUITE_CASES = [
  { name: 'the main namespace', packet: '0', prefix: '', auth: '{}' },
  {
    name: 'the main namespace with a payload',
    packet: '0{"token":"123"}',
    prefix: '',
    auth: '{"token":"123"}',
  },
  { name: 'a custom namespace', packet: '0/custom,', prefix: '/custom,', auth: '{}' },
  {
    name: 'a custom namespace with a payload',
    packet: '0/custom,{"token":"abc"}',
    prefix: '/custom,',
    auth: '{"token":"abc"}',
  },
] as const;

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  describe(`CONNECT reply before the connect handler's packets [${asyncMode}]`, function () {
    let h: SioHarness;
    beforeEach(async function () {
      h = await start(asyncMode);
    });
    afterEach(() => h.stop());

    for (const { name, packet, prefix, auth } of SUITE_CASES) {
      it(`allows connection to ${name}: 40{"sid"} first, then the handler's events`, async function () {
        const raw = await h.raw();
        raw.send(packet);
        const reply = await raw.nextText('the CONNECT reply');
        expect(reply).to.match(SID_REPLY);
        expect(reply.startsWith(`0${prefix}`)).to.be.true;
        expect(Object.keys(JSON.parse(reply.slice(1 + prefix.length)) as object)).to.deep.equal([
          'sid',
        ]);
        expect(await raw.nextText('the auth event')).to.equal(`2${prefix}["auth",${auth}]`);
        expect(await raw.nextText('the room event')).to.equal(`2${prefix}["room","greeted"]`);
      });
    }

    it('puts the CONNECT reply first in a polling response too', async function () {
      const polling = await RawPolling.open(`${h.origin}/socket.io/`);
      expect((await polling.post('40{"token":"p"}')).status).to.equal(200);
      const packets: string[] = [];
      while (packets.length < 3) packets.push(...(await polling.packets()));
      expect(packets[0]).to.match(/^40\{"sid":"[^"]+"\}$/);
      expect(packets.slice(1)).to.deep.equal(['42["auth",{"token":"p"}]', '42["room","greeted"]']);
    });

    for (const { nsp, what } of [
      { nsp: '/refusing', what: 'returns false' },
      { nsp: '/kicking', what: 'disconnects the client' },
    ]) {
      it(`answers CONNECT_ERROR alone (what it emitted is dropped) when the handler ${what}`, async function () {
        const raw = await h.raw();
        raw.send(`0${nsp},`);
        expect(await raw.nextText('the CONNECT_ERROR')).to.equal(
          `4${nsp},{"message":"Connection rejected by server"}`,
        );
        await expectNothingElse(raw);
      });
    }

    it('gives the official client its connect event before the handler events', async function () {
      const peer = h.peer('/', { auth: { token: 'c' } });
      expect(await peer.next('auth')).to.deep.equal([{ token: 'c' }]);
      expect(peer.lifecycle[0]).to.equal('connect');
    });
  });
}
