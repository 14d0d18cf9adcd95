/**
 * Cross-process broadcast throughput (`make bench-queue`): two server processes
 * on one message queue (Redis, then RabbitMQ), clients on both, one client asks
 * its process to broadcast; every delivery on every client is counted. In the same
 * run, one process without a queue holds all the clients: the scaling table gives
 * each broker's deliveries/s as a ratio of that. Then the routing table
 * (queue-routing.ts): four processes with and without room-aware routing.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { progress, startServer } from './harness.js';
import { benchRouting, routingCaption, routingTable } from './queue-routing.js';
import type { RoutingFigures } from './queue-routing.js';
import type { ServerReady } from './server-process.js';
import { connectMany } from './wire.js';

/** Figures for one broker. */
export interface QueueFigures {
  /** `none`: one process, no queue (the baseline). */
  readonly broker: string;
  readonly processes: number;
  readonly clients: number;
  readonly broadcasts: number;
  readonly deliveriesPerSecond: number;
  readonly lost: number;
}

const BROKERS = [
  ['redis', 'redis://127.0.0.1:6379/0'],
  ['rabbitmq', 'amqp://guest:guest@127.0.0.1:5672/'],
] as const;

/** `processes` server processes (on `url`'s queue, or one without any), `clients` spread over them. */
async function benchBroker(
  broker: string,
  url: string | undefined,
  processes: number,
  clientCount: number,
  broadcasts: number,
): Promise<QueueFigures> {
  const env = {
    BENCH_MODE: 'event-loop',
    ...(url === undefined ? {} : { BENCH_QUEUE: url }),
    BENCH_CHANNEL: `bench-${randomUUID()}`,
  };
  progress(`${broker}: starting ${processes} server process${processes === 1 ? '' : 'es'}`);
  const servers: Awaited<ReturnType<typeof startServer<ServerReady>>>[] = [];
  for (let i = 0; i < processes; i++)
    servers.push(await startServer<ServerReady>('./server-process.js', env));
  const perProcess = Math.ceil(clientCount / processes);
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
    progress(
      `${broker}: ${broadcasts} broadcasts to ${clients.length} clients on ${processes} process(es)`,
    );
    const sender = clients[0];
    if (sender === undefined) throw new Error('no clients');
    const start = performance.now();
    for (let i = 0; i < broadcasts; i++) sender.emit('broadcast', { i, text: 'x'.repeat(64) });
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    const seconds = (performance.now() - start) / 1000;
    for (const c of clients) c.close();
    return {
      broker,
      processes,
      clients: clients.length,
      broadcasts,
      deliveriesPerSecond: received / seconds,
      lost: expected - received,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Runs the baseline and both brokers, then the routing runs; writes JSON. */
export async function benchQueues(
  quick: boolean,
): Promise<{ figures: QueueFigures[]; routing: RoutingFigures[] }> {
  const figures: QueueFigures[] = [];
  const clients = quick ? 200 : 1000;
  const broadcasts = quick ? 50 : 200;
  // Baseline, brokers, then the baseline again: the ratio uses the mean of the two.
  figures.push(await benchBroker('none', undefined, 1, clients, broadcasts));
  for (const [broker, url] of BROKERS)
    figures.push(await benchBroker(broker, url, 2, clients, broadcasts));
  figures.push(await benchBroker('none', undefined, 1, clients, broadcasts));
  const routing = await benchRouting(BROKERS, quick);
  const results = new URL('../../benchmarks/results/', import.meta.url);
  mkdirSync(results, { recursive: true });
  writeFileSync(
    new URL(`queue${quick ? '-quick' : ''}.json`, results),
    JSON.stringify({ date: new Date().toISOString(), figures, routing }, null, 2),
  );
  return { figures, routing };
}

/** The markdown table: each run, and each broker's ratio to one process holding every client. */
export function queueTable(figures: readonly QueueFigures[]): string {
  const baseline = figures.filter((f) => f.broker === 'none');
  const one =
    baseline.reduce((sum, f) => sum + f.deliveriesPerSecond, 0) / Math.max(1, baseline.length);
  const rate = (n: number): string => Math.round(n).toLocaleString('en-US');
  return [
    '| broker | processes | clients | broadcasts | deliveries/s | lost | ratio to one process |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...figures.map(
      (f) =>
        `| ${f.broker === 'none' ? 'none (one process)' : f.broker} | ${f.processes} | ${f.clients} | ${f.broadcasts} | ${rate(f.deliveriesPerSecond)} | ${f.lost} | ${f.broker === 'none' ? '' : `${(f.deliveriesPerSecond / one).toFixed(2)}x`} |`,
    ),
  ].join('\n');
}

if (process.argv[1]?.endsWith('queue.js')) {
  const { figures, routing } = await benchQueues(process.argv.includes('--quick'));
  console.log(`\n## Cross-process broadcast (message queue)\n\n${queueTable(figures)}`);
  console.log(
    `\n## Room-aware routing (message queue)\n\n${routingCaption(routing)}\n\n${routingTable(routing)}`,
  );
}
