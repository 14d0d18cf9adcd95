/**
 * The worker-pool async mode (threading's counterpart): sockets, actors and
 * rooms stay on the main thread; handlers and exported background tasks run
 * in pool threads that load the app module, and their effects come back in
 * order. Driven with the official socket.io-client over 127.0.0.1.
 *
 * Starting a pool costs thread startup, so each describe runs one server for
 * all its tests.
 */
import { existsSync, readdirSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { SocketIO } from '../../lib/index.js';
import type { EngineConnection } from '../../lib/index.js';
import { waitFor } from '../helpers/raw-engine.js';
import { SioPeer, bytesOf, within } from '../helpers/socketio.js';
import type { ClientOptions } from '../helpers/socketio.js';
import { expectPoolThread, watchUnhandledRejections } from '../helpers/schedulers.js';

type WorkerApp = typeof import('../fixtures/worker-app.js');
type ExtraApp = typeof import('../fixtures/worker-app-extra.js');

/** Opens official clients against one port and disconnects them all afterwards. */
class Peers {
  readonly #open: SioPeer[] = [];
  port = 0;

  /** A client that has connected to '/'. */
  async connect(options: ClientOptions = {}): Promise<SioPeer> {
    const peer = this.open(options);
    await within(peer.opened, 'the connection');
    return peer;
  }

  /** A client that is connecting to '/'. */
  open(options: ClientOptions = {}): SioPeer {
    const peer = new SioPeer(
      connect(`http://127.0.0.1:${this.port}`, {
        forceNew: true,
        reconnection: false,
        transports: ['websocket'],
        ...options,
      }),
    );
    this.#open.push(peer);
    return peer;
  }

  disconnectAll(): void {
    for (const peer of this.#open.splice(0)) peer.socket.disconnect();
  }
}

/** Emits with an ack callback and a timeout of `ms`; resolves with the ack arguments. */
function ackWithin(
  peer: SioPeer,
  ms: number,
  event: string,
  ...args: unknown[]
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    peer.socket.timeout(ms).emit(event, ...args, (error: Error | null, ...response: unknown[]) => {
      if (error !== null) reject(new Error(`no ack for "${event}": ${error.message}`));
      else resolve(response);
    });
  });
}

/** The process's OS threads (Linux), or undefined where /proc is not available. */
function osThreads(): number | undefined {
  return existsSync('/proc/self/task') ? readdirSync('/proc/self/task').length : undefined;
}

