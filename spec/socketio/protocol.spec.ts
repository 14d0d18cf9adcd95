/**
 * Socket.IO v5 on the wire, with a raw WebSocket peer sending packets as
 * Engine.IO messages (`4` + packet): the CONNECT answer, namespaces, binary
 * placeholders, and every malformed packet that must close the connection
 * while other clients carry on.
 *
 *   client                       server
 *   GET /socket.io/?EIO=4&transport=websocket
 *                  <------------ 0{"sid": <engine sid>, ...}
 *   40{auth}      ------------>
 *                  <------------ 40{"sid": <socket sid>}   (or 44{"message": ...})
 *   42["ev",...]  ------------>
 */
import { expect } from 'chai';
import { ConnectionRefusedError, ack } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { Inbox } from '../helpers/raw-engine.js';
import { SioHarness } from '../helpers/socketio.js';

/** Proves the server still serves: a new raw client connects and gets an ack. */
async function expectHealthy(h: SioHarness): Promise<void> {
  const raw = await h.raw();
  await raw.connect();
  raw.send('27["echo","still serving"]');
  expect(await raw.nextText('the echo ack')).to.equal('37["still serving"]');
}

/** Malformed input after a successful CONNECT to '/' (and '/custom' where needed). */
const BAD_PACKETS: readonly { readonly name: string; readonly packet: string }[] = [
  { name: 'an unknown packet type', packet: '9' },
  { name: 'an event payload that is an object', packet: '2{}' },
  { name: 'an empty event payload', packet: '2[]' },
  { name: 'an event whose first element is not a string', packet: '2[1,"a"]' },
  { name: 'a reserved event name', packet: '2["disconnect"]' },
  { name: 'bad attachment headers', packet: '5x-["a"]' },
  { name: 'garbage where the ack id should be', packet: '21a["echo"]' },
  { name: 'an event for a namespace the client has not joined', packet: '2/custom,["echo"]' },
  { name: 'a second CONNECT to the same namespace', packet: '0' },
];

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  describe(`Socket.IO protocol with a raw WebSocket [${asyncMode}]`, function () {
    let h: SioHarness;
    let auths: Inbox<unknown>;
    let reasons: Inbox<string>;
    beforeEach(async function () {
      h = await SioHarness.start({ asyncMode });
      auths = new Inbox<unknown>();
      reasons = new Inbox<string>();
      h.io.on('connect', (auth: Record<string, unknown> | undefined) => {
        auths.push(auth);
        return auth?.refuse !== true;
      });
      h.io.on('echo', (...values: unknown[]) => ack(...values));
      h.io.on('connect', (auth: unknown) => auths.push(auth), { namespace: '/custom' });
      h.io.on('echo', (...values: unknown[]) => ack('custom', ...values), {
        namespace: '/custom',
      });
      h.io.on('disconnect', (reason: string) => reasons.push(`/custom ${reason}`), {
        namespace: '/custom',
      });
      h.io.on(
        'connect',
        () => {
          throw new ConnectionRefusedError('members only', { level: 2 });
        },
        { namespace: '/private' },
      );
    });
    afterEach(() => h.stop());

    it('answers CONNECT with exactly {"sid"}, a sid other than the Engine.IO one', async function () {
      const raw = await h.raw();
      raw.send('0');
      const answer = await raw.nextText('the CONNECT answer');
      expect(answer.startsWith('0{')).to.be.true;
      const body = JSON.parse(answer.slice(1)) as Record<string, unknown>;
      expect(Object.keys(body)).to.deep.equal(['sid']);
      expect(body.sid).to.be.a('string').and.not.equal(raw.handshake.sid);
      expect(await auths.next('the connect handler')).to.equal(undefined);
    });

    it('passes the CONNECT auth object to the connect handler', async function () {
      const raw = await h.raw();
      await raw.connect('/', { token: '123' });
      expect(await auths.next('the auth')).to.deep.equal({ token: '123' });
    });

    it('accepts 40/custom and 41/custom without a trailing comma, and 40/custom,{auth}', async function () {
      const first = await h.raw();
      first.send('0/custom');
      const answer = await first.nextText('the CONNECT answer');
      expect(answer).to.match(/^0\/custom,\{"sid":"[^"]+"\}$/);
      first.send('1/custom');
      expect(await reasons.next('the /custom disconnect')).to.equal(
        '/custom client namespace disconnect',
      );
      const second = await h.raw();
      await second.connect('/custom', { token: 'abc' });
      expect(auths.items).to.deep.equal([undefined, { token: 'abc' }]);
      second.send('2/custom,5["echo",1]');
      expect(await second.nextText('the ack')).to.equal('3/custom,5["custom",1]');
    });

    it('sends CONNECT_ERROR {message} for an unknown namespace and keeps the connection', async function () {
      const raw = await h.raw();
      raw.send('0/nope,');
      expect(await raw.nextText('the CONNECT_ERROR')).to.equal(
        '4/nope,{"message":"Invalid namespace"}',
      );
      await raw.connect('/');
      raw.send('21["echo","ok"]');
      expect(await raw.nextText('the ack')).to.equal('31["ok"]');
    });

    it('sends CONNECT_ERROR {message, data} for a refused CONNECT', async function () {
      const raw = await h.raw();
      raw.send('0{"refuse":true}');
      expect(await raw.nextText('the CONNECT_ERROR')).to.equal(
        '4{"message":"Connection rejected by server"}',
      );
      raw.send('0/private,');
      const refused = await raw.nextText('the CONNECT_ERROR for /private');
      expect(refused.startsWith('4/private,')).to.be.true;
      expect(JSON.parse(refused.slice('4/private,'.length))).to.deep.equal({
        message: 'members only',
        data: { level: 2 },
      });
      await raw.connect('/');
    });

    it('carries binary arguments and acks as placeholders plus attachment frames', async function () {
      const raw = await h.raw();
      await raw.connect();
      raw.send('51-9["echo",{"file":{"_placeholder":true,"num":0}}]');
      raw.sendBinary(Buffer.from([1, 2, 3]));
      expect(await raw.nextText('the binary ack')).to.equal(
        '61-9[{"file":{"_placeholder":true,"num":0}}]',
      );
      const attachment = await raw.next('the attachment');
      expect(Buffer.isBuffer(attachment) && [...attachment]).to.deep.equal([1, 2, 3]);
    });

    it('drops a namespace on DISCONNECT and keeps the Engine.IO connection', async function () {
      const raw = await h.raw();
      await raw.connect('/');
      const firstSid = await raw.connect('/custom');
      raw.send('1/custom,');
      expect(await reasons.next('the /custom disconnect')).to.equal(
        '/custom client namespace disconnect',
      );
      raw.send('22["echo","on /"]');
      expect(await raw.nextText('the / ack')).to.equal('32["on /"]');
      const secondSid = await raw.connect('/custom');
      expect(secondSid).to.not.equal(firstSid);
      raw.send('1');
      raw.send('2/custom,3["echo"]');
      expect(await raw.nextText('the /custom ack')).to.equal('3/custom,3["custom"]');
      expect(raw.ws.isOpen).to.be.true;
    });

    for (const { name, packet } of BAD_PACKETS) {
      it(`closes the connection on ${name} (${packet}), and serves others`, async function () {
        const bystander = await h.raw();
        await bystander.connect();
        const raw = await h.raw();
        await raw.connect();
        raw.send(packet);
        expect(await raw.closedWithin(), `closed after ${packet}`).to.be.true;
        bystander.send('24["echo","bystander"]');
        expect(await bystander.nextText('the bystander ack')).to.equal('34["bystander"]');
        await expectHealthy(h);
      });
    }

    it('closes a connection whose first packet is not CONNECT', async function () {
      const raw = await h.raw();
      raw.send('2["echo","too early"]');
      expect(await raw.closedWithin()).to.be.true;
      await expectHealthy(h);
    });

    it('closes a client that does not CONNECT within connectTimeout', async function () {
      const quick = await SioHarness.start({ asyncMode, connectTimeout: 1 });
      try {
        quick.io.on('echo', (value: unknown) => value);
        const idle = await quick.raw();
        const connected = await quick.raw();
        await connected.connect();
        expect(await idle.closedWithin(3000), 'closed by the connect timeout').to.be.true;
        expect(connected.ws.isOpen, 'a connected client stays').to.be.true;
        connected.send('21["echo","after"]');
        expect(await connected.nextText('the ack')).to.equal('31["after"]');
      } finally {
        await quick.stop();
      }
    });

    it('sends server events as 2["event",...args]', async function () {
      const raw = await h.raw();
      const sid = await raw.connect();
      h.io.emit('greet', 'hi', { to: sid });
      expect(await raw.nextText('the event')).to.equal('2["greet","hi"]');
    });
  });
}
