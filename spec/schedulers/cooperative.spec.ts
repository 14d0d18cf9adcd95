/**
 * The cooperative async mode (gevent's counterpart): one fair run queue, a
 * task runs until it yields, and an optional virtual clock whose time jumps to
 * the next timer when every task waits. Tested on the scheduler directly and
 * through `new SocketIO({ asyncMode: 'cooperative' })`.
 */
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { realClock, VirtualClock } from '../../schedulers/clock.js';
import { CooperativeScheduler } from '../../schedulers/cooperative.js';
import type { CooperativeSchedulerOptions } from '../../schedulers/cooperative.js';
import type { Clock, Scheduler, Task, TimerHandle } from '../../schedulers/scheduler.js';
import { SocketIO, args, emit } from '../../lib/index.js';
import type { EngineConnection } from '../../lib/index.js';
import { RawPolling, waitFor } from '../helpers/raw-engine.js';
import { SioPeer, recordingLogger, within } from '../helpers/socketio.js';
import { describeSchedulerContract, hasSettled } from '../helpers/schedulers.js';
import { WireWs } from '../helpers/wire-ws.js';

/** Resolves after one turn of Node's event loop (the scheduler's turns run in setImmediate). */
function loopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Starts a generator function as a background task. The scheduler steps the
 * generator and the task ends with its return value, which
 * `startBackgroundTask`'s signature cannot express for generators.
 */
function startGenerator<T>(
  scheduler: Scheduler,
  body: () => Generator<unknown, T, unknown>,
): Task<T> {
  return scheduler.startBackgroundTask(body) as unknown as Task<T>;
}

/** A clock that moves only by hand and is not a VirtualClock (so nothing advances it). */
class ManualClock implements Clock {
  readonly inner = new VirtualClock();
  now(): number {
    return this.inner.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.inner.setTimeout(fn, ms);
  }
  clearTimeout(handle: TimerHandle): void {
    this.inner.clearTimeout(handle);
  }
}

/** Busy-waits for `ms` milliseconds of real time. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // burn CPU
  }
}

/**
 * Runs `tasks` background tasks that each record `<task>.<round>` then yield
 * with sleep(0), `rounds` times; returns the order the steps ran in.
 * `slowMs(task, round)` is real time the step spends computing first (none by default).
 */
async function interleaving(
  options: CooperativeSchedulerOptions,
  tasks = 6,
  rounds = 5,
  slowMs: (task: number, round: number) => number = () => 0,
): Promise<string[]> {
  const scheduler = new CooperativeScheduler(options);
  const order: string[] = [];
  const started: Task<void>[] = [];
  for (let t = 0; t < tasks; t++) {
    started.push(
      scheduler.startBackgroundTask(async () => {
        for (let r = 0; r < rounds; r++) {
          spin(slowMs(t, r));
          order.push(`${t}.${r}`);
          await scheduler.sleep(0);
        }
      }),
    );
  }
  await Promise.all(started.map((task) => task.join()));
  await scheduler.close();
  return order;
}

/** The round-robin order of {@link interleaving} without a seed. */
function roundRobin(tasks = 6, rounds = 5): string[] {
  const order: string[] = [];
  for (let r = 0; r < rounds; r++) for (let t = 0; t < tasks; t++) order.push(`${t}.${r}`);
  return order;
}