describe('worker-pool mode: handlers of the app module (spec/fixtures/worker-app)', function () {
  let app: WorkerApp;
  const peers = new Peers();

  before(async function () {
    expect(isMainThread).to.equal(true);
    app = await import('../fixtures/worker-app.js');
    peers.port = (await app.io.run(undefined, { host: '127.0.0.1', port: 0 })).port;
  });

  afterEach(function () {
    peers.disconnectAll();
  });

  after(async function () {
    peers.disconnectAll();
    await app.io.stop();
  });

  it('reports asyncMode worker-pool and runs a handler on a pool thread, not the main thread', async function () {
    expect(app.io.asyncMode).to.equal('worker-pool');
    expect(threadId).to.equal(0);
    const peer = await peers.connect();
    const [thread] = await peer.emitAck('where');
    expectPoolThread(thread);
  });

  it('runs the connect handler in a pool thread, where it can refuse the connection', async function () {
    const refused = peers.open({ auth: { refuse: true } });
    const error = await refused.opened.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(Error);
    const accepted = await peers.connect({ auth: { refuse: false } });
    // The connect handler wrote the thread it ran on into the session.
    const [[, connectedIn]] = (await accepted.emitAck('whoami')) as [[unknown, unknown]];
    expectPoolThread(connectedIn);
  });

  it('emit and send reach the client, ack() values become the ack, and session writes persist across events', async function () {
    const peer = await peers.connect();
    const [status, thread] = await peer.emitAck('greet', 'bob');
    expect(status).to.equal('ok');
    expectPoolThread(thread);
    expect(await peer.next('greeting')).to.deep.equal(['hi bob']);
    expect(await peer.next('message')).to.deep.equal(['welcome bob']);
    // The session written in a pool thread is kept on the main side for the next event.
    const [[name, connectedIn]] = (await peer.emitAck('whoami')) as [[unknown, unknown]];
    expect(name).to.equal('bob');
    expectPoolThread(connectedIn);
    // Another client has its own session.
    const other = await peers.connect();
    const [[otherName]] = (await other.emitAck('whoami')) as [[unknown]];
    expect(otherName).to.equal(null);
  });

  it('joinRoom and leaveRoom update rooms(); an emit to a room reaches the other members only', async function () {
    const alice = await peers.connect();
    const bob = await peers.connect();
    const [aliceRooms] = (await alice.emitAck('join', 'lobby')) as [string[]];
    expect(aliceRooms).to.have.members([alice.id, 'lobby']);
    const [bobRooms] = (await bob.emitAck('join', 'lobby')) as [string[]];
    expect(bobRooms).to.have.members([bob.id, 'lobby']);
    await alice.emitAck('say', 'lobby', 'hello');
    expect(await bob.next('said')).to.deep.equal(['hello']);
    // includeSelf: false; whatever the handler emitted was written before its ack.
    expect(alice.inbox('said').items).to.deep.equal([]);
    const [afterLeave] = (await bob.emitAck('leave', 'lobby')) as [string[]];
    expect(afterLeave).to.deep.equal([bob.id]);
    await alice.emitAck('say', 'lobby', 'anyone?');
    expect(bob.inbox('said').unread).to.deep.equal([]);
  });

  it('call() from a pool thread waits for the client’s answer', async function () {
    const peer = await peers.connect();
    peer.socket.on('question', (question: string, answer: (reply: string) => void) =>
      answer(`because ${question}`),
    );
    expect(await peer.emitAck('ask')).to.deep.equal(['because why?']);
  });

  it('an error handler’s return value becomes the ack (it runs in a pool thread too)', async function () {
    const peer = await peers.connect();
    const [outcome] = (await peer.emitAck('fail')) as [Record<string, unknown>];
    expect(outcome.error).to.equal('boom');
    expect(outcome.event).to.equal('fail');
    expectPoolThread(outcome.thread);
  });

  it('request() gives the handler the sid, the event and the query', async function () {
    const peer = await peers.connect({ query: { room: 'blue' } });
    const [info] = (await peer.emitAck('who')) as [
      { sid: unknown; event: unknown; query: Record<string, unknown> },
    ];
    expect(info.sid).to.equal(peer.id);
    expect(info.event).to.equal('who');
    expect(info.query.room).to.equal('blue');
  });

  it('every event sees its client’s handshake on both threads, also after a thread dropped what it kept, and threads drop a client’s handshake once it has gone', async function () {
    interface Seen {
      thread: number;
      query: unknown;
      header: unknown;
      held: number;
    }
    const options = { query: { probe: 'q' }, extraHeaders: { 'x-probe': 'h' } };
    const peer = await peers.connect(options);
    const other = await peers.connect();
    // An idle pool takes a task on its first thread; while the other client keeps that one
    // busy, the probe's event runs on the second. Both threads soon hold the probe's
    // handshake, and its events stop carrying it.
    let round = 0;
    const handshake = async (): Promise<Seen> => {
      const busy = round++ % 2 === 0 ? ackWithin(other, 5000, 'burn', 30) : undefined;
      if (busy !== undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      const [[seen]] = await Promise.all([peer.emitAck('handshake') as Promise<[Seen]>, busy]);
      expect([seen.query, seen.header]).to.deep.equal(['q', 'h']);
      return seen;
    };
    const threads = new Set<number>();
    for (let i = 0; i < 40 && threads.size < 2; i++) threads.add((await handshake()).thread);
    expect(threads.size).to.equal(2);
    // One thread forgets every handshake it kept; the main thread still believes it has them.
    const [dropped] = (await peer.emitAck('drop-handshakes')) as [number];
    let after: Seen | undefined;
    for (let i = 0; i < 40 && after?.thread !== dropped; i++) after = await handshake();
    expect(after?.thread).to.equal(dropped);
    // Gone clients' handshakes are dropped: a new client's thread keeps only its own.
    peers.disconnectAll();
    const fresh = await peers.connect(options);
    let held = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 20 && held > 1; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      held = ((await fresh.emitAck('handshake')) as [Seen])[0].held;
    }
    expect(held, 'handshakes a thread holds besides the new client’s own').to.equal(1);
  });

  it('binary arguments cross the thread boundary and come back to the client as Buffers', async function () {
    const peer = await peers.connect();
    const [flat] = await peer.emitAck('echo', Buffer.from([1, 2, 3]));
    expect(Buffer.isBuffer(flat)).to.equal(true);
    expect(bytesOf(flat)).to.deep.equal([1, 2, 3]);
    const [nested] = (await peer.emitAck('echo', { label: 'x', data: Buffer.from([9, 8]) })) as [
      { label: unknown; data: unknown },
    ];
    expect(nested.label).to.equal('x');
    expect(Buffer.isBuffer(nested.data)).to.equal(true);
    expect(bytesOf(nested.data)).to.deep.equal([9, 8]);
  });

  it('applies effects in the order the handler made them: every step, then the ack', async function () {
    const peer = await peers.connect();
    const seen: string[] = [];
    peer.socket.on('step', (i: number) => seen.push(`step ${i}`));
    const [done] = await ackWithin(peer, 5000, 'progress', 20);
    seen.push(`ack ${String(done)}`);
    const expected = Array.from({ length: 20 }, (_, i) => `step ${i + 1}`);
    expect(seen).to.deep.equal([...expected, 'ack done']);
  });

  it('runs many clients’ events queued at once in batches: all run, each client’s in order, each effect before its ack', async function () {
    const clients = 30;
    const events = 8;
    const all = await Promise.all(Array.from({ length: clients }, () => peers.connect()));
    const seen = all.map(() => [] as string[]);
    const turns = new Map<string, number>();
    all.forEach((peer, c) =>
      peer.socket.on('numbered-effect', (i: number) => seen[c]?.push(`effect ${i}`)),
    );
    // Every client sends all its events at once: the main thread queues them together. An
    // ack is recorded in its callback, in the order the client read it (a promise would
    // record it a microtask later than an effect read just after it).
    await Promise.all(
      all.flatMap((peer, c) =>
        Array.from(
          { length: events },
          (_, i) =>
            new Promise<void>((resolve, reject) => {
              peer.socket
                .timeout(10_000)
                .emit('numbered', c, i, (error: Error | null, answer: [number, number, string]) => {
                  if (error !== null) return reject(error);
                  seen[c]?.push(`ack ${i}`);
                  const [client, n, where] = answer;
                  turns.set(where, (turns.get(where) ?? 0) + 1);
                  if (client === c && n === i) resolve();
                  else reject(new Error(`client ${c} event ${i} was answered ${client}, ${n}`));
                });
            }),
        ),
      ),
    );
    const expected = Array.from({ length: events }, (_, i) => [`effect ${i}`, `ack ${i}`]).flat();
    for (const order of seen) expect(order).to.deep.equal(expected);
    // One pool task per event would run each in a turn of its own.
    expect(Math.max(...turns.values())).to.be.greaterThan(1);
  });

  it('a CPU-bound handler does not delay another client’s messages', async function () {
    const busy = await peers.connect();
    const idle = await peers.connect();
    const settled: string[] = [];
    const burn = ackWithin(busy, 5000, 'burn', 1000).then((response) => {
      settled.push('burn');
      return response;
    });
    for (let i = 0; i < 5; i++) {
      expect(await idle.emitAck('echo', i)).to.deep.equal([i]);
      settled.push(`echo ${i}`);
    }
    const [burnThread] = await burn;
    expectPoolThread(burnThread);
    expect(settled).to.deep.equal(['echo 0', 'echo 1', 'echo 2', 'echo 3', 'echo 4', 'burn']);
  });

  describe('background tasks', function () {
    it('runs a function the app module exports in the pool', async function () {
      const task = app.io.startBackgroundTask(app.double, 21);
      expect(task.mode).to.equal('worker-pool');
      expect(task.isAlive()).to.equal(true);
      const result = await task.join();
      expect(result.value).to.equal(42);
      expectPoolThread(result.thread);
      expect(task.isAlive()).to.equal(false);
      expect(task.result).to.deep.equal(result);
    });

    it('runs a closure that cannot move to a worker on the main thread, with the same join()', async function () {
      const task = app.io.startBackgroundTask(async (n: number) => {
        await app.io.sleep(0);
        return { n, thread: threadId };
      }, 5);
      expect(task.mode).to.equal('event-loop');
      expect(task.isAlive()).to.equal(true);
      expect(await task.join()).to.deep.equal({ n: 5, thread: 0 });
      expect(task.isAlive()).to.equal(false);
    });
  });

  it('runs again after stop(): a new pool loads the app module and runs handlers in its threads', async function () {
    this.timeout(20000);
    const before = await peers.connect();
    expectPoolThread((await before.emitAck('where'))[0]);
    peers.disconnectAll();
    await app.io.stop();
    peers.port = (await app.io.run(undefined, { host: '127.0.0.1', port: 0 })).port;
    const after = await peers.connect();
    expectPoolThread((await after.emitAck('where'))[0]);
    expect(await after.emitAck('echo', { again: true })).to.deep.equal([{ again: true }]);
  });
});

