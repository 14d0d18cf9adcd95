/**
 * The servers the peer benchmark compares: this project in each async mode,
 * the npm `socket.io` server, a raw `ws` server, and Flask-SocketIO (the
 * system this project ports). Each runs in its own process, started fresh per
 * scenario.
 */
import { readFileSync } from 'node:fs';
import { ASYNC_MODES } from '../lib/index.js';
import type { AsyncMode } from '../lib/index.js';
import { startServer } from './harness.js';
import type { ServerHandle } from './harness.js';
import type { ClientKind } from './load-jobs.js';
import { flaskMissing, startFlask } from './peer-flask.js';

/** A server under test. */
export type PeerServer = AsyncMode | 'socket.io' | 'ws' | 'flask-socketio';

/** Every server, in table order. */
export const PEER_SERVERS: readonly PeerServer[] = [
  ...ASYNC_MODES,
  'socket.io',
  'ws',
  'flask-socketio',
];

/** The baselines the table and chart compare against. */
export const SOCKET_IO: PeerServer = 'socket.io';
export const RAW_WS: PeerServer = 'ws';

/** What every server process reports when ready. */
export interface PeerReady {
  readonly port: number;
}

/** Why `server` cannot run on this machine, or null when it can. */
export function peerMissing(server: PeerServer): string | null {
  return server === 'flask-socketio' ? flaskMissing() : null;
}

/**
 * Starts `server` in a new process; `env` adds to its environment (e.g.
 * BENCH_PING_INTERVAL, in seconds, which this project's servers and socket.io's read).
 */
export async function startPeer(
  server: PeerServer,
  env: Record<string, string> = {},
): Promise<ServerHandle<PeerReady>> {
  const handle = await (server === 'socket.io'
    ? startServer<PeerReady>('./peer-socketio.js', env)
    : server === 'ws'
      ? startServer<PeerReady>('./peer-ws.js', env)
      : server === 'flask-socketio'
        ? startFlask<PeerReady>()
        : // server-process.ts: bench-app.ts's handlers, default heartbeat (25 s / 20 s).
          startServer<PeerReady>('./server-process.js', { ...env, BENCH_MODE: server }));
  // A server that crashed must fail its scenario, not the whole run.
  handle.child.on('error', () => undefined);
  return handle;
}

/** Stops `handle`'s server unless it already exited; says how it ended if it crashed. */
export async function stopPeer(handle: ServerHandle<PeerReady>): Promise<string | null> {
  const { child } = handle;
  if (!handle.running())
    return `server process exited during the scenario (code ${String(child.exitCode ?? child.signalCode)})`;
  await handle.stop();
  return null;
}

/** How load clients talk to `server` over WebSocket. */
export function wsKind(server: PeerServer): ClientKind {
  return server === 'ws' ? 'raw-ws' : 'sio-ws';
}

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every mainstream Linux build

/**
 * CPU time (user + system, ms) process `pid` has used so far, from
 * /proc/<pid>/stat; NaN where there is no procfs.
 */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at "state".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return (ticks / TICKS_PER_SECOND) * 1000;
  } catch {
    return NaN;
  }
}

/**
 * Cores a process used while `fn` ran (1.0 = one core busy throughout).
 *
 * @example
 * ```ts
 * const { result, cores } = await serverCores(server.child.pid, () => load.ack(job));
 * ```
 */
export async function serverCores<T>(
  pid: number | undefined,
  fn: () => Promise<T>,
): Promise<{ result: T; cores: number }> {
  const cpu = processCpuMs(pid);
  const start = performance.now();
  const result = await fn();
  return { result, cores: (processCpuMs(pid) - cpu) / (performance.now() - start) };
}
