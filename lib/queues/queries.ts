/**
 * Cluster queries: a request published on the channel with an id, answered by every other
 * live server process. Each query knows whom it waits for (the live members when it was
 * asked), settles as soon as all of them answered or left, and rejects with
 * {@link ClusterTimeoutError} when its time is up. None waits forever.
 *
 *   ask(id 7, waits for A and B) ──▶ answer A ──▶ B leaves (bye / silent) ──▶ resolves [A's]
 *                                └──▶ time up first ──▶ rejects: "1 of 2 processes answered"
 */
import { ClusterTimeoutError, ConnectionClosedError } from '../errors.js';
import type { Clock, TimerHandle } from '../../schedulers/scheduler.js';

interface Pending {
  readonly operation: string;
  readonly seconds: number;
  /** The members that have neither answered nor left. */
  readonly waiting: Set<string>;
  readonly answered: Set<string>;
  readonly answers: unknown[];
  readonly timer: TimerHandle;
  readonly resolve: (answers: unknown[]) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The queries this process asked and still waits on.
 *
 * @example
 * ```ts
 * const answers = queries.ask('fetchSockets()', members.ids(), 5000, (id) =>
 *   publish({ method: 'sa_query', id, ... }),
 * );
 * queries.answer(id, from, value); // as answers arrive
 * ```
 */
export class Queries {
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(private readonly clock: Clock) {}

  /**
   * Starts a query that waits for `members` (processes' ids): `send(id)` publishes it (when it
   * throws, the query is dropped and rejects with its error); `operation` names it in the
   * timeout error. Resolves with the answers in arrival order; with no members, at once, and
   * nothing is sent.
   */
  ask(
    operation: string,
    members: readonly string[],
    timeoutMs: number,
    send: (id: number) => void,
  ): Promise<unknown[]> {
    if (members.length === 0) return Promise.resolve([]);
    const id = this.#nextId++;
    try {
      send(id);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return new Promise<unknown[]>((resolve, reject) => {
      const pending: Pending = {
        operation,
        seconds: timeoutMs / 1000,
        waiting: new Set(members),
        answered: new Set(),
        answers: [],
        timer: this.clock.setTimeout(() => {
          this.#pending.delete(id);
          const expected = pending.answered.size + pending.waiting.size;
          reject(new ClusterTimeoutError(operation, pending.seconds, pending.answers, expected));
        }, timeoutMs),
        resolve,
        reject,
      };
      this.#pending.set(id, pending);
    });
  }

  /**
   * A process answered query `id`: counted once, and only from a process the query waits for
   * (a late answer, or one from a process it did not ask, is dropped).
   */
  answer(id: number, from: string, value: unknown): void {
    const pending = this.#pending.get(id);
    if (pending === undefined || !pending.waiting.has(from)) return;
    pending.answered.add(from);
    pending.waiting.delete(from);
    pending.answers.push(value);
    this.#settleIfDone(id, pending);
  }

  /** A process left: no query waits for it any more. */
  gone(from: string): void {
    for (const [id, pending] of this.#pending)
      if (pending.waiting.delete(from)) this.#settleIfDone(id, pending);
  }

  /** How many queries wait. */
  get size(): number {
    return this.#pending.size;
  }

  /** Rejects every waiting query (the server stops). */
  close(reason: string): void {
    for (const pending of this.#pending.values()) {
      this.clock.clearTimeout(pending.timer);
      pending.reject(new ConnectionClosedError(reason));
    }
    this.#pending.clear();
  }

  #settleIfDone(id: number, pending: Pending): void {
    if (pending.waiting.size > 0) return;
    this.#pending.delete(id);
    this.clock.clearTimeout(pending.timer);
    pending.resolve(pending.answers);
  }
}
