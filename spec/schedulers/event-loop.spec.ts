import { expect } from 'chai';
import { realClock, VirtualClock } from '../../schedulers/clock.js';
import { EventLoopScheduler } from '../../schedulers/event-loop.js';
import { describeSchedulerContract, hasSettled } from '../helpers/schedulers.js';

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

  describeSchedulerContract((onTaskError) => new EventLoopScheduler({ onTaskError }));
});
