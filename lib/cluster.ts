/**
 * `socketio-actors run app.js --processes N`: N server processes behind a
 * sticky front on one port. The front proxies every HTTP request and WebSocket
 * upgrade to the process that owns its session (session ids start with `p<i>.`),
 * so long-polling never meets "Session ID unknown"; handshakes go round-robin to
 * the processes that serve. A process that dies is restarted with the same index
 * (cluster/supervisor.ts); meanwhile the front sends new sessions to the others
 * (cluster/front.ts). The processes share clients through the app's message queue.
 *
 * ```
 *  client ──> front :5000 ──(sid p1.…)──> process 1 :ephemeral ─┐
 *                         └─(no sid)───> process i (round-robin) ├─ message queue
 *                                         process N ─────────────┘
 * ```
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { FRONT_ENV } from './engine/cluster-front.js';
import { createFront } from './cluster/front.js';
import { Supervisor } from './cluster/supervisor.js';
import type { Backoff } from './cluster/member-machine.js';

export { ProcessRefused } from './cluster/supervisor.js';

/** What the front needs to start its processes. */
export interface ClusterOptions {
  readonly script: string;
  readonly args: readonly string[];
  readonly processes: number;
  readonly host: string;
  readonly port: number;
  readonly log: (line: string) => void;
  /** How restarts of a process that keeps dying are spaced (default: 100 ms doubling to 30 s). */
  readonly backoff?: Backoff;
}

/**
 * Starts the processes and the front; resolves with the front once everything listens.
 * Rejects with {@link ProcessRefused} when a process refused to start (its one line).
 *
 * @example
 * ```ts
 * const cluster = await runCluster({ script, args: ['run', 'app.js'], processes: 3, host: '127.0.0.1', port: 5000, log: console.log });
 * await cluster.stop();
 * ```
 */
export async function runCluster(
  options: ClusterOptions,
): Promise<{ front: Server; stop(): Promise<void> }> {
  // Tells the processes which requests come from this front (see engine/cluster-front.ts).
  const token = randomBytes(16).toString('hex');
  const supervisor = new Supervisor({
    script: options.script,
    args: options.args,
    processes: options.processes,
    env: { [FRONT_ENV.host]: options.host, [FRONT_ENV.token]: token },
    log: options.log,
    backoff: options.backoff,
  });
  await supervisor.start();
  const front = createFront(supervisor, token);
  try {
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.listen(options.port, options.host, () => resolve());
    });
  } catch (error) {
    await supervisor.stop();
    throw error;
  }
  options.log(`${options.processes} processes behind a sticky front`);
  return {
    front,
    async stop() {
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      front.closeAllConnections();
      await Promise.all([closed, supervisor.stop()]);
    },
  };
}
