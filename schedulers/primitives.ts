/**
 * Building blocks shared by the schedulers: a promise-backed task, a waiting
 * queue and an event. Each mode composes them with its own way of running code.
 */
import type { AsyncMode, Clock, Event, Queue, Task, TaskMode } from './scheduler.js';

/** What a scheduler reports when a background task fails (it never crashes the process). */
export type TaskErrorReporter = (error: unknown) => void;

/**
 * A task backed by a promise that is already running.
 *
 * @example
 * ```ts
 * const task = new PromiseTask('event-loop', Promise.resolve(1), () => {});
 * await task.join(); // 1
 * ```
 */
export class PromiseTask<T> implements Task<T> {
  #alive = true;
  #result: T | undefined;
  #mode: TaskMode;
  readonly #done: Promise<T>;

  constructor(mode: TaskMode, running: Promise<T>, report: TaskErrorReporter) {
    this.#mode = mode;
    this.#done = running.then(
      (value) => {
        this.#alive = false;
        this.#result = value;
        return value;
      },
      (error: unknown) => {
        this.#alive = false;
        report(error);
        throw error;
      },
    );
    // The error was reported; a task nobody joins must not become an unhandled rejection.
    this.#done.catch(() => undefined);
  }

  get mode(): TaskMode {
    return this.#mode;
  }

  /** Records where a task that started `pending` runs, once that is decided. */
  place(mode: AsyncMode): void {
    this.#mode = mode;
  }

  isAlive(): boolean {
    return this.#alive;
  }

  join(): Promise<T> {
    return this.#done;
  }

  get result(): T | undefined {
    return this.#result;
  }
}

/**
 * A task whose place is decided later (`mode` is `pending` until `place()`); `onJoin`
 * runs on every `join()`, telling whoever places it that something waits for it now.
 *
 * @example
 * ```ts
 * const task = new PendingTask(placing, () => placeNow());
 * await task.join(); // calls placeNow(), then waits for the placed task
 * ```
 */
export class PendingTask<T> extends PromiseTask<T> {
  readonly #onJoin: () => void;

  constructor(placing: Promise<T>, onJoin: () => void) {
    // The placed task reports its own failure.
    super('pending', placing, () => undefined);
    this.#onJoin = onJoin;
  }

  override join(): Promise<T> {
    this.#onJoin();
    return super.join();
  }
}

/**
 * An unbounded FIFO whose `get()` waits for the next item.
 *
 * @example
 * ```ts
 * const q = new WaitQueue<number>();
 * q.put(1);
 * await q.get(); // 1
 * ```
 */
export class WaitQueue<T> implements Queue<T> {
  #items: T[] = [];
  #waiters: ((item: T) => void)[] = [];

  put(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
  }

  get(): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift() as T);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  get size(): number {
    return this.#items.length;
  }
}

/**
 * A settable flag; `wait()` resolves once it is set.
 *
 * @example
 * ```ts
 * const ev = new FlagEvent();
 * ev.set();
 * await ev.wait();
 * ```
 */
export class FlagEvent implements Event {
  #set = false;
  #waiters: (() => void)[] = [];

  set(): void {
    this.#set = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  clear(): void {
    this.#set = false;
  }

  isSet(): boolean {
    return this.#set;
  }

  wait(): Promise<void> {
    if (this.#set) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** Runs `fn` and turns a synchronous throw into a rejected promise. */
export async function invoke<T>(fn: () => T | Promise<T>): Promise<T> {
  return fn();
}

/** Checks a `sleep` argument: a finite, non-negative number of seconds. */
export function sleepMs(seconds: number | undefined): number {
  const s = seconds ?? 0;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) {
    throw new RangeError(
      `sleep(seconds): expected a non-negative number of seconds, got ${String(s)}`,
    );
  }
  return s * 1000;
}

/** Whether a value is a generator object (a generator-function handler's result). */
export function isGenerator(value: unknown): value is Generator<unknown, unknown, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Generator).next === 'function' &&
    typeof (value as Generator).throw === 'function' &&
    typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Steps a generator handler to completion: a bare `yield` gives up the turn
 * through `yieldTurn`, `yield promise` waits for it and sends its value (or
 * throws its error) back in. Every step runs through `enter`.
 */
export async function driveGenerator<T>(
  gen: Generator<unknown, T, unknown>,
  enter: <R>(fn: () => R) => R,
  yieldTurn: () => Promise<void>,
): Promise<T> {
  let input: unknown;
  let error: unknown;
  let failed = false;
  for (;;) {
    const sent = input;
    const thrown = failed;
    const step = enter(() => (thrown ? gen.throw(error) : gen.next(sent)));
    if (step.done === true) return step.value;
    failed = false;
    input = undefined;
    if (isThenable(step.value)) {
      try {
        input = await step.value;
      } catch (e) {
        failed = true;
        error = e;
      }
    } else {
      await yieldTurn();
    }
  }
}

/** Runs a job's body, driving it if it turns out to be a generator. */
export async function runJob<T>(
  run: () => T | Promise<T> | Generator<unknown, T, unknown>,
  enter: (<R>(fn: () => R) => R) | undefined,
  yieldTurn: () => Promise<void>,
): Promise<T> {
  const result = run();
  if (isGenerator(result)) {
    return driveGenerator(result, enter ?? ((fn) => fn()), yieldTurn);
  }
  return result;
}

/**
 * The `dispatchNow` fast path: runs a job at once; a synchronous result comes back as it
 * is (a throw propagates), a generator is driven with `yieldTurn` between its steps.
 */
export function runJobNow<T>(
  job: { run(): T | Promise<T> | Generator<unknown, T, unknown>; enter?<R>(fn: () => R): R },
  yieldTurn: () => Promise<void>,
): T | Promise<T> {
  const result = job.run();
  if (isGenerator(result)) return driveGenerator(result, enterOf(job), yieldTurn);
  return result;
}

/** A job's `enter`, callable on its own (the identity when the job has none). */
export function enterOf(job: { enter?<R>(fn: () => R): R }): <R>(fn: () => R) => R {
  return <R>(fn: () => R): R => (job.enter === undefined ? fn() : job.enter(fn));
}

/**
 * `sleep` on a clock: 0 yields to the event loop (setImmediate, so I/O runs first),
 * anything else waits on the clock. Rejects for a bad number of seconds.
 */
export async function clockSleep(clock: Clock, seconds: number | undefined): Promise<void> {
  const ms = sleepMs(seconds);
  if (ms === 0) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
