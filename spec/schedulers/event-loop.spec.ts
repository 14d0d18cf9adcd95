import { expect } from 'chai';
import { realClock, VirtualClock } from '../../schedulers/clock.js';
import { EventLoopScheduler } from '../../schedulers/event-loop.js';

/** Resolves after the event loop has had a full turn (timers, I/O, immediates). */
function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

/** Whether `promise` has settled, without waiting for it. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

/** Collects unhandled rejections while a test runs. */
function watchUnhandledRejections(): { reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => {
    reasons.push(reason);
  };
  process.on('unhandledRejection', listener);
  return { reasons, stop: () => process.off('unhandledRejection', listener) };
}

describe('EventLoopScheduler', function () {
  it('is the event-loop mode on the real clock unless given another', function () {
    expect(new EventLoopScheduler().mode).to.equal('event-loop');
    expect(new EventLoopScheduler().clock).to.equal(realClock);
    const clock = new VirtualClock();
    expect(new EventLoopScheduler({ clock }).clock).to.equal(clock);
  });

  describe('startBackgroundTask', function () {
    it('returns a task that has already started, passing the arguments', async function () {
      const scheduler = new EventLoopScheduler();
      const seen: number[] = [];
      const task = scheduler.startBackgroundTask(
        (a: number, b: number) => {
          seen.push(a, b);
          return a + b;
        },
        2,
        3,
      );
      expect(seen).to.deep.equal([2, 3]);
      expect(task.mode).to.equal('event-loop');
      expect(await task.join()).to.equal(5);
    });

    it('is alive until it returns, then exposes its result', async function () {
      const scheduler = new EventLoopScheduler();
      const gate = scheduler.createEvent();
      const task = scheduler.startBackgroundTask(async (n: number) => {
        await gate.wait();
        return n * 2;
      }, 21);
      expect(task.isAlive()).to.equal(true);
      expect(task.result).to.equal(undefined);
      await turn();
      expect(task.isAlive()).to.equal(true);
      gate.set();
      expect(await task.join()).to.equal(42);
      expect(task.isAlive()).to.equal(false);
      expect(task.result).to.equal(42);
      // join() again gives the same result.
      expect(await task.join()).to.equal(42);
    });

    for (const [how, target] of [
      [
        'synchronously',
        () => {
          throw new Error('boom');
        },
      ],
      [
        'asynchronously',
        async () => {
          await turn();
          throw new Error('boom');
        },
      ],
    ] as const) {
      it(`delivers an error thrown ${how} to join() and onTaskError, never as an unhandled rejection`, async function () {
        const watch = watchUnhandledRejections();
        try {
          const reported: unknown[] = [];
          const scheduler = new EventLoopScheduler({ onTaskError: (e) => reported.push(e) });
          const task = scheduler.startBackgroundTask(target);
          let caught: unknown;
          try {
            await task.join();
          } catch (error) {
            caught = error;
          }
          expect(caught).to.be.instanceOf(Error);
          expect((caught as Error).message).to.equal('boom');
          expect(reported).to.deep.equal([caught]);
          expect(task.isAlive()).to.equal(false);
          expect(task.result).to.equal(undefined);
          await turn();
          expect(watch.reasons).to.deep.equal([]);
        } finally {
          watch.stop();
        }
      });
    }

    it('reports a failed task nobody joins, without an unhandled rejection', async function () {
      const watch = watchUnhandledRejections();
      try {
        const reported: unknown[] = [];
        const scheduler = new EventLoopScheduler({ onTaskError: (e) => reported.push(e) });
        const task = scheduler.startBackgroundTask(() => Promise.reject(new Error('ignored')));
        await turn();
        await turn();
        expect(reported).to.have.length(1);
        expect((reported[0] as Error).message).to.equal('ignored');
        expect(task.isAlive()).to.equal(false);
        expect(watch.reasons).to.deep.equal([]);
      } finally {
        watch.stop();
      }
    });
  });

  describe('sleep', function () {
    it('sleep(0) and sleep() yield to work already queued on the event loop', async function () {
      const scheduler = new EventLoopScheduler();
      for (const sleep of [() => scheduler.sleep(0), () => scheduler.sleep()]) {
        const order: string[] = [];
        setImmediate(() => order.push('queued before'));
        const slept = sleep().then(() => order.push('slept'));
        queueMicrotask(() => order.push('microtask'));
        expect(order).to.deep.equal([]);
        await slept;
        expect(order).to.deep.equal(['microtask', 'queued before', 'slept']);
      }
    });

    it('sleep(0.01) waits at least about 10 ms', async function () {
      const scheduler = new EventLoopScheduler();
      const began = performance.now();
      await scheduler.sleep(0.01);
      // Node may round a timer down by up to a millisecond.
      expect(performance.now() - began).to.be.at.least(9);
    });

    it('sleeps on the scheduler clock', async function () {
      const clock = new VirtualClock();
      const scheduler = new EventLoopScheduler({ clock });
      const slept = scheduler.sleep(5);
      expect(clock.pending).to.equal(1);
      clock.advance(4_999);
      expect(await hasSettled(slept)).to.equal(false);
      clock.advance(1);
      expect(await hasSettled(slept)).to.equal(true);
    });

    it('rejects (never throws synchronously) for a negative or non-finite number of seconds', async function () {
      const scheduler = new EventLoopScheduler();
      for (const bad of [-1, -0.001, NaN, Infinity]) {
        let pending: Promise<void> | undefined;
        expect(() => (pending = scheduler.sleep(bad)), String(bad)).not.to.throw();
        const error = await (pending as Promise<void>).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, String(bad)).to.be.instanceOf(RangeError);
        expect((error as Error).message).to.match(/seconds/);
      }
    });
  });

  describe('dispatch', function () {
    it('runs the job and resolves with its value, sync or async', async function () {
      const scheduler = new EventLoopScheduler();
      expect(await scheduler.dispatch({ label: '/#sync', run: () => 'sync' })).to.equal('sync');
      expect(
        await scheduler.dispatch({ label: '/#async', run: () => Promise.resolve('async') }),
      ).to.equal('async');
    });

    it('turns a synchronous throw into a rejection', async function () {
      const scheduler = new EventLoopScheduler();
      const failure = new Error('sync failure');
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = scheduler.dispatch({
          label: '/#bad',
          run: () => {
            throw failure;
          },
        });
      }).to.not.throw();
      let caught: unknown;
      await (pending as Promise<unknown>).catch((error: unknown) => (caught = error));
      expect(caught).to.equal(failure);
    });

    it('propagates an async failure as a rejection', async function () {
      const scheduler = new EventLoopScheduler();
      const failure = new Error('async failure');
      let caught: unknown;
      await scheduler
        .dispatch({ label: '/#bad', run: () => Promise.reject(failure) })
        .catch((error: unknown) => (caught = error));
      expect(caught).to.equal(failure);
    });
  });

  describe('createQueue', function () {
    it('gives items back in the order they were put', async function () {
      const queue = new EventLoopScheduler().createQueue<number>();
      queue.put(1);
      queue.put(2);
      queue.put(3);
      expect(queue.size).to.equal(3);
      expect([await queue.get(), await queue.get(), await queue.get()]).to.deep.equal([1, 2, 3]);
      expect(queue.size).to.equal(0);
    });

    it('get() waits for the next put(), waiters served first come first served', async function () {
      const queue = new EventLoopScheduler().createQueue<string>();
      const first = queue.get();
      const second = queue.get();
      expect(await hasSettled(first)).to.equal(false);
      queue.put('a');
      queue.put('b');
      expect(queue.size).to.equal(0);
      expect(await first).to.equal('a');
      expect(await second).to.equal('b');
    });
  });

  describe('createEvent', function () {
    it('wait() resolves once set; clear() makes it wait again', async function () {
      const event = new EventLoopScheduler().createEvent();
      expect(event.isSet()).to.equal(false);
      const waiting = [event.wait(), event.wait()];
      expect(await hasSettled(Promise.all(waiting))).to.equal(false);
      event.set();
      expect(event.isSet()).to.equal(true);
      await Promise.all(waiting);
      expect(await hasSettled(event.wait())).to.equal(true);
      event.clear();
      expect(event.isSet()).to.equal(false);
      const again = event.wait();
      expect(await hasSettled(again)).to.equal(false);
      event.set();
      await again;
    });
  });

  it('close() resolves', async function () {
    const scheduler = new EventLoopScheduler();
    expect(await scheduler.close()).to.equal(undefined);
  });
});
