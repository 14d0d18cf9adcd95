/**
 * A benchmark server in its own process: measures the scheduler's own figures
 * (task spawn rate, sleep accuracy), starts listening, reports over IPC, and
 * stops on request. Asked `queue-stats`, it flushes its message queue (so every
 * room route it listens to is confirmed) and answers {@link QueueStatsAnswer}.
 */
import { io, noop } from './bench-app.js';
import { answerHarness } from './server-ipc.js';
import type { BusStats } from '../lib/index.js';

/** What the server process reports when ready. */
export interface ServerReady {
  readonly port: number;
  readonly mode: string;
  readonly spawnPerSecond: number;
  readonly sleep0Us: number;
  readonly sleep10msErrorMs: number;
}

/** The answer to `queue-stats`: the queue's counters after a flush (null without a queue). */
export interface QueueStatsAnswer {
  readonly queueStats: BusStats | null;
}

async function spawnRate(): Promise<number> {
  const n = 2000;
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, () => io.startBackgroundTask(noop).join()));
  return (n / (performance.now() - start)) * 1000;
}

async function sleepFigures(): Promise<[number, number]> {
  let start = performance.now();
  for (let i = 0; i < 500; i++) await io.sleep(0);
  const sleep0 = ((performance.now() - start) / 500) * 1000;
  let error = 0;
  for (let i = 0; i < 20; i++) {
    start = performance.now();
    await io.sleep(0.01);
    error += performance.now() - start - 10;
  }
  return [sleep0, error / 20];
}

const { port } = await io.run(undefined, {
  host: '127.0.0.1',
  port: Number(process.env.BENCH_PORT ?? 0),
});
await spawnRate(); // warm-up (pool threads, JIT)
const spawnPerSecond = await spawnRate();
const [sleep0Us, sleep10msErrorMs] = await sleepFigures();
process.send?.({
  port,
  mode: io.asyncMode,
  spawnPerSecond,
  sleep0Us,
  sleep10msErrorMs,
} satisfies ServerReady);
answerHarness(() => io.stop());
process.on('message', (message) => {
  if (message !== 'queue-stats') return;
  // A flush the broker did not fully take still leaves counters worth reading.
  void io
    .flush()
    .catch(() => undefined)
    .then(() => process.send?.({ queueStats: io.queueStats() ?? null } satisfies QueueStatsAnswer));
});
