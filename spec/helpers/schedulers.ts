/**
 * What every scheduler must do, whatever its mode, as one spec body each mode's
 * spec file runs; plus the small helpers those files share.
 */
import { expect } from 'chai';
import type { Scheduler } from '../../schedulers/scheduler.js';
import { delay, waitFor } from './raw-engine.js';

/** Whether `promise` has settled, after letting a few event-loop turns pass. */
export async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

/** A pool thread's id as a worker-pool task or handler reports it: a number other than the main thread's 0. */
export function expectPoolThread(value: unknown): void {
  expect(value).to.be.a('number');
  expect(value).to.not.equal(0);
}

/** Collects unhandled rejections while a test runs. */
export function watchUnhandledRejections(): { reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => {
    reasons.push(reason);
  };
  process.on('unhandledRejection', listener);
  return { reasons, stop: () => process.off('unhandledRejection', listener) };
}

/** Makes a fresh scheduler of the mode under test, reporting task errors to `onTaskError`. */
export type MakeScheduler = (onTaskError?: (error: unknown) => void) => Scheduler;

/**
 * Registers the contract every scheduler keeps: task errors reach `join()` and
 * `onTaskError` and never become unhandled rejections; `dispatch` resolves with the
 * job's value and turns throws into rejections; queues and events behave like
 * python-socketio's.
 */
export function describeSchedulerContract(make: MakeScheduler): void {
  describe('the scheduler contract', function () {
    it('a task is alive until it returns, then exposes its result; join() can be called again', async function () {
      const scheduler = make();
      const gate = scheduler.createEvent();
      const task = scheduler.startBackgroundTask(async (n: number) => {
        await gate.wait();
        return n * 2;
      }, 21);
      expect(task.isAlive()).to.equal(true);
      expect(task.result).to.equal(undefined);
      expect(await hasSettled(task.join())).to.equal(false);
      expect(task.isAlive()).to.equal(true);
      gate.set();
      expect(await task.join()).to.equal(42);
      expect(task.isAlive()).to.equal(false);
      expect(task.result).to.equal(42);
      expect(await task.join()).to.equal(42);
    });

    for (const [how, target] of [
      [
        'synchronously',
        (): never => {
          throw new Error('boom');
        },
      ],
      [
        'after yielding',
        async (): Promise<never> => {
          await delay(1);
          throw new Error('boom');
        },
      ],
    ] as const) {
      it(`delivers an error thrown ${how} to join() and onTaskError, never as an unhandled rejection`, async function () {
        const watch = watchUnhandledRejections();
        try {
          const reported: unknown[] = [];
          const task = make((e) => reported.push(e)).startBackgroundTask(target);
          const caught = await task.join().then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(caught).to.be.instanceOf(Error);
          expect((caught as Error).message).to.equal('boom');
          expect(reported).to.deep.equal([caught]);
          expect(task.isAlive()).to.equal(false);
          expect(task.result).to.equal(undefined);
          await delay(5);
          expect(watch.reasons).to.deep.equal([]);
        } finally {
          watch.stop();
        }
      });
    }

    it('reports a failed task nobody joins, once, without an unhandled rejection', async function () {
      const watch = watchUnhandledRejections();
      try {
        const reported: unknown[] = [];
        const task = make((e) => reported.push(e)).startBackgroundTask(() =>
          Promise.reject(new Error('ignored')),
        );
        expect(await waitFor(() => reported.length > 0)).to.equal(true);
        await delay(5);
        expect(reported).to.have.length(1);
        expect((reported[0] as Error).message).to.equal('ignored');
        expect(task.isAlive()).to.equal(false);
        expect(watch.reasons).to.deep.equal([]);
      } finally {
        watch.stop();
      }
    });

    it('dispatch resolves with the job’s value, sync or async', async function () {
      const scheduler = make();
      expect(await scheduler.dispatch({ label: '/#sync', run: () => 'sync' })).to.equal('sync');
      expect(
        await scheduler.dispatch({ label: '/#async', run: () => Promise.resolve('async') }),
      ).to.equal('async');
    });

    it('dispatch turns a synchronous throw into a rejection (never a throw) and passes an async failure on', async function () {
      const scheduler = make();
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
      const caught = await (pending as Promise<unknown>).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(caught).to.equal(failure);
      const later = new Error('async failure');
      const caughtLater = await scheduler
        .dispatch({ label: '/#bad', run: () => Promise.reject(later) })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(caughtLater).to.equal(later);
    });

    it('createQueue gives items back in the order they were put; waiting get()s are served first come first served', async function () {
      const queue = make().createQueue<number>();
      queue.put(1);
      queue.put(2);
      queue.put(3);
      expect(queue.size).to.equal(3);
      expect([await queue.get(), await queue.get(), await queue.get()]).to.deep.equal([1, 2, 3]);
      expect(queue.size).to.equal(0);
      const first = queue.get();
      const second = queue.get();
      expect(await hasSettled(first)).to.equal(false);
      queue.put(4);
      queue.put(5);
      expect(queue.size).to.equal(0);
      expect(await first).to.equal(4);
      expect(await second).to.equal(5);
    });

    it('createEvent: wait() resolves once set; clear() makes it wait again', async function () {
      const event = make().createEvent();
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

    it('close() resolves', async function () {
      expect(await make().close()).to.equal(undefined);
    });
  });
}
