/**
 * Error handlers with the official client: per namespace, the default one,
 * their view of the failing event, their return value as the ack, and what
 * happens with no error handler at all.
 */
import { expect } from 'chai';
import { request } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { Inbox } from '../helpers/raw-engine.js';
import { CLIENT_TRANSPORTS, SioHarness } from '../helpers/socketio.js';

/** What an error handler saw. */
interface Seen {
  readonly handler: string;
  readonly error: string;
  readonly event: string;
  readonly args: readonly unknown[];
  readonly namespace: string;
}

function recorder(name: string, seen: Inbox<Seen>, answer?: unknown): (error: unknown) => unknown {
  return (error: unknown) => {
    const { event, namespace } = request();
    seen.push({
      handler: name,
      error: error instanceof Error ? error.message : String(error),
      event: event.message,
      args: event.args,
      namespace,
    });
    return answer;
  };
}

function fail(text: string): never {
  throw new Error(text);
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`error handlers [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode }, transport);
      });
      afterEach(() => h.stop());

      it("sends the thrown error and the event to io.onError's handler, whose value is the ack", async function () {
        const seen = new Inbox<Seen>();
        h.io.onError(recorder('root', seen, { handled: true }));
        h.io.on('explode', (_n: number) => fail('boom'));
        const peer = await h.connect();
        expect(await peer.emitAck('explode', 5)).to.deep.equal([{ handled: true }]);
        expect(await seen.next()).to.deep.equal({
          handler: 'root',
          error: 'boom',
          event: 'explode',
          args: [5],
          namespace: '/',
        });
      });

      it('routes a rejected async handler to the error handler', async function () {
        const seen = new Inbox<Seen>();
        h.io.onError(recorder('root', seen, 'recovered'));
        h.io.on('later', async () => {
          await h.io.sleep(0.01);
          fail('async boom');
        });
        const peer = await h.connect();
        expect(await peer.emitAck('later')).to.deep.equal(['recovered']);
        expect((await seen.next()).error).to.equal('async boom');
      });

      it("uses io.onError('/chat', handler) for /chat only, and onErrorDefault for the rest", async function () {
        const seen = new Inbox<Seen>();
        h.io.onError(recorder('root', seen, 'root'));
        h.io.onError('/chat', recorder('chat', seen, 'chat'));
        h.io.onErrorDefault(recorder('default', seen, 'default'));
        for (const nsp of ['/', '/chat', '/other'])
          h.io.on('explode', () => fail(`boom in ${nsp}`), { namespace: nsp });
        const root = await h.connect('/');
        const chat = await h.connect('/chat');
        const other = await h.connect('/other');
        expect(await chat.emitAck('explode')).to.deep.equal(['chat']);
        expect(await seen.next()).to.include({
          handler: 'chat',
          error: 'boom in /chat',
          namespace: '/chat',
        });
        expect(await other.emitAck('explode')).to.deep.equal(['default']);
        expect(await seen.next()).to.include({
          handler: 'default',
          error: 'boom in /other',
          namespace: '/other',
        });
        expect(await root.emitAck('explode')).to.deep.equal(['root']);
        expect(await seen.next()).to.include({ handler: 'root', error: 'boom in /' });
      });

      it('acks with no arguments when the error handler returns nothing', async function () {
        const seen = new Inbox<Seen>();
        h.io.onError(recorder('root', seen));
        h.io.on('explode', () => fail('quiet'));
        const peer = await h.connect();
        expect(await peer.emitAck('explode')).to.deep.equal([]);
      });

      it('keeps serving without an error handler, logs the event name and sends no stack trace', async function () {
        h.io.on('explode', () => fail('secret failure detail'));
        h.io.on('echo', (value: unknown) => value);
        const peer = await h.connect();
        let acked = false;
        peer.socket.emit('explode', 1, () => {
          acked = true;
        });
        // Events are handled in order: this ack proves the failing one was handled.
        expect(await peer.emitAck('echo', 'alive')).to.deep.equal(['alive']);
        expect(acked, 'no ack after a failure without an error handler').to.be.false;
        expect(peer.events.items, 'nothing about the error reaches the client').to.deep.equal([]);
        expect(peer.socket.connected).to.be.true;
        const other = await h.connect();
        expect(await other.emitAck('echo', 'new client')).to.deep.equal(['new client']);
        expect(h.errorLogs.join('\n')).to.contain('explode').and.to.contain('secret failure');
      });

      it('survives an error handler that throws itself', async function () {
        h.io.onError(() => fail('the error handler failed'));
        h.io.on('explode', () => fail('first'));
        h.io.on('echo', (value: unknown) => value);
        const peer = await h.connect();
        let acked = false;
        peer.socket.emit('explode', () => {
          acked = true;
        });
        expect(await peer.emitAck('echo', 'fine')).to.deep.equal(['fine']);
        expect(acked).to.be.false;
        expect(peer.events.items).to.deep.equal([]);
      });
    });
  }
}
