/**
 * The scheduler seam: every timer, handler invocation and background task of the
 * server runs through one {@link Scheduler}. Each async mode (python-socketio's
 * `async_mode`) is one implementation of this interface, in its own file.
 *
 * This module knows nothing of HTTP, Engine.IO or Socket.IO.
 */

/**
 * The async modes, counterparts of eventlet/asyncio, threading and gevent.
 *
 * @example
 * ```ts
 * ASYNC_MODES.includes('cooperative'); // true
 * ```
 *
 * @group Schedulers
 */
export const ASYNC_MODES = ['event-loop', 'worker-pool', 'cooperative'] as const;

/**
 * One of {@link ASYNC_MODES}.
 *
 * @group Schedulers
 */
export type AsyncMode = (typeof ASYNC_MODES)[number];

/**
 * Where a background task runs: an async mode, or `'pending'` while the `worker-pool`
 * mode waits for the app module to finish evaluating before it can tell whether the
 * task is one of the module's exports (a task the module starts from its own top-level
 * code, e.g. after `await io.run()`).
 *
 * @example
 * ```ts
 * const task = io.startBackgroundTask(nightlyReport);
 * console.log(task.mode); // 'worker-pool', 'event-loop', 'cooperative' or 'pending'
 * ```
 *
 * @group Schedulers
 */
export type TaskMode = AsyncMode | 'pending';

/**
 * Opaque handle returned by {@link Clock.setTimeout}.
 *
 * @group Schedulers
 */
export type TimerHandle = object | number;

/**
 * Where time comes from. Compatible with xstate's `clock` actor option, so the
 * connection actors' delayed transitions run on the scheduler's clock.
 *
 * @example
 * ```ts
 * const handle = clock.setTimeout(() => console.log('later'), 1000);
 * clock.clearTimeout(handle);
 * ```
 *
 * @group Schedulers
 */