describe('CooperativeScheduler', function () {
  it('is the cooperative mode, on the real clock by default and a VirtualClock with clock: virtual', async function () {
    const real = new CooperativeScheduler();
    expect(real.mode).to.equal('cooperative');
    expect(real.clock).to.equal(realClock);
    const virtual = new CooperativeScheduler({ clock: 'virtual' });
    expect(virtual.clock).to.be.instanceOf(VirtualClock);
    expect(virtual.clock.now()).to.equal(0);
    const manual = new ManualClock();
    expect(new CooperativeScheduler({ clock: manual }).clock).to.equal(manual);
    await real.close();
    await virtual.close();
  });

  describeSchedulerContract((onTaskError) => new CooperativeScheduler({ onTaskError }));

  describe('startBackgroundTask', function () {
    it('returns a task that is already started: it runs without join(), with its arguments', async function () {
      const scheduler = new CooperativeScheduler();
      const seen: number[] = [];
      const task = scheduler.startBackgroundTask(
        (a: number, b: number) => {
          seen.push(a, b);
          return a + b;
        },
        2,
        3,
      );
      expect(task.mode).to.equal('cooperative');
      // Nobody joins yet: the task still runs on its turn.
      await waitFor(() => seen.length > 0);
      expect(seen).to.deep.equal([2, 3]);
      expect(await task.join()).to.equal(5);
      expect(task.result).to.equal(5);
    });

    it('steps a generator task: a bare yield gives up the turn, yield promise sends back its value', async function () {
      const scheduler = new CooperativeScheduler();
      const order: string[] = [];
      const gen = startGenerator(scheduler, function* () {
        order.push('gen 1');
        yield;
        order.push('gen 2');
        const value = (yield Promise.resolve(20)) as number;
        order.push(`gen got ${value}`);
        return value + 1;
      });
      const other = scheduler.startBackgroundTask(async () => {
        order.push('other 1');
        await scheduler.sleep(0);
        order.push('other 2');
      });
      expect(await gen.join()).to.equal(21);
      await other.join();
      expect(gen.result).to.equal(21);
      // The bare yield let the other task run its first step in between.
      expect(order.slice(0, 3)).to.deep.equal(['gen 1', 'other 1', 'gen 2']);
      expect(order).to.include('gen got 20');
    });

    it('throws a yielded promise’s rejection into the generator, where it can be caught', async function () {
      const scheduler = new CooperativeScheduler();
      const task = startGenerator(scheduler, function* () {
        try {
          yield Promise.reject(new Error('nope'));
          return 'not reached';
        } catch (error) {
          return `caught ${(error as Error).message}`;
        }
      });
      expect(await task.join()).to.equal('caught nope');
    });
  });

  describe('sleep', function () {
    it('sleep(0) and sleep() let every other ready task run before the caller continues', async function () {
      for (const nap of [0, undefined]) {
        const scheduler = new CooperativeScheduler();
        const order: string[] = [];
        const tasks = ['a', 'b', 'c'].map((name) =>
          scheduler.startBackgroundTask(async () => {
            for (let i = 0; i < 3; i++) {
              order.push(`${name}${i}`);
              await scheduler.sleep(nap);
            }
          }),
        );
        await Promise.all(tasks.map((t) => t.join()));
        expect(order, `sleep(${String(nap)})`).to.deep.equal([
          'a0',
          'b0',
          'c0',
          'a1',
          'b1',
          'c1',
          'a2',
          'b2',
          'c2',
        ]);
      }
    });

    it('sleep(seconds) waits on the scheduler clock', async function () {
      const clock = new ManualClock();
      const scheduler = new CooperativeScheduler({ clock });
      const slept = scheduler.sleep(5);
      expect(clock.inner.pending).to.equal(1);
      clock.inner.advance(4_999);
      expect(await hasSettled(slept)).to.equal(false);
      clock.inner.advance(1);
      expect(await hasSettled(slept)).to.equal(true);
    });

    it('sleep(seconds) on the real clock takes at least about that long', async function () {
      const scheduler = new CooperativeScheduler();
      const began = performance.now();
      await scheduler.sleep(0.02);
      expect(performance.now() - began).to.be.at.least(19);
    });

    it('rejects (never throws synchronously) for a negative or non-finite number of seconds', async function () {
      const scheduler = new CooperativeScheduler();
      for (const bad of [-1, NaN, Infinity]) {
        let pending: Promise<void> | undefined;
        expect(() => (pending = scheduler.sleep(bad)), String(bad)).not.to.throw();
        const error = await (pending as Promise<void>).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, String(bad)).to.be.instanceOf(RangeError);
      }
    });
  });

  describe('dispatch', function () {
    it('steps a generator job through the job’s enter(), once per step', async function () {
      const scheduler = new CooperativeScheduler();
      let entered = 0;
      let inside = false;
      const seenInside: boolean[] = [];
      const result = await scheduler.dispatch<number>({
        label: '/#gen',
        run: function* () {
          seenInside.push(inside);
          yield;
          seenInside.push(inside);
          const v = (yield Promise.resolve(4)) as number;
          seenInside.push(inside);
          return v * 10;
        },
        enter<R>(fn: () => R): R {
          entered++;
          inside = true;
          try {
            return fn();
          } finally {
            inside = false;
          }
        },
      });
      expect(result).to.equal(40);
      // Every step of the generator (the first and each resumption) runs through enter().
      expect(entered).to.equal(3);
      expect(seenInside).to.deep.equal([true, true, true]);
    });
  });

  describe('dispatchNow (the handlers’ fast path)', function () {
    it('completes a synchronous job at once and gives its value, not a promise', function () {
      const scheduler = new CooperativeScheduler();
      const before = scheduler.steps;
      expect(scheduler.dispatchNow({ label: '/#sync', run: () => 'now' })).to.equal('now');
      // It counts as progress (the virtual clock must not jump while handlers run).
      expect(scheduler.steps).to.equal(before + 1);
      expect(scheduler.queueDepth).to.equal(0);
    });

    it('runs a generator’s first step at once and the rest on the run queue', async function () {
      const scheduler = new CooperativeScheduler();
      const order: string[] = [];
      const result = scheduler.dispatchNow<string>({
        label: '/#gen',
        run: function* () {
          order.push('first');
          yield;
          order.push('second');
          return 'done';
        },
      });
      expect(order).to.deep.equal(['first']);
      expect(result).to.be.instanceOf(Promise);
      expect(await result).to.equal('done');
      expect(order).to.deep.equal(['first', 'second']);
    });

    it('makes a job wait for its turn when tasks are already waiting: it does not jump ahead', async function () {
      const scheduler = new CooperativeScheduler();
      const order: string[] = [];
      const other = scheduler.startBackgroundTask(() => {
        order.push('waiting task');
      });
      const result = scheduler.dispatchNow({
        label: '/#late',
        run: () => {
          order.push('handler');
          return 2;
        },
      });
      expect(order).to.deep.equal([]);
      expect(await result).to.equal(2);
      await other.join();
      expect(order).to.deep.equal(['waiting task', 'handler']);
    });

    it('queues handlers once those started at once used up the turn budget, until the event loop turns', async function () {
      const scheduler = new CooperativeScheduler({ budgetMs: 1 });
      const burn = (): string => {
        const end = performance.now() + 3;
        while (performance.now() < end);
        return 'burnt';
      };
      expect(scheduler.dispatchNow({ label: '/#cpu', run: burn })).to.equal('burnt');
      const queued = scheduler.dispatchNow({ label: '/#next', run: () => 'next' });
      expect(queued).to.be.instanceOf(Promise);
      expect(await queued).to.equal('next');
      // A turn of the event loop later, the budget is back.
      await new Promise((resolve) => setImmediate(resolve));
      expect(scheduler.dispatchNow({ label: '/#again', run: () => 'again' })).to.equal('again');
    });

    it('with a seed, makes every job wait for its turn (seeded runs explore handler starts too)', async function () {
      const scheduler = new CooperativeScheduler({ seed: 7 });
      let ran = false;
      const result = scheduler.dispatchNow({
        label: '/#seeded',
        run: () => {
          ran = true;
          return 1;
        },
      });
      expect(ran).to.equal(false);
      expect(await result).to.equal(1);
      expect(ran).to.equal(true);
    });
  });

  describe('fairness', function () {
    for (const [kind, start] of [
      [
        'a task looping 10_000 times with sleep(0)',
        (scheduler: CooperativeScheduler, tick: () => void): Task<number> =>
          scheduler.startBackgroundTask(async () => {
            for (let i = 0; i < 10_000; i++) {
              tick();
              await scheduler.sleep(0);
            }
            return 10_000;
          }),
      ],
      [
        'a generator task looping with a bare yield',
        (scheduler: CooperativeScheduler, tick: () => void): Task<number> =>
          startGenerator(scheduler, function* () {
            for (let i = 0; i < 10_000; i++) {
              tick();
              yield;
            }
            return 10_000;
          }),
      ],
    ] as const) {
      it(`${kind} does not starve a job dispatched later`, async function () {
        const scheduler = new CooperativeScheduler();
        let hog = 0;
        const hogTask = start(scheduler, () => hog++);
        while (hog < 50) await loopTurn();
        const dispatchedAt = hog;
        const ranAt = await scheduler.dispatch({ label: '/#short', run: () => hog });
        // The short job ran within a few turns of the hog, which had most of its loop left.
        expect(ranAt - dispatchedAt).to.be.at.most(3);
        expect(ranAt).to.be.below(1_000);
        expect(hogTask.isAlive()).to.equal(true);
        expect(await hogTask.join()).to.equal(10_000);
        expect(hog).to.equal(10_000);
      });
    }

    it('lets I/O in between turns: a timer fires while a task loops with sleep(0)', async function () {
      const scheduler = new CooperativeScheduler();
      let hog = 0;
      const hogTask = scheduler.startBackgroundTask(async () => {
        for (let i = 0; i < 10_000; i++) {
          hog++;
          await scheduler.sleep(0);
        }
      });
      const hogAtTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(hog), 1));
      expect(hogAtTimer).to.be.below(10_000);
      await hogTask.join();
    });
  });

  describe('deferFlush (when frames written by steps go to the OS)', function () {
    /** Dispatches `count` jobs, each queued by the previous one's outcome (a client's mailbox). */
    async function chained(
      scheduler: CooperativeScheduler,
      count: number,
      step: (i: number) => void,
    ): Promise<void> {
      for (let i = 0; i < count; i++)
        await scheduler.dispatch({ label: '/#chained', run: () => step(i) });
    }

    /** A step that records itself and, when flushed, its flush. */
    const recording =
      (scheduler: CooperativeScheduler, events: string[]) =>
      (i: number): void => {
        events.push(`step ${i}`);
        scheduler.deferFlush(() => events.push(`flush ${i}`));
      };

    it('outside a turn, flushes at the end of the tick', async function () {
      const scheduler = new CooperativeScheduler();
      const flushed: string[] = [];
      scheduler.deferFlush(() => flushed.push('a'));
      expect(flushed).to.deep.equal([]);
      await new Promise<void>((resolve) => process.nextTick(resolve));
      expect(flushed).to.deep.equal(['a']);
    });

    it('holds what steps wrote while the next steps keep coming, then flushes once the queue is quiet', async function () {
      const scheduler = new CooperativeScheduler({ holdMs: 60_000 });
      const events: string[] = [];
      await chained(scheduler, 20, recording(scheduler, events));
      // Each step came a turn of the event loop after the one before; none was flushed between.
      expect(events.filter((e) => e.startsWith('flush'))).to.deep.equal([]);
      while (events.length < 40) await loopTurn();
      const steps = Array.from({ length: 20 }, (_, i) => `step ${i}`);
      const flushes = Array.from({ length: 20 }, (_, i) => `flush ${i}`);
      expect(events).to.deep.equal([...steps, ...flushes]);
    });

    it('holds holdMs at most while the queue stays busy', async function () {
      const scheduler = new CooperativeScheduler({ holdMs: 2 });
      let rounds = 0;
      let flushedAt = -1;
      const hog = scheduler.startBackgroundTask(async () => {
        scheduler.deferFlush(() => (flushedAt = rounds));
        for (; rounds < 100_000 && flushedAt < 0; rounds++) await scheduler.sleep(0);
      });
      await hog.join();
      // Flushed while the task still looped, not when the queue went quiet.
      expect(flushedAt).to.be.above(0);
      expect(rounds).to.be.below(100_000);
    });

    it('with holdMs: 0, flushes at the end of each turn', async function () {
      const scheduler = new CooperativeScheduler({ holdMs: 0 });
      const events: string[] = [];
      await chained(scheduler, 3, recording(scheduler, events));
      await loopTurn();
      expect(events).to.deep.equal(['step 0', 'flush 0', 'step 1', 'flush 1', 'step 2', 'flush 2']);
    });

    it('close() flushes what is held', async function () {
      const scheduler = new CooperativeScheduler({ holdMs: 60_000 });
      let flushed = false;
      const busy = scheduler.startBackgroundTask(async () => {
        scheduler.deferFlush(() => (flushed = true));
        await scheduler.close();
      });
      await busy.join();
      expect(flushed).to.equal(true);
    });
  });

  describe("clock: 'virtual'", function () {
    it('sleep(3600) completes at once, with the clock an hour later', async function () {
      const scheduler = new CooperativeScheduler({ clock: 'virtual', idleMs: 0 });
      const began = performance.now();
      await scheduler.sleep(3600);
      expect(scheduler.clock.now()).to.equal(3_600_000);
      expect(performance.now() - began).to.be.below(1000);
      await scheduler.close();
    });

    it('wakes sleeping tasks in due order, each at its due time', async function () {
      const scheduler = new CooperativeScheduler({ clock: 'virtual', idleMs: 0 });
      const woke: [string, number][] = [];
      const tasks = (
        [
          ['three', 3],
          ['one', 1],
          ['two', 2],
          ['one again', 1],
        ] as const
      ).map(([name, seconds]) =>
        scheduler.startBackgroundTask(async () => {
          await scheduler.sleep(seconds);
          woke.push([name, scheduler.clock.now()]);
        }),
      );
      await Promise.all(tasks.map((t) => t.join()));
      expect(woke).to.deep.equal([
        ['one', 1000],
        ['one again', 1000],
        ['two', 2000],
        ['three', 3000],
      ]);
      await scheduler.close();
    });

    it('fires clock timers in order as time jumps', async function () {
      const scheduler = new CooperativeScheduler({ clock: 'virtual', idleMs: 0 });
      const fired: number[] = [];
      for (const ms of [30_000, 10_000, 20_000]) {
        scheduler.clock.setTimeout(() => fired.push(scheduler.clock.now()), ms);
      }
      expect(await waitFor(() => fired.length === 3)).to.equal(true);
      expect(fired).to.deep.equal([10_000, 20_000, 30_000]);
      await scheduler.close();
    });

    it('keeps time still while a task is runnable', async function () {
      const scheduler = new CooperativeScheduler({ clock: 'virtual', idleMs: 0 });
      const sleeper = scheduler.startBackgroundTask(async () => {
        await scheduler.sleep(1);
        return scheduler.clock.now();
      });
      const busy = scheduler.startBackgroundTask(async () => {
        for (let i = 0; i < 500; i++) await scheduler.sleep(0);
        return scheduler.clock.now();
      });
      expect(await busy.join()).to.equal(0);
      expect(await sleeper.join()).to.equal(1000);
    });
  });

  describe('seed', function () {
    it('without a seed, ready tasks take their turns first in, first out (round-robin)', async function () {
      expect(await interleaving({})).to.deep.equal(roundRobin());
    });

    it('the same seed runs the same ready steps in the same order', async function () {
      for (const seed of [1, 42, 2024]) {
        const first = await interleaving({ seed });
        const second = await interleaving({ seed });
        expect(second, `seed ${seed}`).to.deep.equal(first);
        expect([...first].sort(), `seed ${seed}`).to.deep.equal([...roundRobin()].sort());
      }
    });

    it('the same seed gives the same order however long a step takes in real time (a replay must not depend on speed)', async function () {
      for (const seed of [1, 42, 2024]) {
        const fast = await interleaving({ seed });
        // The same program, with the first step of every task taking 3 ms instead of microseconds.
        const slow = await interleaving({ seed }, 6, 5, (_task, round) => (round === 0 ? 3 : 0));
        expect(slow, `seed ${seed}`).to.deep.equal(fast);
      }
    });

    it('different seeds give different interleavings, unlike the round-robin', async function () {
      const orders = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => interleaving({ seed })));
      const distinct = new Set(orders.map((o) => o.join(' ')));
      expect(distinct.size).to.be.greaterThan(1);
      expect(orders.some((o) => o.join(' ') !== roundRobin().join(' '))).to.equal(true);
    });
  });
});

