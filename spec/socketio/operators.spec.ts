/**
 * socket.io's chained emits: `io.to().in().except().emit()`, `io.of()`,
 * `io.volatile`, `io.timeout().emitWithAck()` (acks from many clients), from
 * outside handlers and from inside them (in worker-pool mode, inside a pool
 * thread). Every async mode, every transport of the official client.
 */
import { expect } from 'chai';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { OPERATOR_APP } from '../helpers/apps.js';
import { CLIENT_TRANSPORTS, SioHarness, syncAfter } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';
import type { Fanout } from '../fixtures/operator-handlers.js';
import { AcksTimeoutError, BroadcastOperator, SocketIO } from '../../lib/index.js';

/** The `news` each peer got (all its arguments), by peer name. */
function news(peers: Record<string, SioPeer>): Record<string, unknown[][]> {
  return Object.fromEntries(
    Object.entries(peers).map(([name, peer]) => [name, peer.inbox('news').items]),
  );
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`operators: to, except, of, volatile, emitWithAck [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      let peers: Record<string, SioPeer>;
      beforeEach(async function () {
        h = await SioHarness.withApp(asyncMode, transport, OPERATOR_APP);
        // a in r1; b in r1 and r2; c in r2; d in none; o on '/other' in r1.
        const [a, b, c, d, o] = await Promise.all([
          h.connect(),
          h.connect(),
          h.connect(),
          h.connect(),
          h.connect('/other'),
        ]);
        peers = { a, b, c, d, o };
        await Promise.all([
          a?.emitAck('join', 'r1'),
          b?.emitAck('join', 'r1', 'r2'),
          c?.emitAck('join', 'r2'),
          o?.emitAck('join', 'r1'),
        ]);
      });
      afterEach(() => h.stop());

      /** Emits through a handler of `from` (inside a handler), then waits for delivery. */
      async function fanout(from: SioPeer, where: Fanout, ...values: unknown[]): Promise<void> {
        expect(await from.emitAck('fanout', where, ...values)).to.deep.equal([true]);
        await syncAfter(
          [],
          Object.values(peers).filter((p) => p !== peers.o),
        );
        await peers.o?.emitAck('join');
      }

      it('io.to(room).emit reaches the room with every argument, from outside and inside handlers', async function () {
        h.io.to('r1').emit('news', 1, 'two', { three: 3 });
        await fanout(peers.d as SioPeer, { to: ['r2'] }, 'x');
        expect(news(peers)).to.deep.equal({
          a: [[1, 'two', { three: 3 }]],
          b: [[1, 'two', { three: 3 }], ['x']],
          c: [['x']],
          d: [],
          o: [],
        });
      });

      it('except skips the members of its rooms; to and in add up; an operator never changes', async function () {
        const base = h.io.to('r1');
        const narrowed = base.in('r2').except('r1');
        expect(narrowed).to.be.instanceOf(BroadcastOperator);
        base.emit('news', 'base');
        narrowed.emit('news', 'narrowed');
        await fanout(peers.a as SioPeer, { except: ['r2'] }, 'all but r2');
        expect(news(peers)).to.deep.equal({
          a: [['base'], ['all but r2']],
          b: [['base']],
          c: [['narrowed']],
          d: [['all but r2']],
          o: [],
        });
      });

      it('io.of(namespace) reaches that namespace only, its rooms by their names there', async function () {
        h.io.of('/other').to('r1').emit('news', 'other r1');
        await fanout(peers.a as SioPeer, { namespace: '/other' }, 'other all');
        expect(news(peers)).to.deep.equal({
          a: [],
          b: [],
          c: [],
          d: [],
          o: [['other r1'], ['other all']],
        });
      });

      it('emitWithAck resolves with every addressed client ack, from outside and inside handlers', async function () {
        for (const [name, peer] of Object.entries(peers))
          peer.socket.on('question', (q: string, ack: (a: string) => void) => ack(`${name}:${q}`));
        const outside = await h.io.to('r2').timeout(5).emitWithAck('question', 'q1');
        expect([...outside].sort()).to.deep.equal(['b:q1', 'c:q1']);
        const [inside] = await (peers.d as SioPeer).emitAck('poll', 'r1', 5, 'q2');
        expect((inside as { answers: string[] }).answers.sort()).to.deep.equal(['a:q2', 'b:q2']);
        expect(await h.io.to('nobody').emitWithAck('question', 'q3')).to.deep.equal([]);
      });

      it('emitWithAck rejects naming how many answered when a client stays silent or leaves', async function () {
        peers.a?.socket.on('question', (_q: string, ack: (a: string) => void) => ack('a'));
        // b has no handler for 'question', so it never answers.
        const error = await h.io
          .to('r1')
          .timeout(0.5)
          .emitWithAck('question', 'q')
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).to.be.instanceOf(AcksTimeoutError);
        expect((error as AcksTimeoutError).message).to.equal(
          '1 of 2 clients acknowledged "question" within 0.5 s',
        );
        expect((error as AcksTimeoutError).responses).to.deep.equal(['a']);
        // The same from inside a handler (in worker-pool mode, from a pool thread).
        const [inside] = await (peers.d as SioPeer).emitAck('poll', 'r1', 0.5, 'q');
        expect(inside).to.deep.equal({
          code: 'SIO_ERR_TIMEOUT',
          message: '1 of 2 clients acknowledged "question" within 0.5 s',
        });
        // c leaves instead of answering: no need to wait for the timeout.
        peers.b?.socket.on('question', (_q: string, ack: (a: string) => void) => ack('b'));
        const leaving = h.io.to('r2').timeout(30).emitWithAck('question', 'q');
        peers.c?.socket.disconnect();
        const early = await leaving.then(
          () => undefined,
          (e: unknown) => e as AcksTimeoutError,
        );
        expect(early?.message).to.equal(
          '1 of 2 clients acknowledged "question" within 30 s; 1 disconnected first',
        );
      });

      it('takes a socket.io-style ack callback as the last argument: (err, responses)', async function () {
        peers.c?.socket.on('question', (_q: string, ack: (a: string) => void) => ack('c'));
        peers.b?.socket.on('question', (_q: string, ack: (a: string) => void) => ack('b'));
        const answered = await new Promise<[Error | null, unknown[]]>((resolve) =>
          h.io
            .to('r2')
            .timeout(5)
            .emit('question', 'q', (error: Error | null, responses: unknown[]) =>
              resolve([error, responses]),
            ),
        );
        expect(answered[0]).to.equal(null);
        expect([...answered[1]].sort()).to.deep.equal(['b', 'c']);
      });

      it('volatile: every packet is delivered or counted as dropped, never queued behind', async function () {
        const before = h.io.volatileDropped;
        for (let i = 0; i < 50; i++) h.io.to('r2').volatile.emit('news', i);
        await fanout(peers.a as SioPeer, { to: ['r2'], volatile: true }, 'later');
        const got = (name: 'b' | 'c'): number => news(peers)[name]?.length ?? 0;
        const dropped = h.io.volatileDropped - before;
        expect(got('b') + got('c') + dropped).to.equal(102);
        if (transport.name === 'websocket') {
          // One tick: the first frame is still in the socket, so the other 49 are dropped.
          expect(news(peers).b?.slice(0, 1)).to.deep.equal([[0]]);
          expect(dropped).to.be.at.least(98);
        }
        // A normal emit after them arrives in order, whatever was dropped.
        h.io.to('r2').emit('news', 'last');
        await syncAfter([], [peers.b as SioPeer, peers.c as SioPeer]);
        expect(news(peers).b?.at(-1)).to.deep.equal(['last']);
      });
    });
  }
}

describe('operators: usage errors', function () {
  it('names the fix for a bad room and a bad timeout; emitWithAck with a message queue asks the cluster', async function () {
    const io = new SocketIO();
    expect(() => io.to(5 as never)).to.throw(/to\(room\): rooms are non-empty strings, got 5/);
    expect(() => io.except(['ok', ''])).to.throw(/except\(room\): rooms are non-empty strings/);
    expect(() => io.timeout(-1)).to.throw(/a positive number of seconds, got -1/);
    const queued = new SocketIO({
      messageQueue: 'redis://127.0.0.1:6379/0',
      channel: `operators-${process.pid}-${Date.now()}`,
    });
    await queued.run(undefined, { host: '127.0.0.1', port: 0 });
    try {
      // No client and no other process on its channel: nothing to wait for.
      expect(await queued.timeout(1).emitWithAck('q')).to.deep.equal([]);
      expect(await queued.local.timeout(1).emitWithAck('q')).to.deep.equal([]);
      expect(() => queued.timeout(0)).to.throw(/a positive number of seconds, got 0/);
    } finally {
      await queued.stop();
    }
  });
});
