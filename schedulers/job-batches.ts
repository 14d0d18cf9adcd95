/**
 * Handler jobs on their way to the worker pool, grouped into batches: one pool
 * task carries every job queued at the moment, up to a bound, instead of one
 * task (one structured clone, one round trip) per event.
 *
 * ```
 *  dispatch(job) ──> its lane's queue ──(setImmediate, or a batch comes back)──> take():
 *     lanes in the order they became ready, each lane's jobs in order; at least
 *     one job, more while the batch's estimated thread time stays under the
 *     budget and its size under the cap
 *  ──> send(batch) ──> one pool task; at most `maxInFlight` batches at once
 * ```
 * The budget keeps CPU-bound handlers apart: a job kind measured at 1 ms goes
 * alone, as before batching, so no thread holds many of them while another
 * idles; cheap jobs (an echo is tens of microseconds) share a task. A kind never
 * measured counts as the whole budget until a thread reports its time.
 *
 * A lane (one client's jobs) is in at most one batch that is out: its later jobs
 * wait until that batch is back. Two handlers of one client (asyncHandlers lets
 * them overlap) therefore never run at once on two threads, where each would
 * start from the same copy of the session and the last to end would drop what
 * the other wrote. Within a batch, a thread runs a lane's jobs one after the other.
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
  /** The job's shared part (see RemoteJob.shared). */
  readonly shared?: SharedWire;
}

/**
 * A job's shared part as it crosses: its key, with its value unless every thread was known
 * to hold it; `once` when the key was already forgotten (a job of a client that has gone):
 * the thread uses the value without keeping it.
 */
export interface SharedWire {
  readonly key: string;
  readonly value?: unknown;
  readonly once?: boolean;
}

/** A queued job and the kind its cost is measured by. */
interface QueuedJob {
  readonly key: string;
  readonly wire: WireJob;
}

/** One lane's waiting jobs, and how many batches out hold some of its jobs (0 or 1). */
export interface Lane {
  readonly name: string;
  readonly jobs: Fifo<QueuedJob>;
  out: number;
}

/** Jobs sent together, and the lanes they came from (given back with {@link JobBatches.release}). */
export interface Batch {
  readonly jobs: WireJob[];
  readonly lanes: readonly Lane[];
}

/** How much of a new measurement a kind's estimate takes. */
const SMOOTHING = 0.25;

/**
 * A measurement counts at most this many times the estimate. Thread time is wall time: a
 * thread the OS preempts mid-job (four busy threads on two cores) measures a 50 µs job at 3
 * to 5 ms now and then, and without a bound those spikes kept a broadcast handler's estimate
 * near the budget, so its jobs went one per batch. A job that really became dearer still
 * moves the estimate up 1.75x per measurement.
 */
const SPIKE_LIMIT = 4;

/**
 * The queue of jobs waiting for the pool and the batches they leave in.
 *
 * @example
 * ```ts
 * const batches = new JobBatches({ maxJobs: 64, budgetMs: 1, maxInFlight: 4 }, (jobs) =>
 *   pool.run({ kind: 'jobs', jobs }),
 * );
 * batches.push('/\0echo', { id: 1, request, lane: sid });
 * ```
 */
export class JobBatches {
  /** Lanes with waiting jobs and no batch out, in the order they became so. */
  readonly #ready = new Fifo<Lane>();
  /** Lanes with waiting jobs or a batch out. */
  readonly #lanes = new Map<string, Lane>();
  #queued = 0;
  /** Names the lanes of jobs that have none: each is a lane of its own. */
  #anonymous = 0;
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
    return this.#queued;
  }

  /** Batches sent and not yet back. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Queues a job of kind `key`; it leaves with the next batch its lane may join. */
  push(key: string, wire: WireJob): void {
    const name = wire.lane ?? `\0${this.#anonymous++}`;
    let lane = this.#lanes.get(name);
    if (lane === undefined) {
      lane = { name, jobs: new Fifo<QueuedJob>(), out: 0 };
      this.#lanes.set(name, lane);
    }
    lane.jobs.push({ key, wire });
    this.#queued++;
    if (lane.out === 0 && lane.jobs.size === 1) this.#ready.push(lane);
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
    if (before === undefined) return void this.#costs.set(key, ms);
    const sample = before > 0 ? Math.min(ms, SPIKE_LIMIT * before) : ms;
    this.#costs.set(key, before + SMOOTHING * (sample - before));
  }

  /** The estimated thread time of a job of kind `key`: the budget while never measured. */
  cost(key: string): number {
    return this.#costs.get(key) ?? this.limits.budgetMs;
  }

  /** Sends batches while jobs may leave and fewer than `maxInFlight` are out. */
  flush(): void {
    while (this.#ready.size > 0 && this.#inFlight < this.limits.maxInFlight) {
      const batch = this.take();
      this.#inFlight++;
      const back = (): void => {
        this.#inFlight--;
        this.release(batch);
        this.flush();
      };
      this.send(batch.jobs).then(back, back);
    }
  }

  /**
   * Takes the next batch: lanes in the order they became ready, each lane's jobs in order,
   * at least one job, then as many as fit. Its lanes wait for {@link release}.
   */
  take(): Batch {
    const jobs: WireJob[] = [];
    const lanes: Lane[] = [];
    let spent = 0;
    for (let lane = this.#ready.peek(); lane !== undefined; lane = this.#ready.peek()) {
      const before = jobs.length;
      let full = false;
      for (let job = lane.jobs.peek(); job !== undefined; job = lane.jobs.peek()) {
        const cost = this.cost(job.key);
        if (
          jobs.length > 0 &&
          (jobs.length >= this.limits.maxJobs || spent + cost > this.limits.budgetMs)
        ) {
          full = true;
          break;
        }
        jobs.push(job.wire);
        spent += cost;
        lane.jobs.shift();
        this.#queued--;
      }
      if (jobs.length > before) {
        // Some of its jobs are in this batch: the lane waits for release() from now on.
        this.#ready.shift();
        lane.out++;
        lanes.push(lane);
      }
      if (full) break;
    }
    return { jobs, lanes };
  }

  /** A batch is back: its lanes' next jobs may leave. */
  release(batch: Batch): void {
    for (const lane of batch.lanes) {
      if (--lane.out > 0) continue;
      if (lane.jobs.size > 0) this.#ready.push(lane);
      else if (this.#lanes.get(lane.name) === lane) this.#lanes.delete(lane.name);
    }
  }

  /** Drops every queued job (the pool closed); returns their ids. */
  clear(): number[] {
    const ids: number[] = [];
    for (const lane of this.#lanes.values())
      for (const job of lane.jobs.drain()) ids.push(job.wire.id);
    this.#ready.drain();
    this.#lanes.clear();
    this.#queued = 0;
    return ids;
  }
}
