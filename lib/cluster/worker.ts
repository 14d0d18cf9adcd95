/**
 * A server process's side of `--processes N`: what it tells the front over IPC
 * (where it listens, or the one-line reason it refused to start) and how it
 * learns that the front is gone.
 */
import { FRONT_ENV } from '../engine/cluster-front.js';

/** What a process tells the front. */
export type WorkerReport =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'refused'; readonly message: string };

/**
 * Narrows an IPC message to a {@link WorkerReport}.
 *
 * @example
 * ```ts
 * child.on('message', (m) => { if (isWorkerReport(m) && m.type === 'listening') use(m.port); });
 * ```
 */
export function isWorkerReport(message: unknown): message is WorkerReport {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  return (
    (m.type === 'listening' && typeof m.port === 'number') ||
    (m.type === 'refused' && typeof m.message === 'string')
  );
}

/** This process as one of the front's. */
export interface ClusterWorker {
  /** Sends `report` to the front; resolves once it is handed over. */
  report(report: WorkerReport): Promise<void>;
  /** Calls `then` once when the front goes away (it exited, or was killed). */
  onFrontGone(then: () => void): void;
}

/**
 * This process as one the front started; undefined in any other process.
 *
 * @example
 * ```ts
 * await clusterWorker()?.report({ type: 'listening', port: 41234 });
 * ```
 */
export function clusterWorker(): ClusterWorker | undefined {
  const send = process.send?.bind(process);
  if (process.env[FRONT_ENV.index] === undefined || send === undefined) return undefined;
  return {
    report: (report) =>
      // The callback comes with an error when the front is gone; the caller exits either way.
      new Promise<void>((resolve) => void send(report, undefined, {}, () => resolve())),
    onFrontGone: (then) => void process.once('disconnect', then),
  };
}
