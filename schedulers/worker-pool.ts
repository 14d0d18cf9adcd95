/**
 * The `worker-pool` async mode (threading's counterpart): sockets, actors and
 * rooms stay on the main thread; handler invocations and background tasks run
 * in a piscina pool whose threads load the app module. Handler jobs leave in
 * batches (job-batches.ts); a handler's effects and outcome stream back on its
 * thread's own port and are applied in order (see worker-runtime.ts for the
 * message flow).
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { realClock } from './clock.js';
import { EventLoopScheduler } from './event-loop.js';
import { requireOptional } from './optional-dependency.js';
import { JobBatches } from './job-batches.js';
import type { BatchLimits, WireJob } from './job-batches.js';
import { SharedPartsHeld } from './shared-parts.js';
import { invoke, PendingTask, PromiseTask } from './primitives.js';
import type { TaskErrorReporter } from './primitives.js';
import type {
  AsyncMode,
  Clock,
  Event,
  HandlerJob,
  Queue,
  Scheduler,
  SharedPart,
  Task,
} from './scheduler.js';
import type { PoolMessage, PoolWorkerData } from './worker-runtime.js';

/** Options of {@link WorkerPoolScheduler}. */
export interface WorkerPoolSchedulerOptions {
  /** URL or path of the module that creates the server and registers its handlers. */
  appModule: string;
  /** Pool threads. Default: the number of cores. */
  workers?: number;
  /**
   * How long after a thread's last post its effects wait for the ones that follow, to leave
   * together in one message (ms). Default 1; 0 sends each effect at once.
   */
  effectBurstMs?: number;
  clock?: Clock;
  onTaskError?: TaskErrorReporter;
  /** Debug logging (where a task ran). */
  debug?: (message: string) => void;
  /**
   * Problems with the pool itself (its threads cannot load the app module, with the error;
   * a task that ran as an export it was not). Default: `console.error`, with the prefix the
   * default logger uses.
   */
  onPoolError?: (message: string, cause?: unknown) => void;
}

/** Applies one effect a pool thread sent; returns the answer for effects that wait for one. */
export type EffectHandler = (effect: unknown) => unknown;

/** Settles a promise someone waits on (a job's outcome, or `ready()`). */
interface Waiter {
  resolve(outcome: unknown): void;
  reject(error: unknown): void;
}

/** A job sent to the pool: who waits for it, and its kind (whose cost its time updates). */
interface PendingJob extends Waiter {
  readonly key: string;
  /** Its shared part: sent again to a thread that has dropped it (a 'need' message). */
  readonly shared: SharedPart | undefined;
  /** Settles once the job's outcome has been applied (or it failed). */
  readonly settled: Promise<unknown>;
}

/**
 * How jobs are batched (see job-batches.ts): up to 64 jobs or about 1 ms of measured
 * thread time per pool task, two tasks per thread out at once (the pool is opened with
 * `concurrentTasksPerWorker: 2`): the second waits in the thread's port and starts the
 * moment the first ends, instead of a round trip to the main thread later (CPU-bound 1 ms
 * handlers: 1.44-1.48x event-loop's rate with one, 1.66-1.69x with two). None waits in
 * piscina's queue, and a client has at most one batch out: a job is cloned when it
 * leaves, so a client's next event sees the session its previous one left.
 */
function batchLimits(workers: number): BatchLimits {
  return { maxJobs: 64, budgetMs: 1, maxInFlight: 2 * workers };
}

/** A structured-clone failure of a handler's arguments, said as what to fix. */
function cloneFailure(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  return error.name === 'DataCloneError'
    ? new Error(
        `handler arguments must survive structured clone to reach a worker thread (${error.message})`,
      )
    : error;
}

/**
 * Loads piscina on demand, so the other modes work without it; a missing
 * install fails here with an error that names the fix.
 */
export function loadPiscina(): typeof Piscina {
  return requireOptional<{ Piscina: typeof Piscina }>('piscina', "async mode 'worker-pool'")
    .Piscina;
}

