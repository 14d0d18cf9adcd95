/**
 * The worker side of the `worker-pool` mode: what a pool thread knows about
 * itself, the job runner the app module's server registers there, and the
 * channel on which effects travel back to the main thread.
 *
 * ```
 *  main thread                         pool thread
 *  pool.run({ id, request }) ────────> runner.run(request)
 *        <─── { kind: 'effect' }  ───  emit(), joinRoom(), ... in order
 *        ──── { kind: 'reply' } ────>  (call(), emit with callback)
 *        <─── { kind: 'done', id } ──  outcome (after every effect)
 * ```
 * Effects and the final outcome share one BroadcastChannel, so the main thread
 * applies them in the order the handler made them.
 */
import { BroadcastChannel, isMainThread, threadId, workerData } from 'node:worker_threads';

/** What the pool passes to each of its threads. */
export interface PoolWorkerData {
  readonly appModule: string;
  readonly channel: string;
}

/** The app module's server, as the pool thread drives it. */
export interface JobRunner {
  run(request: unknown): Promise<unknown>;
  /** Route keys (`nsp\0event`) this thread has handlers for. */
  keys(): string[];
}

/** Messages on the pool's channel. */
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
  | { readonly kind: 'done'; readonly id: number; readonly outcome: unknown }
  | { readonly kind: 'failed'; readonly id: number; readonly message: string };

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

function open(): BroadcastChannel {
  const data = poolWorkerData();
  if (data === undefined) throw new Error('not in a worker-pool thread');
  if (channel === undefined) {
    channel = new BroadcastChannel(data.channel);
    channel.onmessage = (event: unknown) => {
      const message = (event as { data: PoolMessage }).data;
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

/** Posts a message to the main thread. */
export function post(message: PoolMessage): void {
  open().postMessage(message);
}

/** Posts an effect that needs no answer. */
export function postEffect(effect: unknown): void {
  post({ kind: 'effect', thread: threadId, effect });
}

/** Posts an effect and waits for the main thread's answer. */
export function requestEffect(effect: unknown): Promise<unknown> {
  const ch = open();
  const replyId = ++nextReplyId;
  return new Promise((resolve, reject) => {
    waiting.set(replyId, { resolve, reject });
    // Waiting for an answer keeps the thread's event loop alive.
    ch.ref();
    ch.postMessage({ kind: 'effect', thread: threadId, replyId, effect } satisfies PoolMessage);
  });
}

/** This thread's id (for replies). */
export { threadId };
