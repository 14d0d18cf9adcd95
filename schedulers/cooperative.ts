/**
 * The `cooperative` async mode (gevent's counterpart): one run queue; a task
 * runs until it yields (`await io.sleep(0)`, a bare `yield` in a generator
 * handler, or waiting on a timer). Each turn of the queue runs the steps that
 * were ready when it began, within a time budget, then lets I/O in with
 * `setImmediate`, so one busy client cannot starve the others. A handler's
 * first step runs when its event arrives (`dispatchNow`): a synchronous handler
 * completes there, one that yields continues on the queue.
 *
 * With `clock: 'virtual'`, time stands still while anything is runnable and
 * jumps to the next timer when everything waits: a 25 s heartbeat takes
 * milliseconds. With a `seed`, the next ready step is picked pseudo-randomly
 * (reproducibly), to explore interleavings.
 */
import { realClock, VirtualClock } from './clock.js';
import {
  enterOf,
  FlagEvent,
  PromiseTask,
  runJob,
  runJobNow,
  sleepMs,
  WaitQueue,
} from './primitives.js';
import type { TaskErrorReporter } from './primitives.js';
import type { Clock, Event, HandlerJob, Queue, Scheduler, Task } from './scheduler.js';

/**
 * Options of {@link CooperativeScheduler}.
 *
 * @group Schedulers
 */
export interface CooperativeSchedulerOptions {
  /** `'real'` (default), `'virtual'`, or a clock instance. */
  clock?: 'real' | 'virtual' | Clock;
  /** Pick ready steps pseudo-randomly from this seed instead of first-in first-out. */
  seed?: number;
  /** Real milliseconds a turn may run before I/O gets its chance. Default 1. */
  budgetMs?: number;
  /**
   * Real milliseconds at most that frames written by run-queue steps wait for later steps'
   * frames while the queue stays busy (see {@link CooperativeScheduler.deferFlush}). Default
   * 4; 0 sends them at the end of each turn.
   */
  holdMs?: number;
  /**
   * Virtual clock only: real milliseconds everything must stay idle before
   * time jumps to the next timer (lets loopback I/O such as a pong land first).
   * Default 10; 0 for in-process tests.
   */
  idleMs?: number;
  /** Called with the error of a failed background task. */
  onTaskError?: TaskErrorReporter;
}

type Step = () => void;

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A fair run queue with an optional virtual clock.
 *
 * @example
 * ```ts
 * const s = new CooperativeScheduler({ clock: 'virtual', idleMs: 0 });
 * await s.sleep(3600); // an hour of virtual time, at once
 * ```
 *
 * @group Schedulers
 */
export class CooperativeScheduler implements Scheduler {
  readonly mode = 'cooperative' as const;
  readonly clock: Clock;
  readonly #virtual: VirtualClock | undefined;
  readonly #random: (() => number) | undefined;
  readonly #budgetMs: number;
  readonly #holdMs: number;
  readonly #idleMs: number;
  readonly #onTaskError: TaskErrorReporter;
  #ready: Step[] = [];
  #tickQueued = false;
  /** True from a turn's start until the promise reactions its steps caused have run. */
  #inTurn = false;
  /** Flushes of frames written by steps, waiting for the queue to go quiet (see deferFlush). */
  #held: (() => void)[] = [];
  #heldSince = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Real time handlers started by dispatchNow used since the event loop's last turn. */
  #inlineMs = 0;
  #inlineResetQueued = false;
  /** Steps run since creation (a measure of progress for tests and the status page). */
  steps = 0;