/** A task's name for the debug log. */
function taskName(target: { readonly name: string }): string {
  return target.name || '(anonymous)';
}

/** Which route key (`nsp\0event`) a job is for; jobs whose key no thread knows run locally. */
export function routeKey(nsp: string, event: string): string {
  return `${nsp}\0${event}`;
}

/**
 * A piscina pool that runs handler jobs and exported background tasks.
 *
 * @example
 * ```ts
 * const s = new WorkerPoolScheduler({ appModule: import.meta.url, workers: 2 });
 * await s.ready();
 * ```
 */
export class WorkerPoolScheduler implements Scheduler {
  readonly mode = 'worker-pool' as const;
  readonly clock: Clock;
  readonly workers: number;
  #pool: Piscina;
  #channel: BroadcastChannel;
  readonly #appModule: string;
  readonly #effectBurstMs: number | undefined;
  readonly #onTaskError: TaskErrorReporter;
  readonly #onPoolError: (message: string, cause?: unknown) => void;
  readonly #debug: (message: string) => void;
  readonly #jobs = new Map<number, PendingJob>();
  /** Which threads hold which shared parts (see RemoteJob.shared). */
  readonly #held: SharedPartsHeld;
  /** Handler jobs waiting for the pool, and the batches they leave in. */
  readonly #batches: JobBatches;
  readonly #keys = new Set<string>();
  readonly #readyThreads = new Set<number>();
  #readyWaiters: Waiter[] = [];
  /**
   * Set when a thread fails before any is ready: every thread loads the same module, so the
   * pool cannot run anything, and handlers and tasks run on the main thread until reopen().
   */
  #loadFailure: Error | undefined;
  /**
   * Work that waits for the first thread to load the app module (or fail to): jobs that
   * arrived before (a server attached without run()), and tasks to place.
   */
  #firstThreadWaiters: (() => void)[] = [];
  #nextJobId = 0;
  #running = 0;
  #effects: EffectHandler = () => undefined;
  /** The app module's namespace on the main thread, once it has finished evaluating. */
  #exports: Record<string, unknown> | undefined;
  /** Resolves whether the main thread could import the app module. */
  #exportsLoading: Promise<boolean> | undefined;
  /** The `name` of every function the app module exports, as the pool threads report it. */
  #exportedNames: ReadonlySet<string> | undefined;
  #closed = false;
  /** What runs on the main thread (jobs no pool thread has, closures, sleeps) runs as in event-loop mode. */
  readonly #local: EventLoopScheduler;

  constructor(options: WorkerPoolSchedulerOptions) {
    this.clock = options.clock ?? realClock;
    this.workers = options.workers ?? availableParallelism();
    this.#appModule = options.appModule;
    const burst = options.effectBurstMs;
    if (burst !== undefined && !(Number.isFinite(burst) && burst >= 0))
      throw new RangeError(
        `worker-pool: effectBurstMs must be a number of milliseconds, 0 or more (got ${String(burst)})`,
      );
    this.#effectBurstMs = burst;
    this.#onTaskError =
      options.onTaskError ?? ((error) => console.error('background task failed:', error));
    this.#onPoolError =
      options.onPoolError ?? ((...problem) => console.error('socketio-actors:', ...problem));
    this.#debug = options.debug ?? (() => undefined);
    this.#local = new EventLoopScheduler({ clock: this.clock, onTaskError: this.#onTaskError });
    this.#batches = new JobBatches(batchLimits(this.workers), (jobs) => this.#runBatch(jobs));
    this.#held = new SharedPartsHeld(this.workers, (keys) => {
      if (!this.#closed) this.#channel.postMessage({ kind: 'forget', keys } satisfies PoolMessage);
    });
    [this.#channel, this.#pool] = this.#open();
  }

