/**
 * The `event-loop` async mode (eventlet/asyncio's counterpart): handlers run on
 * Node's event loop, `sleep` uses timers, background tasks are promises.
 */
import { realClock } from './clock.js';
import {
  enterOf,
  FlagEvent,
  invoke,
  PromiseTask,
  runJob,
  runJobNow,
  clockSleep,
  WaitQueue,
} from './primitives.js';
import type { TaskErrorReporter } from './primitives.js';
import type { AsyncMode, Clock, Event, HandlerJob, Queue, Scheduler, Task } from './scheduler.js';

/**
 * Options of {@link EventLoopScheduler}.
 *
 * @group Schedulers
 */
export interface EventLoopSchedulerOptions {
  /** Defaults to Node's timers. */
  clock?: Clock;
  /** The mode to report: 'event-loop', or 'worker-pool' inside a pool thread. Default 'event-loop'. */
  mode?: AsyncMode;
  /** Called with the error of a failed background task. Default: `console.error`. */
  onTaskError?: TaskErrorReporter;
}

/**
 * Runs everything on the main thread's event loop. The fastest mode for
 * I/O-bound apps and the reference the other modes are measured against.
 *
 * @example
 * ```ts
 * const scheduler = new EventLoopScheduler();
 * const task = scheduler.startBackgroundTask(async (n: number) => n * 2, 21);
 * console.log(await task.join()); // 42
 * ```
 *
 * @group Schedulers
 */
export class EventLoopScheduler implements Scheduler {
  readonly mode: AsyncMode;
  readonly clock: Clock;
  readonly #onTaskError: TaskErrorReporter;

  constructor(options: EventLoopSchedulerOptions = {}) {
    this.mode = options.mode ?? 'event-loop';
    this.clock = options.clock ?? realClock;
    this.#onTaskError =
      options.onTaskError ?? ((error) => console.error('background task failed:', error));
  }

  startBackgroundTask<A extends unknown[], T>(
    target: (...args: A) => T | Promise<T>,
    ...args: A
  ): Task<Awaited<T>> {
    const running = invoke(() =>
      runJob(
        () => target(...args),
        undefined,
        () => this.sleep(0),
      ),
    ) as Promise<Awaited<T>>;
    return new PromiseTask(this.mode, running, this.#onTaskError);
  }

  sleep(seconds?: number): Promise<void> {
    return clockSleep(this.clock, seconds);
  }

  dispatch<T>(job: HandlerJob<T>): Promise<T> {
    return invoke(() =>
      runJob(
        () => job.run(),
        enterOf(job),
        () => this.sleep(0),
      ),
    );
  }

  dispatchNow<T>(job: HandlerJob<T>): T | Promise<T> {
    return runJobNow(job, () => this.sleep(0));
  }

  createQueue<T>(): Queue<T> {
    return new WaitQueue<T>();
  }

  createEvent(): Event {
    return new FlagEvent();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