export interface Clock {
  /** Milliseconds since an arbitrary origin; monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * A background task, already started when you get it (like a started
 * `threading.Thread`).
 *
 * @example
 * ```ts
 * const task = io.startBackgroundTask(async () => 42);
 * console.log(await task.join()); // 42
 * ```
 *
 * @group Schedulers
 */
export interface Task<T = unknown> {
  /**
   * Where the task runs: the scheduler's mode, or `event-loop` for a closure kept on the
   * main thread; `pending` until a worker-pool task started by the app module's own
   * top-level code is placed: once that code has finished running, or at once when
   * something calls `join()` on it first (it then runs in the pool by its export name).
   */
  readonly mode: TaskMode;
  /** True until the task has returned or thrown. */
  isAlive(): boolean;
  /** Resolves with the task's result when it ends; rejects with its error. */
  join(): Promise<T>;
  /** The value returned, once the task has ended successfully. */
  readonly result: T | undefined;
}

/**
 * One handler invocation handed to {@link Scheduler.dispatch}.
 *
 * @group Schedulers
 */
export interface HandlerJob<T = unknown> {
  /** A short label for logs (`'/chat#message'`). */
  readonly label: string;
  /**
   * Runs the handler body; may return a promise, or a generator (a
   * generator-function handler) that the scheduler steps: each bare `yield`
   * gives up the turn, `yield promise` waits for it.
   */
  run(): T | Promise<T> | Generator<unknown, T, unknown>;
  /** Re-enters the job's context to step a generator handler. Default: call directly. */
  enter?<R>(fn: () => R): R;
  /**
   * The same invocation as structured-clone-able data, for schedulers that run
   * it in another thread (worker-pool). Without it the job runs locally.
   */
  readonly remote?: RemoteJob<T>;
}

/**
 * A handler invocation that can cross a thread boundary.
 *
 * @group Schedulers
 */
export interface RemoteJob<T = unknown> {
  /** Which handler (`nsp\0event`): a job no pool thread has a handler for runs locally. */
  readonly key: string;
  /** Plain data the worker side needs to find and run the handler. */
  readonly request: unknown;
  /**
   * Jobs of one lane (one client's) never overlap: a lane has at most one batch out, and
   * its jobs that reach a thread together run one after the other, as they would one task
   * at a time.
   */
  readonly lane?: string;
  /**
   * What every job of `key` carries unchanged (a client's handshake: headers, query,
   * address). A pool thread keeps it, so it crosses to each thread about once instead of
   * with every job; `forgetShared(key)` says when no job will name it again.
   */
  readonly shared?: SharedPart;
  /** Turns the worker's final message into the job's result. */
  settle(outcome: unknown): T;
}

/**
 * Data many jobs share, under a key (see {@link RemoteJob.shared}).
 *
 * @group Schedulers
 */
export interface SharedPart {
  readonly key: string;
  /** Structured-clone-able, and never `undefined`. */
  readonly value: unknown;
}

/**
 * A FIFO queue whose `get()` waits for an item (python-engineio's `create_queue`).
 *
 * @example
 * ```ts
 * const q = scheduler.createQueue<string>();
 * q.put('a');
 * console.log(await q.get()); // 'a'
 * ```
 *
 * @group Schedulers
 */
export interface Queue<T> {
  put(item: T): void;
  get(): Promise<T>;
  readonly size: number;
}

/**
 * A one-shot flag that tasks can wait on (python-engineio's `create_event`).
 *
 * @example
 * ```ts
 * const ev = scheduler.createEvent();
 * setTimeout(() => ev.set(), 10);
 * await ev.wait();
 * ```
 *
 * @group Schedulers
 */
export interface Event {
  set(): void;
  clear(): void;
  isSet(): boolean;
  wait(): Promise<void>;
}

/**
 * The interface every async mode implements.
 *
 * @example
 * ```ts
 * import { EventLoopScheduler } from 'socketio-actors';
 * const s = new EventLoopScheduler();
 * await s.sleep(0.01);
 * await s.close();
 * ```
 *
 * @group Schedulers
 */
export interface Scheduler {
  readonly mode: AsyncMode;
  readonly clock: Clock;
  /** Starts `target(...args)` as a background task. */
  startBackgroundTask<A extends unknown[], T>(
    target: (...args: A) => T | Promise<T>,
    ...args: A
  ): Task<Awaited<T>>;
  /** Waits `seconds` (default 0: just yield) on the scheduler's clock. */
  sleep(seconds?: number): Promise<void>;
  /** Runs one handler invocation; resolves or rejects with its outcome. */
  dispatch<T>(job: HandlerJob<T>): Promise<T>;
  /**
   * Optional fast path: runs the job at once and returns its value (throwing its
   * error) when it is synchronous, or a promise when it is not. Modes that must
   * queue or move work elsewhere leave it out.
   */
  dispatchNow?<T>(job: HandlerJob<T>): T | Promise<T>;
  /**
   * Optional: runs `flush` (which sends a connection's corked frames to the OS) once the work
   * running now has written what it will. Without it, at the end of the tick. The cooperative
   * scheduler holds the frames its run-queue steps write while more steps wait, for a
   * bounded time, so a queue of broadcasts reaches each client in a few writes.
   */
  deferFlush?(flush: () => void): void;
  /**
   * Optional: no job dispatched from now on names `key` as its shared part (the client has
   * gone), so threads that keep shared parts may drop it once its jobs are done.
   */
  forgetShared?(key: string): void;
  createQueue<T>(): Queue<T>;
  createEvent(): Event;
  /** Work waiting to run and threads busy (the status page shows it); 0 where a mode has none. */
  load?(): { queued: number; busy: number };
  /** Stops accepting work and releases resources (threads, timers). */
  close(): Promise<void>;
  /**
   * Takes work again after `close()` (a server run again after `stop()`): threads and
   * timers come back. Modes that hold nothing after close leave it out.
   */
  reopen?(): void;
}
