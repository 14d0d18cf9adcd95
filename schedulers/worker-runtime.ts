/**
 * The worker side of the `worker-pool` mode: what a pool thread knows about
 * itself, the job runner the app module's server registers there, and the
 * channel on which effects travel back to the main thread.
 *
 * ```
 *  main thread                              pool thread
 *  pool.run({ jobs: [{ id, request }…] }) ─> runner.run(request), each in order
 *        <─── { kind: 'effect' }  ────────  emit(), joinRoom(), ... in order
 *        ──── { kind: 'reply' } ─────────>  (call(), emit with callback)
 *        <─── { kind: 'done', jobs } ─────  outcomes (each after its effects)
 * ```
 * Effects and outcomes share the thread's parentPort (piscina passes them on as
 * its 'message' event), so the main thread applies them in the order the
 * handler made them; replies come back on a BroadcastChannel that every thread
 * listens to (unref'd: it keeps no thread alive), each taking its own. Outcomes,
 * and effects made within a millisecond of the last post, wait in one ordered
 * outbox until the end of the thread's turn, so a batch of quick jobs answers
 * (and broadcasts) in one message, which the main thread applies in one go: its
 * sockets then write once for the whole batch.
 *
 * A job's shared part (a client's handshake) crosses once per thread, not with
 * every job:
 * ```
 *  job { shared: { key, value } }  ──> kept under key (at most SHARED_PARTS_KEPT)
 *        <─── { kind: 'done', thread } ─  the main thread now knows this thread holds it
 *  job { shared: { key } }         ──> found, or (dropped meanwhile) asked for:
 *        <─── { kind: 'need', id } ────   the main thread answers with the job's part
 *  channel { kind: 'forget', keys } ──> dropped (the client has gone)
 * ```
 */
import {
  BroadcastChannel,
  isMainThread,
  parentPort,
  threadId,
  workerData,
} from 'node:worker_threads';
import type { SharedWire } from './job-batches.js';

/** What the pool passes to each of its threads. */
export interface PoolWorkerData {
  readonly appModule: string;
  readonly channel: string;
  /** See WorkerPoolSchedulerOptions.effectBurstMs; default {@link EFFECT_BURST_MS}. */
  readonly effectBurstMs?: number;
}

/** The app module's server, as the pool thread drives it. */
export interface JobRunner {
  /** Runs one job; `shared` is its shared part (see RemoteJob.shared), if it has one. */
  run(request: unknown, shared: unknown): Promise<unknown>;
  /** Route keys (`nsp\0event`) this thread has handlers for. */
  keys(): string[];
}

/** Messages between the main thread and the pool's threads. */
export type PoolMessage =
  | {
      readonly kind: 'ready';
      readonly thread: number;
      readonly keys: string[];
      /** The `name` of every function the app module exports. */
      readonly functions: string[];
    }
  | {
      readonly kind: 'effect';
      readonly thread: number;
      readonly replyId?: number;
      readonly effect: unknown;
    }
  | {
      readonly kind: 'reply';
      readonly thread: number;
      readonly replyId: number;
      readonly ok: boolean;
      readonly value: unknown;
    }
  | { readonly kind: 'done'; readonly thread: number; readonly jobs: readonly JobDone[] }
  | {
      readonly kind: 'failed';
      readonly thread: number;
      readonly id: number;
      readonly message: string;
    }
  /** Several of the above, in the order the thread made them. */
  | { readonly kind: 'batch'; readonly messages: readonly PoolMessage[] }
  /** An effect that could not be structured-cloned after all (it is reported, not applied). */
  | { readonly kind: 'lost'; readonly message: string }
  /** A thread no longer holds a job's shared part: the main thread replies with it. */
  | {
      readonly kind: 'need';
      readonly thread: number;
      readonly replyId: number;
      readonly id: number;
    }
  /** On the channel: shared parts no job will name again. */
  | { readonly kind: 'forget'; readonly keys: readonly string[] };

/** One job's outcome, and how long its synchronous part kept the thread busy (ms). */
export interface JobDone {
  readonly id: number;
  readonly outcome: unknown;
  readonly ms: number;
}

