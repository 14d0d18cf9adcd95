/**
 * Building blocks shared by the schedulers: a promise-backed task, a waiting
 * queue and an event. Each mode composes them with its own way of running code.
 */
import type { AsyncMode, Event, Queue, Task } from './scheduler.js';

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
  readonly #done: Promise<T>;

  constructor(
    readonly mode: AsyncMode,
    running: Promise<T>,
    report: TaskErrorReporter,
  ) {
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
