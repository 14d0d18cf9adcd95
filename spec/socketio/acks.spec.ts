/**
 * Acknowledgements both ways with the official client: a handler's return
 * value as the client's ack, the `callback` of a server emit, and `call()`
 * resolving, rejecting on disconnect and timing out.
 */
import { expect } from 'chai';
import { CallTimeoutError, DisconnectedError, ack, call, emit, request } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { CLIENT_TRANSPORTS, SioHarness, bytesOf, deferred, within } from '../helpers/socketio.js';

/** The client side of an ack: the callback the official client passes to a handler. */
type AckCallback = (...values: unknown[]) => void;

/** What a server-side `call()` settled with. */
type Outcome = { ok: true; value: unknown[] } | { ok: false; error: unknown; ms: number };

async function settle(work: () => Promise<unknown[]>): Promise<Outcome> {
  const started = Date.now();
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error, ms: Date.now() - started };
  }
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`acknowledgements [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode }, transport);
      });
      afterEach(() => h.stop());

      it('acks with no arguments when the handler returns undefined', async function () {
        h.io.on('nothing', () => undefined);
        const peer = await h.connect();
        expect(await peer.emitAck('nothing')).to.deep.equal([]);
      });

      it('acks with one argument for a returned value', async function () {
        h.io.on('double', (n: number) => ({ doubled: n * 2, list: [n] }));
        h.io.on('null', () => null);
        const peer = await h.connect();
        expect(await peer.emitAck('double', 21)).to.deep.equal([{ doubled: 42, list: [21] }]);
        expect(await peer.emitAck('null')).to.deep.equal([null]);
      });

      it("acks with several arguments for ack('one', 2)", async function () {
        h.io.on('pair', () => ack('one', 2));
        const peer = await h.connect();
        expect(await peer.emitAck('pair')).to.deep.equal(['one', 2]);
      });

      it('acks when an async handler resolves', async function () {
        h.io.on('slow', async (name: string) => {
          await h.io.sleep(0.05);
          return ack('done', name);
        });
        const peer = await h.connect();
        expect(await peer.emitAck('slow', 'job')).to.deep.equal(['done', 'job']);
      });

      it('acks with binary data', async function () {
        h.io.on('bytes', () =>
          ack(Buffer.from([1, 2, 3]), { nested: [new Uint8Array([4]).buffer] }),
        );
        const peer = await h.connect();
        const [buffer, wrapper] = await peer.emitAck('bytes');
        expect(bytesOf(buffer)).to.deep.equal([1, 2, 3]);
        const nested = (wrapper as { nested: unknown[] }).nested;
        expect(bytesOf(nested[0])).to.deep.equal([4]);
      });

      it("calls an emit's callback with the client's ack arguments", async function () {
        const answered = deferred<unknown[]>();
        h.io.on('start', () =>
          emit('question', 'why?', {
            callback: (...values: unknown[]) => answered.resolve(values),
          }),
        );
        const peer = await h.connect();
        peer.socket.on('question', (q: unknown, reply: AckCallback) => reply('because', q));
        peer.socket.emit('start');
        expect(await within(answered.promise, 'the callback')).to.deep.equal(['because', 'why?']);
      });

      it("resolves call() with the client's ack arguments", async function () {
        const outcome = deferred<Outcome>();
        h.io.on('ask me', async () => {
          outcome.resolve(await settle(() => call('quiz', { q: 1 }, { timeout: 5 })));
        });
        const peer = await h.connect();
        peer.socket.on('quiz', (q: unknown, reply: AckCallback) => reply('answer', q, 3));
        peer.socket.emit('ask me');
        expect(await within(outcome.promise, 'call()')).to.deep.equal({
          ok: true,
          value: ['answer', { q: 1 }, 3],
        });
      });

      it('rejects call() at once when the client disconnects', async function () {
        const outcome = deferred<Outcome>();
        h.io.on('ask me', async () => {
          outcome.resolve(await settle(() => call('quiz', undefined, { timeout: 10 })));
        });
        const peer = await h.connect();
        peer.socket.on('quiz', () => peer.socket.disconnect());
        peer.socket.emit('ask me');
        const result = await within(outcome.promise, 'call() to reject');
        expect(result.ok).to.be.false;
        if (result.ok) return;
        expect(result.error).to.be.instanceOf(DisconnectedError);
        expect(result.ms, 'rejected well before the 10 s timeout').to.be.below(2000);
      });

      it('rejects call() with a timeout error when the client never acks', async function () {
        const outcome = deferred<Outcome>();
        const sids = deferred<string>();
        h.io.on('ask me', async () => {
          sids.resolve(request().sid);
          outcome.resolve(await settle(() => call('quiz', undefined, { timeout: 0.3 })));
        });
        const peer = await h.connect();
        const asked = peer.next('quiz');
        peer.socket.emit('ask me');
        await asked;
        const result = await within(outcome.promise, 'call() to time out');
        expect(result.ok).to.be.false;
        if (result.ok) return;
        expect(result.error).to.be.instanceOf(CallTimeoutError);
        expect((result.error as CallTimeoutError).code).to.equal('SIO_ERR_TIMEOUT');
        expect(result.ms).to.be.at.least(250);
        expect(peer.socket.connected, 'a timeout does not disconnect').to.be.true;
        expect(await sids.promise).to.equal(peer.id);
      });
    });
  }
}