describe("cooperative mode through new SocketIO({ asyncMode: 'cooperative' })", function () {
  let io: SocketIO | undefined;
  const peers: SioPeer[] = [];

  afterEach(async function () {
    for (const peer of peers.splice(0)) peer.socket.disconnect();
    await io?.stop();
    io = undefined;
  });

  it('runs on a CooperativeScheduler; startBackgroundTask and sleep go through it', async function () {
    io = new SocketIO({ asyncMode: 'cooperative' });
    const server = io;
    expect(server.asyncMode).to.equal('cooperative');
    expect(server.scheduler).to.be.instanceOf(CooperativeScheduler);
    const scheduler = server.scheduler as CooperativeScheduler;
    const stepsBefore = scheduler.steps;
    const task = server.startBackgroundTask(async (n: number) => {
      await server.sleep(0);
      return n + 1;
    }, 1);
    expect(task.mode).to.equal('cooperative');
    expect(await task.join()).to.equal(2);
    // The task's start and its sleep(0) each took a turn of the run queue.
    expect(scheduler.steps - stepsBefore).to.be.at.least(2);
  });

  it('steps generator-function handlers: yield gives up the turn, yield promise resumes with its value, context functions work after a yield', async function () {
    io = new SocketIO({ asyncMode: 'cooperative' });
    const order: string[] = [];
    io.on('count', function* (name: string, n: number): Generator<unknown, string, unknown> {
      for (let i = 1; i <= n; i++) {
        order.push(`${name}${i}`);
        emit('step', i);
        yield;
      }
      const doubled = (yield Promise.resolve(n * 2)) as number;
      return `${name} ${doubled}`;
    });
    const a = await io.testClient();
    const b = await io.testClient();
    const [ackA, ackB] = await Promise.all([
      a.emit('count', args('a', 3), { callback: true }),
      b.emit('count', args('b', 3), { callback: true }),
    ]);
    expect(ackA).to.deep.equal(['a 6']);
    expect(ackB).to.deep.equal(['b 6']);
    // Each bare yield gave the other client's handler its turn.
    expect(order).to.deep.equal(['a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
    expect(a.getReceived().map((e) => e.args)).to.deep.equal([[1], [2], [3]]);
    expect(b.getReceived().map((e) => e.args)).to.deep.equal([[1], [2], [3]]);
  });

  it('a client whose handler loops with sleep(0) does not delay another client’s echo by more than a few turns', async function () {
    const server = new SocketIO({ asyncMode: 'cooperative', logger: recordingLogger() });
    io = server;
    let hog = 0;
    let echoArrivedAt: number | undefined;
    let echoRanAt: number | undefined;
    server.on('hog', async (n: number) => {
      for (let i = 0; i < n; i++) {
        hog++;
        await server.sleep(0);
      }
      return hog;
    });
    server.on('echo', (value: unknown) => {
      echoRanAt = hog;
      return value;
    });
    server.engine.on('connection', (conn: EngineConnection) =>
      conn.on('message', (data) => {
        if (typeof data === 'string' && data.includes('"echo"')) echoArrivedAt = hog;
      }),
    );
    const { port } = await server.run(undefined, { host: '127.0.0.1', port: 0 });
    const open = (): SioPeer => {
      const peer = new SioPeer(
        connect(`http://127.0.0.1:${port}`, {
          forceNew: true,
          reconnection: false,
          transports: ['websocket'],
        }),
      );
      peers.push(peer);
      return peer;
    };
    const [busy, idle] = [open(), open()];
    await within(Promise.all([busy.opened, idle.opened]), 'both connections');
    const settled: string[] = [];
    const hogDone = new Promise<unknown[]>((resolve, reject) =>
      busy.socket
        .timeout(15_000)
        .emit('hog', 10_000, (error: Error | null, ...response: unknown[]) => {
          settled.push('hog');
          if (error !== null) reject(error);
          else resolve(response);
        }),
    );
    expect(await waitFor(() => hog > 0, 2000)).to.equal(true);
    expect(await idle.emitAck('echo', 'ping')).to.deep.equal(['ping']);
    settled.push('echo');
    expect(settled).to.deep.equal(['echo']);
    expect(echoArrivedAt).to.be.a('number');
    expect(echoRanAt).to.be.a('number');
    // The echo ran within a few hog turns of arriving, while the hog had most of its loop left.
    expect((echoRanAt as number) - (echoArrivedAt as number)).to.be.at.most(3);
    expect(echoRanAt).to.be.below(10_000);
    expect(await hogDone).to.deep.equal([10_000]);
    expect(settled).to.deep.equal(['echo', 'hog']);
  });

  it('sends a listener the broadcasts of many run-queue turns in one write (frames are held while the queue is busy)', async function () {
    const scheduler = new CooperativeScheduler({ holdMs: 60_000 });
    const server = new SocketIO({ scheduler });
    io = server;
    // Broadcast k goes out on the run queue's k-th turn: the handler yields k times first.
    server.on('shout', function* (k: number): Generator<unknown, void, unknown> {
      for (let i = 0; i < k; i++) yield;
      server.emit('news', k);
    });
    const { port } = await server.run(undefined, { host: '127.0.0.1', port: 0 });
    const listener = await WireWs.open(
      `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
      null,
    );
    try {
      expect(String((await listener.next('the open packet')).message)).to.match(/^0\{/);
      listener.send('40');
      expect(String((await listener.next('the namespace answer')).message)).to.match(/^40\{/);
      const sender = new SioPeer(
        connect(`http://127.0.0.1:${port}`, { forceNew: true, transports: ['websocket'] }),
      );
      peers.push(sender);
      await within(sender.opened, 'the sender’s connection');
      const readsBefore = listener.reads;
      for (let k = 1; k <= 30; k++) sender.socket.emit('shout', k);
      const news: string[] = [];
      for (let k = 1; k <= 30; k++) news.push(String((await listener.next(`news ${k}`)).message));
      expect(news).to.deep.equal(Array.from({ length: 30 }, (_, i) => `42["news",${i + 1}]`));
      // 30 turns wrote them, one TCP write took them all (one read, two if the kernel split it).
      expect(listener.reads - readsBefore).to.be.at.most(2);
    } finally {
      listener.close();
    }
  });

  describe("with clock: 'virtual'", function () {
    it('runs a handler’s io.sleep(3600) in virtual time (test client)', async function () {
      const server = new SocketIO({ asyncMode: 'cooperative', clock: 'virtual' });
      io = server;
      server.on('nap', async (seconds: number) => {
        const from = server.scheduler.clock.now();
        await server.sleep(seconds);
        return server.scheduler.clock.now() - from;
      });
      const client = await server.testClient();
      const began = performance.now();
      expect(await client.emit('nap', 3600, { callback: true })).to.deep.equal([3_600_000]);
      expect(performance.now() - began).to.be.below(1000);
    });

    it('closes an Engine.IO client that never answers pings with ping timeout after 25 s + 20 s of virtual time', async function () {
      const server = new SocketIO({
        asyncMode: 'cooperative',
        clock: 'virtual',
        logger: recordingLogger(),
        // The client never joins a namespace; keep the connect timeout (45 s by default,
        // the same instant as the ping timeout) out of the way.
        connectTimeout: 3600,
      });
      io = server;
      const clock = server.scheduler.clock;
      let openedAt: number | undefined;
      const closed = new Promise<{ reason: string; at: number }>((resolve) =>
        server.engine.on('connection', (conn: EngineConnection) => {
          openedAt = clock.now();
          conn.on('close', (reason) => resolve({ reason, at: clock.now() }));
        }),
      );
      const { port } = await server.run(undefined, { host: '127.0.0.1', port: 0 });
      const began = performance.now();
      const session = await RawPolling.open(`http://127.0.0.1:${port}/socket.io/`);
      expect(session.handshake.pingInterval).to.equal(25_000);
      expect(session.handshake.pingTimeout).to.equal(20_000);
      // The client never polls again: the server's ping is never read, no pong comes back.
      const { reason, at } = await within(closed, 'the ping timeout', 3000);
      expect(reason).to.equal('ping timeout');
      expect(openedAt).to.be.a('number');
      expect(at - (openedAt as number)).to.equal(45_000);
      expect(performance.now() - began).to.be.below(2000);
    });
  });
});
