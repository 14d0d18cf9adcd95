/**
 * The async modes side by side (`make bench`, first part): the same app in
 * each mode, in its own process, driven by this process over raw WebSockets.
 */
import type { AsyncMode } from '../lib/index.js';
import { ackLoad, progress, startServer, withCpu } from './harness.js';
import type { Latency } from './harness.js';
import type { ServerReady } from './server-process.js';
import { BenchClient, connectMany } from './wire.js';

/** Figures for one mode. */
export interface ModeFigures {
  readonly mode: AsyncMode;
  readonly echo: { perSecond: number; latency: Latency };
  readonly cpuBound: { perSecond: number };
  readonly spawnPerSecond: number;
  readonly sleep0Us: number;
  readonly sleep10msErrorMs: number;
  /** How late an idle client's pings arrive while others run CPU-bound handlers (ms beyond the interval). */
  readonly heartbeatLateMs: { p50: number; max: number };
  readonly loadCpuShare: number;
}

const PING_INTERVAL_S = 0.25;

/**
 * The warm-up before each measured window (JIT, pools grown; a worker pool
 * grows its threads under load), as long as half the window, 0.5 s at most.
 */
const warmupSeconds = (seconds: number): number => Math.min(0.5, seconds / 2);

async function heartbeatLateness(
  port: number,
  seconds: number,
  busy: readonly BenchClient[],
): Promise<{ p50: number; max: number }> {
  const idle = await BenchClient.connect(port);
  // Handlers of ~20 ms each, two in flight per busy client: a warm-up, then the whole window.
  await ackLoad(busy, 'cpu', 20, 2, warmupSeconds(seconds));
  idle.recordPings = true;
  await ackLoad(busy, 'cpu', 20, 2, seconds);
  idle.close();
  const gaps = idle.pings.slice(1).map((t, i) => t - (idle.pings[i] ?? t) - PING_INTERVAL_S * 1000);
  if (gaps.length === 0) return { p50: NaN, max: NaN };
  const sorted = gaps.sort((a, b) => a - b);
  return {
    p50: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/** Runs every scheduler scenario for one mode. */
export async function benchMode(mode: AsyncMode, seconds: number): Promise<ModeFigures> {
  progress(`${mode}: starting the server process`);
  const server = await startServer<ServerReady>('./server-process.js', {
    BENCH_MODE: mode,
    BENCH_PING_INTERVAL: String(PING_INTERVAL_S),
  });
  try {
    const { port } = server.ready;
    const clients = await connectMany(port, 50);
    const payload = { text: 'x'.repeat(80), n: 1 };
    await ackLoad(clients, 'echo', payload, 1, warmupSeconds(seconds));
    progress(`${mode}: echo (50 clients, one in flight)`);
    const { result: echo, cpuShare } = await withCpu(() =>
      ackLoad(clients, 'echo', payload, 1, seconds),
    );
    progress(`${mode}: CPU-bound handler (~1 ms each, 8 clients x 2 in flight)`);
    await ackLoad(clients.slice(0, 8), 'cpu', 1, 2, warmupSeconds(seconds));
    const cpu = await ackLoad(clients.slice(0, 8), 'cpu', 1, 2, seconds);
    progress(`${mode}: heartbeat of an idle client while 4 clients run 20 ms handlers`);
    const heartbeatLateMs = await heartbeatLateness(
      port,
      Math.max(seconds, 1.5),
      clients.slice(0, 4),
    );
    for (const c of clients) c.close();
    return {
      mode,
      echo: { perSecond: echo.perSecond, latency: echo.latency },
      cpuBound: { perSecond: cpu.perSecond },
      spawnPerSecond: server.ready.spawnPerSecond,
      sleep0Us: server.ready.sleep0Us,
      sleep10msErrorMs: server.ready.sleep10msErrorMs,
      heartbeatLateMs,
      loadCpuShare: cpuShare,
    };
  } finally {
    await server.stop();
  }
}

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

/** The markdown table, with each figure's ratio to event-loop. */
export function schedulerTable(results: readonly ModeFigures[]): string {
  const base = results.find((r) => r.mode === 'event-loop') ?? results[0];
  const ratio = (v: number, b: number | undefined): string =>
    b && Number.isFinite(v) ? ` (${(v / b).toFixed(2)}x)` : '';
  const rows: [string, (r: ModeFigures) => string][] = [
    [
      'echo messages/s (50 clients, 1 in flight)',
      (r) => fmt(r.echo.perSecond) + ratio(r.echo.perSecond, base?.echo.perSecond),
    ],
    [
      'echo latency p50 / p99 (ms)',
      (r) => `${fmt(r.echo.latency.p50, 2)} / ${fmt(r.echo.latency.p99, 2)}`,
    ],
    [
      'CPU-bound (1 ms) messages/s',
      (r) => fmt(r.cpuBound.perSecond) + ratio(r.cpuBound.perSecond, base?.cpuBound.perSecond),
    ],
    [
      'idle client ping lateness p50 / max (ms)',
      (r) => `${fmt(r.heartbeatLateMs.p50, 1)} / ${fmt(r.heartbeatLateMs.max, 1)}`,
    ],
    ['background tasks started+joined /s', (r) => fmt(r.spawnPerSecond)],
    ['sleep(0) cost (us)', (r) => fmt(r.sleep0Us, 1)],
    ['sleep(0.01) overshoot (ms)', (r) => fmt(r.sleep10msErrorMs, 2)],
    ['load generator CPU (share of a core)', (r) => fmt(r.loadCpuShare, 2)],
  ];
  const header = `| figure | ${results.map((r) => r.mode).join(' | ')} |\n|---|${results.map(() => '---:').join('|')}|`;
  return [
    header,
    ...rows.map(([label, cell]) => `| ${label} | ${results.map(cell).join(' | ')} |`),
  ].join('\n');
}