/** The pool data when running in a pool thread; undefined elsewhere. */
export function poolWorkerData(): PoolWorkerData | undefined {
  if (isMainThread) return undefined;
  const data = (workerData as { socketioActorsPool?: PoolWorkerData } | null)?.socketioActorsPool;
  return data;
}

let runner: JobRunner | undefined;
let channel: BroadcastChannel | undefined;
let nextReplyId = 0;
const waiting = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();

/** Registers the runner (done by `new SocketIO()` in a pool thread). */
export function setJobRunner(value: JobRunner): void {
  runner = value;
}

/** The registered runner, if the app module created a server. */
export function jobRunner(): JobRunner | undefined {
  return runner;
}

/**
 * The channel from the main thread (replies, forgotten shared parts), opened when the pool
 * thread starts (see worker-pool-thread.ts) or on first use.
 */
export function openChannel(): BroadcastChannel {
  const data = poolWorkerData();
  if (data === undefined) throw new Error('not in a worker-pool thread');
  if (channel === undefined) {
    channel = new BroadcastChannel(data.channel);
    channel.onmessage = (event: unknown) => {
      const message = (event as { data: PoolMessage }).data;
      if (message.kind === 'forget') {
        for (const key of message.keys) sharedParts.delete(key);
        return;
      }
      if (message.kind !== 'reply' || message.thread !== threadId) return;
      const waiter = waiting.get(message.replyId);
      waiting.delete(message.replyId);
      if (message.ok) waiter?.resolve(message.value);
      else waiter?.reject(message.value);
      if (waiting.size === 0) channel?.unref();
    };
    channel.unref();
  }
  return channel;
}

/**
 * Messages not yet posted, in the order they were made: effects, and outcomes gathered in
 * 'done' messages. They leave together, as one 'batch' message when there are several.
 */
let outbox: PoolMessage[] = [];
/** The outcomes of the last 'done' message in the outbox, while nothing came after it. */
let lastOutcomes: JobDone[] | undefined;
let flushScheduled = false;
/** When the outbox was last posted (performance.now()). */
let lastFlush = Number.NEGATIVE_INFINITY;

/**
 * How long after a post an effect waits with the next ones (ms). An effect made later than
 * this after the last post leaves at once, so that a handler's progress reports reach the
 * client while it still computes; effects made in a burst leave together.
 */
export const EFFECT_BURST_MS = 1;

/** This thread's burst window (ms), read from the pool's data on first use. */
let burstMs: number | undefined;

/** The port to the main thread. */
function up(): NonNullable<typeof parentPort> {
  if (parentPort === null || poolWorkerData() === undefined)
    throw new Error('not in a worker-pool thread');
  return parentPort;
}

/** Posts a message to the main thread at once, after everything buffered before it. */
export function post(message: PoolMessage): void {
  flushOutbox();
  up().postMessage(message);
}

function enqueue(message: PoolMessage): void {
  outbox.push(message);
  lastOutcomes = undefined;
  scheduleFlush();
}

/** The outbox leaves at the end of this turn at the latest. */
function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(() => {
    flushScheduled = false;
    flushOutbox();
  });
}

/** Buffers a job's outcome; it leaves with the outbox (see {@link flushOutbox}). */
export function postOutcome(done: JobDone): void {
  if (lastOutcomes !== undefined) {
    lastOutcomes.push(done);
    return;
  }
  const jobs = [done];
  enqueue({ kind: 'done', thread: threadId, jobs });
  lastOutcomes = jobs;
}

/**
 * Posts an effect that needs no answer: at once, or with the effects of the same burst (see
 * {@link EFFECT_BURST_MS}). Either way it is copied here, where the handler made it: what
 * the handler changes afterwards does not reach it, and one that cannot be
 * structured-cloned throws here.
 */
export function postEffect(effect: unknown): void {
  burstMs ??= poolWorkerData()?.effectBurstMs ?? EFFECT_BURST_MS;
  if (performance.now() - lastFlush > burstMs)
    return post({ kind: 'effect', thread: threadId, effect });
  enqueue({ kind: 'effect', thread: threadId, effect: structuredClone(effect) });
}

