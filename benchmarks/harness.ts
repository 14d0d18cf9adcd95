/**
 * Shared benchmark plumbing: start a server process, run timed load loops,
 * summarise latencies, report progress.
 */
import { execFileSync, fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchClient } from './wire.js';

/** A server running in its own process. */
export interface ServerHandle<Ready> {
  readonly child: ChildProcess;
  readonly ready: Ready;
  /** False once the process has exited (or, for a forked one, dropped its IPC channel). */
  running(): boolean;
  rss(): Promise<number>;
  /** Sends `message` over IPC; resolves with the next message the server sends. */
  ask<Answer>(message: string): Promise<Answer>;
  stop(): Promise<void>;
}

/**
 * Forks `script` (relative to this folder) with `env`, waits for its first IPC message.
 * With BENCH_CPU_PROF=<dir> every server process writes a V8 CPU profile there
 * (`node --cpu-prof`) when it stops; BENCH_SERVER_NODE_ARGS adds Node flags
 * (space-separated, e.g. `--trace-gc`) to server processes only.
 */
export async function startServer<Ready>(
  script: string,
  env: Record<string, string>,
): Promise<ServerHandle<Ready>> {
  const profileDir = process.env.BENCH_CPU_PROF;
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    execArgv: [
      // Lets a server collect its garbage before it reports its RSS (see server-ipc.ts).
      '--expose-gc',
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Ready));
    child.once('exit', (code) =>
      reject(new Error(`${script} exited early (code ${String(code)})`)),
    );
  });
  const ask = <Answer>(message: string): Promise<Answer> =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m as Answer));
      child.send(message);
    });
  return {
    child,
    ready,
    running: () => child.exitCode === null && child.signalCode === null && child.connected,
    rss: async () => (await ask<{ rss: number }>('rss')).rss,
    ask,
    stop: () => stopChild(child, () => child.send('stop')),
  };
}

/**
 * Asks `child` to stop (`ask`) and resolves once it exited, killing it after 5 s.
 *
 * @example
 * ```ts
 * await stopChild(child, () => child.kill('SIGTERM'));
 * ```
 */
export function stopChild(child: ChildProcess, ask: () => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    ask();
  });
}

/** Latency summary in milliseconds. */
export interface Latency {
  readonly p50: number;
  readonly p99: number;
}

/** p50 and p99 of a list of milliseconds. */
export function percentiles(samples: number[]): Latency {
  if (samples.length === 0) return { p50: NaN, p99: NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * Keeps `inFlight` acked events going per client for `seconds`; returns the
 * completed count, messages/s and latencies.
 */
export async function ackLoad(
  clients: readonly BenchClient[],
  event: string,
  data: unknown,
  inFlight: number,
  seconds: number,
): Promise<{ count: number; perSecond: number; latency: Latency }> {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  const lane = async (client: BenchClient): Promise<void> => {
    while (performance.now() < deadline) {
      latencies.push(await client.ack(event, data));
      count++;
    }
  };
  const start = performance.now();
  await Promise.all(clients.flatMap((c) => Array.from({ length: inFlight }, () => lane(c))));
  const elapsed = (performance.now() - start) / 1000;
  return { count, perSecond: count / elapsed, latency: percentiles(latencies) };
}

/** Prints a progress line to stderr (the table goes to stdout). */
export function progress(message: string): void {
  process.stderr.write(`  … ${message}\n`);
}

/** CPU time this process used during `fn`, as a share of one core. */
export async function withCpu<T>(fn: () => Promise<T>): Promise<{ result: T; cpuShare: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await fn();
  const used = process.cpuUsage(cpu);
  const wall = (performance.now() - start) * 1000;
  return { result, cpuShare: (used.user + used.system) / wall };
}

/** File descriptors a process needs beyond its clients (listeners, pipes, pools). */
export const FD_HEADROOM = 200;

/**
 * This process's limits on open files (children inherit them), Infinity where
 * unlimited or unreadable.
 *
 * @example
 * ```ts
 * if (openFileLimits().soft < clients + FD_HEADROOM) throw new Error('raise ulimit -n');
 * ```
 */
export function openFileLimits(): { soft: number; hard: number } {
  const read = (flag: string): number => {
    try {
      const text = execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
      return text === 'unlimited' ? Infinity : Number(text);
    } catch {
      return Infinity;
    }
  };
  return { soft: read('-Sn'), hard: read('-Hn') };
}