describe('worker-pool mode: heartbeats, tasks and values that cannot cross threads (spec/fixtures/worker-app-extra)', function () {
  let app: ExtraApp;
  const peers = new Peers();
  const closes: string[] = [];

  before(async function () {
    app = await import('../fixtures/worker-app-extra.js');
    app.io.engine.on('connection', (conn: EngineConnection) =>
      conn.on('close', (reason) => closes.push(reason)),
    );
    peers.port = (await app.io.run(undefined, { host: '127.0.0.1', port: 0 })).port;
  });

  afterEach(function () {
    peers.disconnectAll();
  });

  after(async function () {
    peers.disconnectAll();
    await app.io.stop();
  });

  /** What the server logged at error level since `from`. */
  function logsSince(from: number): string[] {
    return app.errorLogs.slice(from);
  }

  it('a CPU-bound handler does not delay heartbeats: an idle client keeps being pinged and stays connected', async function () {
    const busy = await peers.connect();
    const idle = await peers.connect();
    let pings = 0;
    idle.socket.io.on('ping', () => pings++);
    const closesBefore = closes.length;
    // A 0.2 s ping interval: during the 1 s burn in a pool thread a blocked main thread would
    // ping nobody (the pings counted below), and would drop both clients.
    const [burnThread] = await ackWithin(busy, 5000, 'burn', 1000);
    expectPoolThread(burnThread);
    expect(pings).to.be.at.least(2);
    expect(idle.socket.connected).to.equal(true);
    expect(busy.socket.connected).to.equal(true);
    expect(closes.slice(closesBefore)).to.deep.equal([]);
    expect(await idle.emitAck('echo', 'still here')).to.deep.equal(['still here']);
  });

  it('a result that cannot be structured-cloned is a clear error (the error handler’s ack), and the next request works', async function () {
    const peer = await peers.connect();
    const [outcome] = (await peer.emitAck('unclonable result')) as [{ error: unknown }];
    expect(outcome.error)
      .to.be.a('string')
      .and.match(/structured clone/);
    expect(await peer.emitAck('echo', 'next')).to.deep.equal(['next']);
  });

  it('an emit argument that cannot be structured-cloned is a clear error, and the next request works', async function () {
    const peer = await peers.connect();
    const [outcome] = (await peer.emitAck('unclonable emit')) as [{ error: unknown }];
    expect(outcome.error)
      .to.be.a('string')
      .and.match(/structured clone/);
    expect(peer.inbox('never').items).to.deep.equal([]);
    expect(await peer.emitAck('echo', 'next')).to.deep.equal(['next']);
  });

  it('a session value that cannot be cloned into a pool thread is logged clearly; the server keeps serving', async function () {
    const peer = await peers.connect();
    expect(await peer.emitAck('stash unclonable')).to.deep.equal(['stashed']);
    const from = app.errorLogs.length;
    peer.socket.emit('echo', 'lost');
    expect(await waitFor(() => logsSince(from).length > 0, 2000)).to.equal(true);
    expect(logsSince(from).join('\n'))
      .to.match(/structured clone/)
      .and.match(/"echo"/);
    // Another client is served meanwhile, and this one again once the session is clean.
    const other = await peers.connect();
    expect(await other.emitAck('echo', 'other')).to.deep.equal(['other']);
    expect(await peer.emitAck('forget unclonable')).to.deep.equal(['forgotten']);
    expect(await peer.emitAck('echo', 'back')).to.deep.equal(['back']);
  });

  it('a background task started by a handler inside a pool thread runs in the pool', async function () {
    const peer = await peers.connect();
    const [report] = (await peer.emitAck('spawn', 7)) as [
      { mode: unknown; handlerThread: unknown; result: { k: unknown; thread: unknown } },
    ];
    expect(report.mode).to.equal('worker-pool');
    expectPoolThread(report.handlerThread);
    expect(report.result.k).to.equal(7);
    expectPoolThread(report.result.thread);
  });

  it('an exported task that throws rejects join() and is logged, never crashes, and the pool keeps running tasks', async function () {
    const watch = watchUnhandledRejections();
    try {
      const from = app.errorLogs.length;
      const failing = app.io.startBackgroundTask(app.explode, 'kaboom');
      expect(failing.mode).to.equal('worker-pool');
      const error = await failing.join().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.equal('kaboom');
      expect(failing.isAlive()).to.equal(false);
      expect(logsSince(from).join('\n'))
        .to.match(/background task failed/)
        .and.match(/kaboom/);
      const next = app.io.startBackgroundTask(app.slowWhere, 5);
      expect(next.mode).to.equal('worker-pool');
      expectPoolThread(await next.join());
      expect(watch.reasons).to.deep.equal([]);
    } finally {
      watch.stop();
    }
  });

  it('a main-thread closure that throws rejects join() and is logged', async function () {
    const from = app.errorLogs.length;
    const failing = app.io.startBackgroundTask(async () => {
      await app.io.sleep(0);
      throw new Error('closure failed');
    });
    expect(failing.mode).to.equal('event-loop');
    const error = await failing.join().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).to.equal('closure failed');
    expect(logsSince(from).join('\n')).to.match(/closure failed/);
  });
});