  /** A new reply channel and a new pool whose threads load the app module. */
  #open(): [BroadcastChannel, Piscina] {
    const name = `socketio-actors:${randomUUID()}`;
    const channel = new BroadcastChannel(name);
    const pool = new (loadPiscina())({
      filename: new URL('./worker-pool-thread.js', import.meta.url).href,
      workerData: {
        socketioActorsPool: {
          appModule: this.#appModule,
          channel: name,
          effectBurstMs: this.#effectBurstMs,
        } satisfies PoolWorkerData,
      },
      minThreads: this.workers,
      maxThreads: this.workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      // 'disabled': a thread's event loop keeps turning between tasks, so timers,
      // sleeps and background tasks in it progress.
      atomics: 'disabled',
      // Two batches per thread (see batchLimits); a client's jobs are never in both.
      concurrentTasksPerWorker: 2,
    });
    // What a thread posts on its parentPort (effects, outcomes, 'ready'): piscina passes it
    // on as a 'message' event. One port per thread keeps its messages in order and wakes
    // no other thread.
    pool.on('message', (message: PoolMessage) => this.#onMessage(message));
    pool.on('error', (error: unknown) => {
      if (this.#readyThreads.size === 0) this.#failToLoad(error);
      else this.#onTaskError(error);
    });
    return [channel, pool];
  }

  /** A new pool after `close()`: its threads load the app module again (await `ready()`). */
  reopen(): void {
    if (!this.#closed) return;
    this.#closed = false;
    this.#loadFailure = undefined;
    this.#readyThreads.clear();
    this.#keys.clear();
    [this.#channel, this.#pool] = this.#open();
  }

  /** Sets who applies effects from pool threads (the server does, once). */
  setEffectHandler(handler: EffectHandler): void {
    this.#effects = handler;
  }

  /**
   * Resolves once every thread has loaded the app module; rejects when the threads cannot
   * load it (the error names the module and says why).
   */
  ready(): Promise<void> {
    if (this.#loadFailure !== undefined) return Promise.reject(this.#loadFailure);
    if (this.#readyThreads.size >= this.workers) return Promise.resolve();
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  #takeReadyWaiters(): Waiter[] {
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    return waiters;
  }

  /**
   * The pool's threads cannot load the app module (piscina replaces a failing thread once
   * more before it gives up): said once, and from then on everything runs on the main
   * thread, as a handler the pool does not have would.
   */
  #failToLoad(cause: unknown): void {
    if (this.#loadFailure !== undefined) return;
    const why = cause instanceof Error ? cause.message : String(cause);
    this.#loadFailure = new Error(
      `worker-pool: the pool threads could not load the app module ${this.#appModule} (${why}); handlers and background tasks run on the main thread`,
      { cause },
    );
    this.#onPoolError(this.#loadFailure.message, cause);
    this.#releaseFirstThreadWaiters();
    for (const waiter of this.#takeReadyWaiters()) waiter.reject(this.#loadFailure);
  }

  /** Jobs waiting for the pool, and pool tasks queued in it. */
  get queueDepth(): number {
    return this.#batches.queued + this.#pool.queueSize;
  }

  load(): { queued: number; busy: number } {
    return { queued: this.queueDepth, busy: this.busyWorkers };
  }

  /** Threads busy with a job or task. */
  get busyWorkers(): number {
    return Math.min(this.#running, this.workers);
  }

  #track<R>(work: Promise<R>): Promise<R> {
    this.#running++;
    return work.finally(() => this.#running--);
  }

  #onMessage(message: PoolMessage): void {
    switch (message.kind) {
      case 'ready':
        for (const key of message.keys) this.#keys.add(key);
        this.#exportedNames ??= new Set(message.functions);
        this.#readyThreads.add(message.thread);
        this.#releaseFirstThreadWaiters();
        if (this.#readyThreads.size >= this.workers && this.#loadFailure === undefined)
          for (const waiter of this.#takeReadyWaiters()) waiter.resolve(undefined);
        return;
      case 'effect':
        return this.#applyEffect(message.thread, message.replyId, message.effect);
      case 'done':
        for (const done of message.jobs) {
          const job = this.#finish(done.id, message.thread);
          if (job === undefined) continue;
          this.#batches.measured(job.key, done.ms);
          job.resolve(done.outcome);
        }
        return;
      case 'failed':
        this.#finish(message.id, message.thread)?.reject(new Error(message.message));
        return;
      case 'batch':
        for (const each of message.messages) this.#onMessage(each);
        return;
      case 'lost':
        return this.#onTaskError(new Error(message.message));
      case 'need': {
        const shared = this.#jobs.get(message.id)?.shared;
        if (shared === undefined)
          return this.#reply(message.thread, message.replyId, false, 'the job has ended');
        return this.#reply(message.thread, message.replyId, true, shared.value);
      }
      case 'reply':
      case 'forget':
        return;
    }
  }

  /** A job is back (done on `thread`, or failed): no longer pending, its shared part updated. */
  #finish(id: number, thread?: number): PendingJob | undefined {
    const job = this.#jobs.get(id);
    if (job === undefined) return undefined;
    this.#jobs.delete(id);
    if (job.shared !== undefined) this.#held.done(job.shared.key, thread);
    return job;
  }

  #reply(thread: number, replyId: number, ok: boolean, value: unknown): void {
    if (!this.#closed)
      this.#channel.postMessage({
        kind: 'reply',
        thread,
        replyId,
        ok,
        value,
      } satisfies PoolMessage);
  }

  #applyEffect(thread: number, replyId: number | undefined, effect: unknown): void {
    const answer = invoke(() => this.#effects(effect));
    if (replyId === undefined) {
      answer.catch((error: unknown) => this.#onTaskError(error));
      return;
    }
    answer.then(
      (value) => this.#reply(thread, replyId, true, value),
      (error: unknown) => this.#reply(thread, replyId, false, error),
    );
  }

  forgetShared(key: string): void {
    this.#held.forget(key);
  }

  /** Whether some pool thread has a handler for a route key (`nsp\0event`, or `nsp\0*`). */
  handles(key: string): boolean {
    const nsp = key.slice(0, key.indexOf('\0'));
    return this.#keys.has(key) || this.#keys.has(routeKey(nsp, '*'));
  }

  /** Resolves once a thread has loaded the app module, or the pool cannot run anything. */
  #firstThread(): Promise<void> {
    if (this.#readyThreads.size > 0 || this.#poolUnusable() !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#firstThreadWaiters.push(resolve));
  }

  #releaseFirstThreadWaiters(): void {
    const jobs = this.#firstThreadWaiters;
    this.#firstThreadWaiters = [];
    for (const run of jobs) run();
  }

  dispatch<T>(job: HandlerJob<T>): Promise<T> {
    const remote = job.remote;
    if (remote === undefined || this.#closed || this.#loadFailure !== undefined) {
      return this.#local.dispatch(job);
    }
    if (this.#readyThreads.size === 0) {
      // Which handlers the threads have is not known yet: wait for the first one to say.
      return this.#firstThread().then(() => this.dispatch(job));
    }
    if (!this.handles(remote.key)) {
      return this.#local.dispatch(job);
    }
    const id = ++this.#nextJobId;
    let waiter!: Waiter;
    const outcome = new Promise<unknown>((resolve, reject) => (waiter = { resolve, reject }));
    const settled = outcome.then((value) => remote.settle(value));
    const shared = remote.shared;
    this.#jobs.set(id, { ...waiter, key: remote.key, shared, settled });
    this.#batches.push(remote.key, {
      id,
      request: remote.request,
      lane: remote.lane,
      shared: shared === undefined ? undefined : this.#held.leave(shared),
    });
    return settled;
  }

  /**
   * Runs one batch as one pool task; its jobs settle as their 'done' messages arrive. A
   * batch the pool cannot take (one job's arguments do not survive structured clone) is
   * sent again job by job, so that only that job fails.
   */
  async #runBatch(jobs: WireJob[]): Promise<void> {
    // The batch is back once every outcome has been applied, not only once the task ended.
    const settled = jobs.flatMap(({ id }) => {
      const job = this.#jobs.get(id);
      return job === undefined ? [] : [job.settled.catch(() => undefined)];
    });
    try {
      await this.#track(this.#pool.run({ kind: 'jobs', jobs }));
      await Promise.all(settled);
    } catch (error) {
      if (jobs.length > 1 && error instanceof Error && error.name === 'DataCloneError') {
        await Promise.all(jobs.map((job) => this.#runBatch([job])));
        return;
      }
      for (const { id } of jobs) this.#finish(id)?.reject(cloneFailure(error));
    }
  }

  /**
   * Starts a background task: an exported function of the app module in the pool, any
   * other function on the main thread. What the module exports is known in two steps: the
   * names of its exported functions, from the first pool thread that has loaded it (which
   * never depends on the main thread); their identity, from the module's namespace on the
   * main thread, only once the module has finished evaluating. So a function:
   *
   *   anonymous, or named like no export  → main thread at once (or once the first
   *                                         thread has said which names it exports)
   *   the module has evaluated            → by identity, at once
   *   named like an export, meanwhile     → `pending` until the module has evaluated,
   *                                         then by identity; but once its join() is
   *                                         called, in the pool by that name at once
   *
   * Why by name on join(): the module's own top-level code may be what awaits the task,
   * and the module cannot finish evaluating before it does (waiting for its namespace
   * would deadlock). The export of that name is the function passed in every case but
   * one, a local function sharing an export's name; that case is found out and logged
   * once the module has evaluated, never silent.
   */
  startBackgroundTask<A extends unknown[], T>(
    target: (...args: A) => T | Promise<T>,
    ...args: A
  ): Task<Awaited<T>> {
    const evaluated = this.#exports !== undefined && this.#readyThreads.size > 0;
    if (evaluated || this.#poolUnusable() !== undefined || !this.#mayBeExported(target)) {
      return this.#place(target, args).task;
    }
    return this.#placeLater(target, args);
  }

  /** A task placed once the pool, then the module's namespace or a join(), say where. */
  #placeLater<A extends unknown[], T>(
    target: (...args: A) => T | Promise<T>,
    args: A,
  ): Task<Awaited<T>> {
    let joined!: () => void;
    const joining = new Promise<void>((resolve) => (joined = resolve));
    const task = new PendingTask<Awaited<T>>(
      this.#untilPlaceable(target, joining).then((byName) => {
        const placed = byName ? this.#placeByName(target, args) : this.#place(target, args);
        task.place(placed.mode);
        return placed.task.join();
      }),
      joined,
    );
    return task;
  }