  constructor(options: CooperativeSchedulerOptions = {}) {
    const clock = options.clock ?? 'real';
    this.clock = clock === 'real' ? realClock : clock === 'virtual' ? new VirtualClock() : clock;
    this.#virtual = this.clock instanceof VirtualClock ? this.clock : undefined;
    if (this.#virtual) this.#virtual.onTimerSet = () => this.#watchIdle();
    this.#random = options.seed === undefined ? undefined : prng(options.seed);
    this.#budgetMs = options.budgetMs ?? 1;
    this.#holdMs = options.holdMs ?? 4;
    this.#idleMs = options.idleMs ?? 10;
    this.#onTaskError =
      options.onTaskError ?? ((error) => console.error('background task failed:', error));
  }

  /** Steps waiting for their turn. */
  get queueDepth(): number {
    return this.#ready.length;
  }

  load(): { queued: number; busy: number } {
    return { queued: this.#ready.length, busy: 0 };
  }

  #enqueue(step: Step): void {
    this.#ready.push(step);
    if (!this.#tickQueued) this.#queueTick();
  }

  /**
   * Queues a turn, and right behind it the end of the turn: Node runs the promise reactions a
   * turn's steps caused (an async handler's continuation after `await io.sleep(0)`) before the
   * next immediate, so they count as the turn's work too.
   */
  #queueTick(): void {
    this.#tickQueued = true;
    setImmediate(this.#tick);
    setImmediate(this.#afterTick);
  }

  readonly #tick = (): void => {
    this.#tickQueued = false;
    const deadline = performance.now() + this.#budgetMs;
    // Only the steps ready when the turn began: a step that yields again waits for the next turn.
    let turn = this.#ready.length;
    this.#inTurn = true;
    while (turn-- > 0 && this.#ready.length > 0) {
      const i = this.#random ? Math.floor(this.#random() * this.#ready.length) : 0;
      const step = i === 0 ? this.#ready.shift() : this.#ready.splice(i, 1)[0];
      this.steps++;
      step?.();
      // A seeded run must not depend on machine speed: only unseeded turns are cut by time.
      if (this.#random === undefined && performance.now() > deadline) break;
    }
    if (this.#ready.length > 0 && !this.#tickQueued) this.#queueTick();
    this.#watchIdle();
  };

  /**
   * The turn and the promise reactions it caused are over. What their steps wrote goes out
   * now if the queue is empty (nothing follows at once), or if it has been held `holdMs`.
   * Otherwise it waits for the next turn's frames to join it.
   */
  readonly #afterTick = (): void => {
    this.#inTurn = false;
    if (
      this.#held.length > 0 &&
      (this.#ready.length === 0 || performance.now() - this.#heldSince >= this.#holdMs)
    )
      this.#release();
  };

  /**
   * Runs `flush` at the end of this tick, except for frames written by a turn of the run queue
   * (its steps and the promise reactions they cause): those wait until a turn ends with the
   * queue empty, `holdMs` at most, so that a queue of broadcasts reaches each client in a few
   * writes rather than one per broadcast (each write costs the client a read). Frames written
   * outside turns (timers such as heartbeats, a handler's first step on the I/O callback) go
   * at the end of their tick, unless their client's socket is held already. Order per client
   * never changes: a held socket stays corked and later frames queue behind.
   */
  deferFlush(flush: () => void): void {
    if (!this.#inTurn || this.#holdMs === 0) return process.nextTick(flush);
    if (this.#held.length === 0) this.#heldSince = performance.now();
    this.#held.push(flush);
  }

  #release(): void {
    const held = this.#held;
    this.#held = [];
    for (const flush of held) flush();
  }

  /** Virtual clock: once nothing has run for idleMs, jump to the next timer. */
  #watchIdle(): void {
    const clock = this.#virtual;
    if (clock === undefined || this.#closed || this.#idleTimer !== undefined) return;
    if (this.#ready.length > 0 || clock.pending === 0) return;
    const stepsBefore = this.steps;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#ready.length === 0 && this.steps === stepsBefore && !this.#tickQueued)
        clock.runNext();
      this.#watchIdle();
    }, this.#idleMs);
  }

  /** A promise that resolves when the caller's next turn comes. */
  #turn(): Promise<void> {
    return new Promise((resolve) => this.#enqueue(resolve));
  }

  startBackgroundTask<A extends unknown[], T>(
    target: (...args: A) => T | Promise<T>,
    ...args: A
  ): Task<Awaited<T>> {
    const running = new Promise<Awaited<T>>((resolve, reject) => {
      this.#enqueue(() => {
        runJob(
          () => target(...args),
          undefined,
          () => this.#turn(),
        ).then((v) => resolve(v as Awaited<T>), reject);
      });
    });
    return new PromiseTask(this.mode, running, this.#onTaskError);
  }

  async sleep(seconds?: number): Promise<void> {
    const ms = sleepMs(seconds);
    if (ms === 0) return this.#turn();
    return new Promise((resolve) => this.clock.setTimeout(() => this.#enqueue(resolve), ms));
  }

  dispatch<T>(job: HandlerJob<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#enqueue(() => {
        runJob(
          () => job.run(),
          enterOf(job),
          () => this.#turn(),
        ).then(resolve, reject);
      });
    });
  }

  /**
   * Runs a handler's first step at once, in the I/O callback that brought its event, as
   * a greenlet would: a synchronous handler completes there, one that yields continues on
   * the run queue. Without this, every event waited for a turn of the queue and one
   * client's events took one turn each (0.4x event-loop's echo throughput). The event
   * waits for its turn instead when tasks are already waiting (it must not jump ahead of
   * them), when handlers started this way used up the turn budget since the event loop's
   * last turn (CPU-bound handlers then take turns, and timers and I/O such as heartbeats
   * stay on time), or with a seed (seeded runs explore the order of handler starts too).
   */
  dispatchNow<T>(job: HandlerJob<T>): T | Promise<T> {
    if (this.#random !== undefined || this.#ready.length > 0 || this.#inlineMs >= this.#budgetMs)
      return this.dispatch(job);
    // Counts as progress: the virtual clock does not jump while handlers keep running.
    this.steps++;
    const started = performance.now();
    try {
      return runJobNow(job, () => this.#turn());
    } finally {
      this.#inlineMs += performance.now() - started;
      if (!this.#inlineResetQueued) {
        this.#inlineResetQueued = true;
        setImmediate(this.#resetInline);
      }
    }
  }

  readonly #resetInline = (): void => {
    this.#inlineResetQueued = false;
    this.#inlineMs = 0;
  };

  createQueue<T>(): Queue<T> {
    return new WaitQueue<T>();
  }

  createEvent(): Event {
    return new FlagEvent();
  }

  /** Takes work again after `close()`: the virtual clock advances again when all is idle. */
  reopen(): void {
    this.#closed = false;
    this.#watchIdle();
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#release();
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    return Promise.resolve();
  }
}