describe('worker-pool mode: io.stop()', function () {
  const appModule = new URL('../fixtures/worker-tasks.js', import.meta.url).href;

  it('destroys the pool: its threads end, and a new server can start and use a pool of its own', async function () {
    const tasks = await import('../fixtures/worker-tasks.js');
    const first = new SocketIO({ asyncMode: 'worker-pool', appModule, workers: 2 });
    await first.run(undefined, { host: '127.0.0.1', port: 0 });
    const task = first.startBackgroundTask(tasks.whereAmI);
    expect(task.mode).to.equal('worker-pool');
    expectPoolThread(await task.join());
    const running = osThreads();
    await first.stop();
    const stopped = osThreads();
    if (running !== undefined && stopped !== undefined) {
      // Both pool threads are gone once stop() resolves.
      expect(stopped).to.be.at.most(running - 2);
    }

    const second = new SocketIO({ asyncMode: 'worker-pool', appModule, workers: 1 });
    try {
      const { port } = await second.run(undefined, { host: '127.0.0.1', port: 0 });
      expect(port).to.be.greaterThan(0);
      const again = second.startBackgroundTask(tasks.whereAmI);
      expect(again.mode).to.equal('worker-pool');
      expectPoolThread(await again.join());
    } finally {
      await second.stop();
    }
  });
});
