/**
 * Cross-process broadcast throughput (`make bench-queue`): two server processes
 * on one message queue (Redis, then RabbitMQ), clients on both, one client asks
 * its process to broadcast; every delivery on every client is counted.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { progress, startServer } from './harness.js';
import type { ServerReady } from './server-process.js';
import { connectMany } from './wire.js';

/** Figures for one broker. */
export interface QueueFigures {
  readonly broker: string;
  readonly clients: number;
  readonly broadcasts: number;
  readonly deliveriesPerSecond: number;
  readonly lost: number;
}

const BROKERS = [
  ['redis', 'redis://127.0.0.1:6379/0'],
  ['rabbitmq', 'amqp://guest:guest@127.0.0.1:5672/'],
] as const;

async function benchBroker(
  broker: string,
  url: string,
  perProcess: number,
  broadcasts: number,
): Promise<QueueFigures> {
  const env = {
    BENCH_MODE: 'event-loop',
    BENCH_QUEUE: url,
    BENCH_CHANNEL: `bench-${randomUUID()}`,
  };
  progress(`${broker}: starting two server processes`);
  const servers = [
    await startServer<ServerReady>('./server-process.js', env),
    await startServer<ServerReady>('./server-process.js', env),
  ];
  try {
    const clients = (
      await Promise.all(servers.map((s) => connectMany(s.ready.port, perProcess)))
    ).flat();
    const expected = clients.length * broadcasts;
    let received = 0;
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (done = resolve));
    for (const c of clients) {
      c.onEvent = () => {
        if (++received === expected) done();
      };
    }
    progress(`${broker}: ${broadcasts} broadcasts to ${clients.length} clients on two processes`);
    const sender = clients[0];
    if (sender === undefined) throw new Error('no clients');
    const start = performance.now();
    for (let i = 0; i < broadcasts; i++) sender.emit('broadcast', { i, text: 'x'.repeat(64) });
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    const seconds = (performance.now() - start) / 1000;
    for (const c of clients) c.close();
    return {
      broker,
      clients: clients.length,
      broadcasts,
      deliveriesPerSecond: received / seconds,
      lost: expected - received,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Runs both brokers; prints a table and writes JSON. */
export async function benchQueues(quick: boolean): Promise<QueueFigures[]> {
  const figures: QueueFigures[] = [];
  for (const [broker, url] of BROKERS)
    figures.push(await benchBroker(broker, url, quick ? 100 : 250, quick ? 50 : 200));
  const results = new URL('../../benchmarks/results/', import.meta.url);
  mkdirSync(results, { recursive: true });
  writeFileSync(
    new URL(`queue${quick ? '-quick' : ''}.json`, results),
    JSON.stringify({ date: new Date().toISOString(), figures }, null, 2),
  );
  return figures;
}

/** The markdown table. */
export function queueTable(figures: readonly QueueFigures[]): string {
  return [
    '| broker | clients (2 processes) | broadcasts | deliveries/s | lost |',
    '|---|---:|---:|---:|---:|',
    ...figures.map(
      (f) =>
        `| ${f.broker} | ${f.clients} | ${f.broadcasts} | ${Math.round(f.deliveriesPerSecond).toLocaleString('en-US')} | ${f.lost} |`,
    ),
  ].join('\n');
}

if (process.argv[1]?.endsWith('queue.js')) {
  const figures = await benchQueues(process.argv.includes('--quick'));
  console.log(`\n## Cross-process broadcast (message queue)\n\n${queueTable(figures)}`);
}
