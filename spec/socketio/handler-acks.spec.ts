/**
 * The Flask-style emit that waits for acks: `emit(…, { timeout, callback })` inside a
 * handler (in worker-pool mode, inside a pool thread) and `io.emit(…, { timeout, callback })`
 * outside, with socket.io's callback shapes: `(err, ...ackArgs)` from the sender alone,
 * `(err, responses)` from a broadcast or rooms. Every async mode, every transport.
 */
import { expect } from 'chai';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { OPERATOR_APP } from '../helpers/apps.js';
import { CLIENT_TRANSPORTS, SioHarness } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';
import type { AskWhere } from '../fixtures/operator-handlers.js';
import { AcksTimeoutError, SocketIO } from '../../lib/index.js';

/** What an `ask` handler resolved with: `ok` the callback's arguments after `err`. */
interface Asked {
  readonly ok?: unknown[];
  readonly code?: string;
  readonly message?: string;
  readonly rest?: unknown[];
}

/** Sorts the responses array a broadcast's callback got. */
function sortedResponses(asked: Asked): unknown[] {
  const [responses] = (asked.ok ?? asked.rest ?? []) as [string[]];
  return [...responses].sort();
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`emit(…, { timeout, callback }) [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      let peers: Record<'a' | 'b' | 'c', SioPeer>;
      beforeEach(async function () {
        h = await SioHarness.withApp(asyncMode, transport, OPERATOR_APP);
        // a in r1; b in r1 and r2; c in r2. a and c answer questions, b stays silent.
        const [a, b, c] = await Promise.all([h.connect(), h.connect(), h.connect()]);
        peers = { a, b, c };
        await Promise.all([
          a.emitAck('join', 'r1'),
          b.emitAck('join', 'r1', 'r2'),
          c.emitAck('join', 'r2'),
        ]);
        for (const name of ['a', 'c'] as const)
          peers[name].socket.on('question', (q: string, ack: (...a: unknown[]) => void) =>
            ack(`${name}:${q}`, 'second'),
          );
      });
      afterEach(() => h.stop());

      async function ask(from: SioPeer, where: AskWhere | null, seconds: number): Promise<Asked> {
        const [asked] = await from.emitAck('ask', where, seconds, 'q');
        return asked as Asked;
      }

      it('to the sender: the callback gets (null, ...ackArgs), and emit() works inside it', async function () {
        const asked = await ask(peers.a, null, 5);
        expect(asked).to.deep.equal({ ok: ['a:q', 'second'] });
        expect(peers.a.inbox('asked').items).to.deep.equal([[true]]);
      });

      it('to the sender that stays silent: the callback gets the timeout error', async function () {
        expect(await ask(peers.b, null, 0.3)).to.deep.equal({
          code: 'SIO_ERR_TIMEOUT',
          message: 'no acknowledgement for "question" within 0.3 s',
          rest: [],
        });
      });

      it('to a room: the callback gets (null, responses), every member’s first ack argument', async function () {
        // a is not in r2; b is, and answers this time.
        peers.b.socket.on('question', (q: string, ack: (a: string) => void) => ack(`b:${q}`));
        const asked = await ask(peers.a, { to: ['r2'] }, 5);
        expect(sortedResponses(asked)).to.deep.equal(['b:q', 'c:q']);
        expect(asked.code).to.equal(undefined);
      });

      it('a broadcast leaving out the sender; a silent member: (AcksTimeoutError, what came)', async function () {
        const everyone = await ask(peers.c, { broadcast: true, includeSelf: false }, 0.3);
        expect(everyone.code).to.equal('SIO_ERR_TIMEOUT');
        expect(everyone.message).to.equal('1 of 2 clients acknowledged "question" within 0.3 s');
        expect(sortedResponses(everyone)).to.deep.equal(['a:q']);
      });

      it('io.emit(…, { to, timeout, callback }) from outside a handler', async function () {
        const [error, responses] = await new Promise<[unknown, unknown]>((resolve) =>
          h.io.emit('question', 'out', {
            to: 'r1',
            timeout: 0.3,
            callback: (e: unknown, r: unknown) => resolve([e, r]),
          }),
        );
        expect(error).to.be.instanceOf(AcksTimeoutError);
        expect(responses).to.deep.equal(['a:out']);
        const [none, all] = await new Promise<[unknown, unknown]>((resolve) =>
          h.io.emit('question', 'out', {
            to: ['r2'],
            skipSid: peers.b.socket.id,
            timeout: 5,
            callback: (e: unknown, r: unknown) => resolve([e, r]),
          }),
        );
        expect([none, all]).to.deep.equal([null, ['c:out']]);
      });
    });
  }
}

describe('emit(…, { timeout, callback }): usage errors', function () {
  it('names the fix for a callback on a broadcast without timeout, a timeout without callback, a bad timeout', function () {
    const io = new SocketIO();
    const callback = (): void => undefined;
    expect(() => io.emit('q', 1, { callback })).to.throw(
      /a callback needs to: a sid, or \{ timeout: seconds \}/,
    );
    expect(() => io.emit('q', 1, { to: ['r1', 'r2'], callback })).to.throw(
      /\{ timeout: seconds \}/,
    );
    expect(() => io.emit('q', 1, { timeout: 2 })).to.throw(/needs a callback/);
    expect(() => io.emit('q', 1, { timeout: 0, callback })).to.throw(
      /timeout is a positive number of seconds, got 0/,
    );
  });
});
