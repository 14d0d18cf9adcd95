/**
 * Cross-process broadcast throughput (`make bench-queue`): two server processes
 * on one message queue (Redis, then RabbitMQ), clients on both (held by
 * load-generator processes, as in the peer benchmark), one client asks its process to broadcast; after a
 * warm-up, every delivery on every client is counted per broadcast id, and the
 * window ends at the last delivery. In the same
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
import { coresUsed, deliveryTotals, LoadGenerators } from './loadgen.js';

/**
 * Load-generator processes for the scaling runs: BENCH_LOADGENS, else one (it
 * used 0.1 to 0.2 of a core in a full run; the table says when one nears a core).
 */
const LOAD_GENERATORS = Number(process.env.BENCH_LOADGENS) || 1;

/** Cores per load-generator process from which it may be the bottleneck. */
const SATURATED = 0.9;

/** Figures for one broker. */
export interface QueueFigures {
  /** `none`: one process, no queue (the baseline). */
  readonly broker: string;
  readonly processes: number;
  readonly clients: number;
  readonly broadcasts: number;
  /** First deliveries of the window's ids, over the time from the first emit to the last of them. */
  readonly deliveriesPerSecond: number;
  /** Expected (client, broadcast id) pairs that never arrived. */
  readonly lost: number;
  readonly duplicates: number;
  /** Arrivals of ids outside the window (a warm-up broadcast running late). */
  readonly strays: number;
  /** Load generators' CPU in the window, in cores (and how many processes share it). */
  readonly loadCores: number;
  readonly loadGenerators: number;
}

const BROKERS = [
  ['redis', 'redis://127.0.0.1:6379/0'],
  ['rabbitmq', 'amqp://guest:guest@127.0.0.1:5672/'],
] as const;

/** Broadcasts sent and delivered before the window, through the same processes and broker. */
const WARM_BROADCASTS = 20;
/** Deliveries that stall this long are over; the rest count as lost. */
const STALL_MS = 5000;
const TEXT = 'x'.repeat(64);

/**
 * `processes` server processes (on `url`'s queue, or one without any),
 * `clientCount` clients spread over them and over the load generators; a
 * warm-up, then `broadcasts` counted per client and broadcast id.
 */
async function benchBroker(
  load: LoadGenerators,
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
    // The first generator's first client, on the first process, sends every broadcast.
    for (const server of servers) await load.connect('sio-ws', server.ready.port, perProcess);
    const clients = perProcess * processes;
    progress(`${broker}: ${WARM_BROADCASTS} warm-up broadcasts`);
    await load.emit('broadcast', TEXT, 0, WARM_BROADCASTS);
    await load.awaitDeliveries(STALL_MS);
    progress(
      `${broker}: ${broadcasts} broadcasts to ${clients} clients on ${processes} process(es)`,
    );
    const { startedAt } = await load.emit('broadcast', TEXT, WARM_BROADCASTS, broadcasts);
    const replies = await load.awaitDeliveries(STALL_MS);
    const totals = deliveryTotals(replies);
    return {
      broker,
      processes,
      clients,
      broadcasts,
      deliveriesPerSecond: totals.delivered / ((totals.lastAt - startedAt) / 1000),
      lost: totals.lost,
      duplicates: totals.duplicates,
      strays: totals.strays,
      loadCores: coresUsed(replies),
      loadGenerators: load.size,
    };
  } finally {
    await load.close();
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
  const load = LoadGenerators.start(LOAD_GENERATORS);
  try {
    // Baseline, brokers, then the baseline again: the ratio uses the mean of the two.
    figures.push(await benchBroker(load, 'none', undefined, 1, clients, broadcasts));
    for (const [broker, url] of BROKERS)
      figures.push(await benchBroker(load, broker, url, 2, clients, broadcasts));
    figures.push(await benchBroker(load, 'none', undefined, 1, clients, broadcasts));
  } finally {
    load.exit();
  }
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
    '| broker | processes | clients | broadcasts | deliveries/s | lost | duplicates, strays | load generators (cores) | ratio to one process |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...figures.map(
      (f) =>
        `| ${f.broker === 'none' ? 'none (one process)' : f.broker} | ${f.processes} | ${f.clients} | ${f.broadcasts} | ${rate(f.deliveriesPerSecond)} | ${f.lost} | ${f.duplicates}, ${f.strays} | ${f.loadGenerators}: ${f.loadCores.toFixed(2)} | ${f.broker === 'none' ? '' : `${(f.deliveriesPerSecond / one).toFixed(2)}x`} |`,
    ),
    ...(figures.some((f) => f.loadCores / f.loadGenerators >= SATURATED)
      ? [
          '',
          `A load-generator process used ${SATURATED} of a core or more: read those deliveries/s as a lower bound (raise BENCH_LOADGENS).`,
        ]
      : []),
  ].join('\n');
}

if (process.argv[1]?.endsWith('queue.js')) {
  const { figures, routing } = await benchQueues(process.argv.includes('--quick'));
  console.log(`\n## Cross-process broadcast (message queue)\n\n${queueTable(figures)}`);
  console.log(
    `\n## Room-aware routing (message queue)\n\n${routingCaption(routing)}\n\n${routingTable(routing)}`,
  );
}