  /** Waits until a task can be placed; resolves true to place it by its name (see above). */
  async #untilPlaceable(
    target: { readonly name: string },
    joining: Promise<void>,
  ): Promise<boolean> {
    const name = taskName(target);
    if (this.#readyThreads.size === 0) {
      this.#debug(`background task ${name} waits for a pool thread to load the app module`);
      await this.#firstThread();
    }
    if (this.#poolUnusable() !== undefined || !this.#mayBeExported(target)) return false;
    if (this.#exports === undefined) {
      this.#debug(
        `background task ${name} waits for the app module to finish evaluating, to tell whether the module exports it`,
      );
      await Promise.race([this.#loadNamespace(), joining]);
    }
    return this.#exports === undefined && this.#poolUnusable() === undefined;
  }

  /** Starts a task where it belongs, as far as the exports loaded so far tell. */
  #place<A extends unknown[], T>(
    target: (...args: A) => T | Promise<T>,
    args: A,
  ): { mode: AsyncMode; task: Task<Awaited<T>> } {
    const exportName = this.#exportName(target);
    const unusable = this.#poolUnusable();
    if (exportName === undefined || unusable !== undefined) {
      this.#debug(
        `background task ${taskName(target)} ${unusable ?? 'is not exported by the app module'}: it runs on the main thread`,
      );
      return { mode: this.#local.mode, task: this.#local.startBackgroundTask(target, ...args) };
    }
    this.#debug(`background task ${exportName} runs in the worker pool`);
    return this.#runInPool(exportName, args);
  }

  /**
   * Starts a task that someone awaits before the module has evaluated as the export that
   * has its name, then checks, once the module has evaluated, that it was that export.
   */
  #placeByName<A extends unknown[], T>(
    target: (...args: A) => T | Promise<T>,
    args: A,
  ): { mode: AsyncMode; task: Task<Awaited<T>> } {
    const name = target.name;
    this.#debug(
      `background task ${name} is awaited while the app module is still evaluating: it runs in the worker pool as the export named ${name}`,
    );
    void this.#loadNamespace().then((loaded) => {
      if (loaded && this.#exports?.[name] !== target)
        this.#onPoolError(
          `background task ${name} ran in the worker pool as the app module's export ${name}, but the function started was not that export: awaited while the module was still evaluating, a task can only be told by its name. Give a local function a name no export has, or export the function under its own name.`,
        );
    });
    return this.#runInPool(name, args);
  }

  #runInPool<T>(exportName: string, args: unknown[]): { mode: AsyncMode; task: Task<T> } {
    const running = this.#track(this.#pool.run({ kind: 'task', exportName, args }) as Promise<T>);
    return { mode: this.mode, task: new PromiseTask(this.mode, running, this.#onTaskError) };
  }

  /** Why nothing can run in the pool (closed, or its threads cannot load the app module), if so. */
  #poolUnusable(): string | undefined {
    if (this.#closed) return 'started after the worker pool closed';
    if (this.#loadFailure !== undefined)
      return 'started where the pool threads cannot load the app module';
    return undefined;
  }

  /**
   * Whether a function may be one of the app module's exports: told by identity once the
   * module has evaluated; before, an anonymous function is not one, and a named one may be
   * until a pool thread has reported the names of the functions the module exports.
   */
  #mayBeExported(target: { readonly name: string }): boolean {
    if (this.#exports !== undefined) return this.#exportName(target) !== undefined;
    if (target.name === '') return false;
    return this.#exportedNames?.has(target.name) ?? true;
  }

  /**
   * Loads the app module's exports on the main thread, so exported tasks can be
   * recognised. Never awaited by `run()`: the app module often calls `run()` from its
   * own top-level `await`, and importing a module that is still evaluating waits for it
   * to finish. A module that cannot be loaded exports nothing here (tasks stay on the
   * main thread); the pool threads report why it fails.
   */
  async loadExports(): Promise<void> {
    await this.#loadNamespace();
  }

  /** Resolves whether the main thread could import the app module (see loadExports). */
  #loadNamespace(): Promise<boolean> {
    this.#exportsLoading ??= import(this.#appModule).then(
      (namespace: Record<string, unknown>) => {
        this.#exports = namespace;
        return true;
      },
      (error: unknown) => {
        this.#exports = {};
        this.#debug(`the app module could not be loaded on the main thread: ${String(error)}`);
        return false;
      },
    );
    return this.#exportsLoading;
  }

  #exportName(target: unknown): string | undefined {
    const exports = this.#exports;
    if (exports === undefined) return undefined;
    return Object.keys(exports).find((name) => exports[name] === target);
  }

  sleep(seconds?: number): Promise<void> {
    return this.#local.sleep(seconds);
  }

  createQueue<T>(): Queue<T> {
    return this.#local.createQueue<T>();
  }

  createEvent(): Event {
    return this.#local.createEvent();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#releaseFirstThreadWaiters();
    this.#channel.close();
    this.#batches.clear();
    for (const job of this.#jobs.values()) job.reject(new Error('the worker pool was closed'));
    this.#jobs.clear();
    this.#held.clear();
    await this.#pool.destroy();
  }
}