/**
 * Posts the outbox: one message, or a 'batch' of them. When one of them cannot be
 * structured-cloned, each goes alone: an outcome that does not clone becomes a 'failed'
 * message that says why, an effect a 'lost' one.
 */
export function flushOutbox(): void {
  lastFlush = performance.now();
  if (outbox.length === 0) return;
  const messages = outbox;
  outbox = [];
  lastOutcomes = undefined;
  const ch = up();
  try {
    const [only] = messages;
    ch.postMessage(
      messages.length === 1 && only !== undefined
        ? only
        : ({ kind: 'batch', messages } satisfies PoolMessage),
    );
    return;
  } catch {
    // One of them does not clone: find it below.
  }
  for (const message of messages) postAlone(ch, message);
}

/** Posts one message of an outbox that did not clone as a whole. */
function postAlone(ch: NonNullable<typeof parentPort>, message: PoolMessage): void {
  const why = (error: unknown): string => (error instanceof Error ? error.message : String(error));
  if (message.kind !== 'done') {
    try {
      ch.postMessage(message);
    } catch (error) {
      ch.postMessage({
        kind: 'lost',
        message: `a ${message.kind} message could not leave the worker thread (${why(error)})`,
      } satisfies PoolMessage);
    }
    return;
  }
  for (const done of message.jobs) {
    try {
      ch.postMessage({ kind: 'done', thread: threadId, jobs: [done] } satisfies PoolMessage);
    } catch (error) {
      ch.postMessage({
        kind: 'failed',
        thread: threadId,
        id: done.id,
        message: `a handler's result must survive structured clone to leave the worker thread (${why(error)})`,
      } satisfies PoolMessage);
    }
  }
}

/** Posts an effect and waits for the main thread's answer. */
export function requestEffect(effect: unknown): Promise<unknown> {
  return ask((replyId) => ({ kind: 'effect', thread: threadId, replyId, effect }));
}

/** Posts the message `make` builds and waits for the main thread's reply to it. */
function ask(make: (replyId: number) => PoolMessage): Promise<unknown> {
  const ch = openChannel();
  const replyId = ++nextReplyId;
  return new Promise((resolve, reject) => {
    waiting.set(replyId, { resolve, reject });
    // Waiting for an answer keeps the thread's event loop alive.
    ch.ref();
    try {
      post(make(replyId));
    } catch (error) {
      // Never sent (it does not clone): nothing will answer it.
      waiting.delete(replyId);
      if (waiting.size === 0) ch.unref();
      throw error;
    }
  });
}

/**
 * How many shared parts a thread keeps: past it, the oldest is dropped (a job that names
 * it again asks the main thread for it). A client's handshake is about 0.5 to 2 KB.
 */
export const SHARED_PARTS_KEPT = 10_000;

/** Shared parts this thread holds, oldest first. */
const sharedParts = new Map<string, unknown>();

/**
 * The shared part of job `id`: the value it carries (kept from now on), the one this
 * thread holds, or else the main thread's answer.
 */
export function sharedPartOf(id: number, shared: SharedWire): unknown {
  if ('value' in shared) {
    if (shared.once !== true) keep(shared.key, shared.value);
    return shared.value;
  }
  const held = sharedParts.get(shared.key);
  if (held !== undefined) return held;
  return ask((replyId) => ({ kind: 'need', thread: threadId, replyId, id })).then((value) => {
    keep(shared.key, value);
    return value;
  });
}

/** Keeps a part under its key (the oldest goes past {@link SHARED_PARTS_KEPT}). */
function keep(key: string, value: unknown): void {
  if (value === undefined) return;
  if (!sharedParts.has(key) && sharedParts.size >= SHARED_PARTS_KEPT) {
    const oldest = sharedParts.keys().next();
    if (oldest.done !== true) sharedParts.delete(oldest.value);
  }
  sharedParts.set(key, value);
}

/** How many shared parts this thread holds. */
export function sharedPartsHeld(): number {
  return sharedParts.size;
}

/** Drops every shared part this thread holds (later jobs ask the main thread again). */
export function dropSharedParts(): void {
  sharedParts.clear();
}

/** This thread's id (for replies). */
export { threadId };
