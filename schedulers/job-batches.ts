/**
 * Handler jobs on their way to the worker pool, grouped into batches: one pool
 * task carries every job queued at the moment, up to a bound, instead of one
 * task (one structured clone, one round trip) per event.
 *
 * ```
 *  dispatch(job) ──> queue ──(setImmediate, or a batch comes back)──> take():
 *     FIFO, at least one job; more while the batch's estimated thread time
 *     stays under the budget and its size under the cap
 *  ──> send(batch) ──> one pool task; at most `maxInFlight` batches at once
 * ```
 * The budget keeps CPU-bound handlers apart: a job kind measured at 1 ms goes
 * alone, as before batching, so no thread holds many of them while another
 * idles; cheap jobs (an echo is tens of microseconds) share a task. A kind never
 * measured counts as the whole budget until a thread reports its time.
 */

import { Fifo } from './fifo.js';

/** Bounds of a batch. */
export interface BatchLimits {
  /** Most jobs in one batch. */
  readonly maxJobs: number;
  /** Most estimated thread time (ms) in one batch; a batch always takes at least one job. */
  readonly budgetMs: number;
  /** Most batches sent and not yet back. */
  readonly maxInFlight: number;
}

/** One job as it crosses to a pool thread. */
export interface WireJob {
  readonly id: number;
  readonly request: unknown;
  /** Jobs of one lane in a batch run one after the other (see RemoteJob.lane). */
  readonly lane?: string;
}

/** A queued job and the kind its cost is measured by. */
interface QueuedJob {
  readonly key: string;
  readonly wire: WireJob;
}

/** How much of a new measurement a kind's estimate takes. */
const SMOOTHING = 0.25;

/**
 * The queue of jobs waiting for the pool and the batches they leave in.
 *
 * @example
 * ```ts
 * const batches = new JobBatches({ maxJobs: 64, budgetMs: 1, maxInFlight: 4 }, (jobs) =>
 *   pool.run({ kind: 'jobs', jobs }),
 * );
 * batches.push('/\0echo', { id: 1, request });
 * ```
 */
export class JobBatches {
  readonly #queue = new Fifo<QueuedJob>();
  #inFlight = 0;
  #flushScheduled = false;
  /** Measured thread time per job kind, in ms. */
  readonly #costs = new Map<string, number>();

  constructor(
    readonly limits: BatchLimits,
    /** Sends one batch; the promise settles when the pool task has ended. */
    private readonly send: (jobs: WireJob[]) => Promise<unknown>,
    /** Defers a flush to the end of this turn, so events read together leave together. */
    private readonly defer: (flush: () => void) => void = (flush) => void setImmediate(flush),
  ) {}

  /** Jobs waiting to be sent. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Batches sent and not yet back. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Queues a job of kind `key`; it leaves with the next batch. */
  push(key: string, wire: WireJob): void {
    this.#queue.push({ key, wire });
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    this.defer(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  /** Records how long a job of kind `key` kept a thread busy. */
  measured(key: string, ms: number): void {
    const before = this.#costs.get(key);
    this.#costs.set(key, before === undefined ? ms : before + SMOOTHING * (ms - before));
  }

  /** The estimated thread time of a job of kind `key`: the budget while never measured. */
  cost(key: string): number {
    return this.#costs.get(key) ?? this.limits.budgetMs;
  }

  /** Sends batches while jobs wait and fewer than `maxInFlight` are out. */
  flush(): void {
    while (this.queued > 0 && this.#inFlight < this.limits.maxInFlight) {
      const batch = this.take();
      this.#inFlight++;
      const back = (): void => {
        this.#inFlight--;
        this.flush();
      };
      this.send(batch).then(back, back);
    }
  }

  /** Takes the next batch off the queue (FIFO): at least one job, then as many as fit. */
  take(): WireJob[] {
    const batch: WireJob[] = [];
    let spent = 0;
    for (let job = this.#queue.peek(); job !== undefined; job = this.#queue.peek()) {
      const cost = this.cost(job.key);
      if (
        batch.length > 0 &&
        (batch.length >= this.limits.maxJobs || spent + cost > this.limits.budgetMs)
      )
        break;
      batch.push(job.wire);
      spent += cost;
      this.#queue.shift();
    }
    return batch;
  }

  /** Drops every queued job (the pool closed); returns their ids. */
  clear(): number[] {
    return this.#queue.drain().map((job) => job.wire.id);
  }
}
