/**
 * Which pool threads hold which shared parts (a client's handshake, see
 * RemoteJob.shared), as the main thread knows it: a job carries its part's value
 * until every thread has reported a job of that key done, and once the key is
 * forgotten and its last job is done, the threads are told to drop it.
 *
 * ```
 *  leave(part) ── some thread may lack it ──> { key, value }
 *              ── every thread holds it ───> { key }   (a thread that dropped it asks)
 *  done(key, thread)     the thread holds it from now on
 *  forget(key)           once no job of key is out: onForget([key, …]), batched per tick
 * ```
 */
import type { SharedWire } from './job-batches.js';
import type { SharedPart } from './scheduler.js';

/** How many dropped keys are remembered, so that a late job of one is not tracked again. */
const REMEMBERED = 1024;

/** One key: the threads that hold it, and its jobs that are out. */
interface Holders {
  readonly threads: Set<number>;
  out: number;
  forgotten: boolean;
}

/**
 * The main thread's record of shared parts held by pool threads.
 *
 * @example
 * ```ts
 * const held = new SharedPartsHeld(2, (keys) => channel.postMessage({ kind: 'forget', keys }));
 * const wire = held.leave({ key: sid, value: handshake }); // carries the value
 * held.done(sid, threadId);
 * held.forget(sid);
 * ```
 */
export class SharedPartsHeld {
  readonly #keys = new Map<string, Holders>();
  #forgotten: string[] = [];
  /** Keys dropped lately, oldest first. */
  readonly #dropped = new Set<string>();

  constructor(
    /** How many threads the pool has: a part every one of them holds stops travelling. */
    private readonly threads: number,
    /** Tells the threads to drop these keys. */
    private readonly onForget: (keys: string[]) => void,
    private readonly defer: (flush: () => void) => void = (flush) => void setImmediate(flush),
  ) {}

  /** Keys with a job out or held by some thread. */
  get size(): number {
    return this.#keys.size;
  }

  /** A job naming `part` leaves: its wire form, with the value unless every thread holds it. */
  leave(part: SharedPart): SharedWire {
    // A client that has gone may still have a job (its error handler): it carries its part,
    // which no thread keeps and nothing here tracks.
    if (this.#dropped.has(part.key)) return { key: part.key, value: part.value, once: true };
    let holders = this.#keys.get(part.key);
    if (holders === undefined) {
      holders = { threads: new Set(), out: 0, forgotten: false };
      this.#keys.set(part.key, holders);
    }
    holders.out++;
    return holders.threads.size >= this.threads
      ? { key: part.key }
      : { key: part.key, value: part.value };
  }

  /** A job of `key` is back: done on `thread` (which holds the part now), or failed. */
  done(key: string, thread?: number): void {
    const holders = this.#keys.get(key);
    if (holders === undefined) return;
    holders.out--;
    if (thread !== undefined) holders.threads.add(thread);
    if (holders.forgotten && holders.out <= 0) this.#drop(key, holders);
  }

  /** No job will name `key` again: the threads drop it once its jobs are back. */
  forget(key: string): void {
    const holders = this.#keys.get(key);
    if (holders === undefined) return;
    holders.forgotten = true;
    if (holders.out <= 0) this.#drop(key, holders);
  }

  /** Forgets everything (the pool closed; new threads start empty). */
  clear(): void {
    this.#keys.clear();
    this.#dropped.clear();
    this.#forgotten = [];
  }

  #drop(key: string, holders: Holders): void {
    this.#keys.delete(key);
    this.#dropped.add(key);
    if (this.#dropped.size > REMEMBERED) {
      const oldest = this.#dropped.keys().next();
      if (oldest.done !== true) this.#dropped.delete(oldest.value);
    }
    if (holders.threads.size === 0) return;
    if (this.#forgotten.push(key) > 1) return;
    this.defer(() => {
      const keys = this.#forgotten;
      this.#forgotten = [];
      if (keys.length > 0) this.onForget(keys);
    });
  }
}
