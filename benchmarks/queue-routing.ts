/**
 * Room-aware routing (`make bench-queue`, after the scaling run): four server
 * processes on one broker, clients in rooms as routing-plan.ts lays them out,
 * every process emitting to every room plus some broadcasts to everyone; run with
 * `routing: 'channel'` then `'rooms'`. Per process: the messages the broker
 * delivered to it (`queueStats().received` over the window) against its share
 * (its rooms' messages and the broadcasts); at the clients: deliveries/s and what
 * was lost, per client and message id.
 */
import { randomUUID } from 'node:crypto';
import type { BusStats } from '../lib/index.js';
import { progress, startServer } from './harness.js';
import type { ServerHandle } from './harness.js';
import { routingPlan } from './routing-plan.js';
import type { Plan, PlanSizes } from './routing-plan.js';
import { packetId, Tally } from './delivery-tally.js';
import type { QueueStatsAnswer, ServerReady } from './server-process.js';
import { connectMany } from './wire.js';
import type { BenchClient } from './wire.js';

/** One process's side of a run. */
export interface ProcessFigures {
  readonly rooms: readonly string[];
  /** Messages the broker delivered to it during the window (its own included). */
  readonly received: number;
  /** Its rooms' messages and the broadcasts: what it needs. */
  readonly share: number;
  /** Other processes' messages it counted missing during the window. */
  readonly missed: number;
  /** Room routes it listened to. */
  readonly routes: number;
}

/** One broker in one routing mode. */
export interface RoutingFigures {
  readonly broker: string;
  readonly routing: Routing;
  readonly clients: number;
  readonly sizes: PlanSizes;
  readonly perProcess: readonly ProcessFigures[];
  readonly deliveriesPerSecond: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly strays: number;
}

type Routing = 'channel' | 'rooms';
type Server = ServerHandle<ServerReady>;
type Stats = BusStats;

const ROUTINGS: readonly Routing[] = ['channel', 'rooms'];
const TEXT = 'x'.repeat(64);

async function statsOf(server: Server): Promise<Stats> {
  const { queueStats } = await server.ask<QueueStatsAnswer>('queue-stats');
  if (queueStats === null) throw new Error('server process has no message queue');
  return queueStats;
}

const allStats = (servers: readonly Server[]): Promise<Stats[]> =>
  Promise.all(servers.map(statsOf));
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `promise`, `ms` at most; the timer does not outlive it (nor keep the process up). */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Polls until every process listens to a route per room it holds (rooms routing). */
async function routesListened(
  servers: readonly Server[],
  plan: Plan,
  routing: Routing,
): Promise<Stats[]> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const stats = await allStats(servers);
    const ready = stats.every(
      (s, p) => routing === 'channel' || s.routes >= plan.processRooms(p).length,
    );
    if (ready || performance.now() > deadline) return stats;
    await pause(100);
  }
}

/** Polls until no process's `received` moves any more: the broker has delivered everything. */
async function settled(servers: readonly Server[]): Promise<Stats[]> {
  let last = await allStats(servers);
  const deadline = performance.now() + 5000;
  for (;;) {
    await pause(200);
    const now = await allStats(servers);
    if (now.every((s, p) => s.received === last[p]?.received) || performance.now() > deadline)
      return now;
    last = now;
  }
}

/** Each process's first client sends that process's planned emits. */
function sendAll(plan: Plan, senders: readonly (BenchClient | undefined)[]): void {
  for (const m of plan.messages) {
    const sender = senders[m.from];
    if (sender === undefined) throw new Error(`no sender on process ${m.from}`);
    if (m.to === undefined) sender.emit('broadcast', { i: m.id, text: TEXT });
    else sender.emit('to-room', { i: m.id, to: m.to, text: TEXT });
  }
}

async function runOnce(
  broker: string,
  url: string,
  routing: Routing,
  plan: Plan,
): Promise<RoutingFigures> {
  const { processes, clientsPerProcess } = plan.sizes;
  const env = {
    BENCH_MODE: 'event-loop',
    BENCH_QUEUE: url,
    BENCH_CHANNEL: `bench-${randomUUID()}`,
    BENCH_ROUTING: routing,
  };
  progress(`${broker}, routing '${routing}': starting ${processes} server processes`);
  const servers = await Promise.all(
    Array.from({ length: processes }, () => startServer<ServerReady>('./server-process.js', env)),
  );
  try {
    const perServer = await Promise.all(
      servers.map((s) => connectMany(s.ready.port, clientsPerProcess)),
    );
    await Promise.all(
      perServer.flatMap((clients, p) =>
        clients.flatMap((c, k) => plan.clientRooms(p, k).map((room) => c.ack('join', room))),
      ),
    );
    const before = await routesListened(servers, plan, routing);
    const clients = perServer.flat();
    let finish: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (finish = resolve));
    const tally = new Tally(
      plan.messages.length,
      perServer.flatMap((list, p) => list.map((_, k) => plan.expectedIds(plan.clientRooms(p, k)))),
      () => finish(),
    );
    clients.forEach((c, index) => {
      c.onEvent = (name, text) => {
        if (name === 'news') tally.arrive(index, packetId(text));
      };
    });
    progress(
      `${broker}, routing '${routing}': ${plan.messages.length} emits to ${clients.length} clients`,
    );
    const start = performance.now();
    sendAll(
      plan,
      perServer.map((list) => list[0]),
    );
    await within(all, 20_000);
    const seconds = (performance.now() - start) / 1000;
    const after = await settled(servers);
    for (const c of clients) c.close();
    const counted = tally.figures;
    return {
      broker,
      routing,
      clients: clients.length,
      sizes: plan.sizes,
      perProcess: after.map((s, p) => ({
        rooms: plan.processRooms(p),
        received: s.received - (before[p]?.received ?? 0),
        share: plan.expectedIds(plan.processRooms(p)).length,
        missed: s.missed - (before[p]?.missed ?? 0),
        routes: before[p]?.routes ?? 0,
      })),
      deliveriesPerSecond: counted.delivered / seconds,
      lost: counted.lost,
      duplicates: counted.duplicates,
      strays: counted.strays,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/**
 * Runs every broker with routing 'channel' then 'rooms'.
 *
 * @example
 * ```ts
 * const figures = await benchRouting([['redis', 'redis://127.0.0.1:6379/0']], false);
 * console.log(routingTable(figures));
 * ```
 */
export async function benchRouting(
  brokers: readonly (readonly [string, string])[],
  quick: boolean,
): Promise<RoutingFigures[]> {
  const plan = routingPlan({
    processes: 4,
    clientsPerProcess: quick ? 40 : 100,
    roomEmits: quick ? 50 : 400,
    pairEmits: quick ? 12 : 100,
    broadcasts: quick ? 12 : 100,
  });
  const figures: RoutingFigures[] = [];
  for (const [broker, url] of brokers)
    for (const routing of ROUTINGS) figures.push(await runOnce(broker, url, routing, plan));
  return figures;
}

/** One line saying what the routing runs did (from the first run's sizes). */
export function routingCaption(figures: readonly RoutingFigures[]): string {
  const f = figures[0];
  if (f === undefined) return '';
  const { processes, clientsPerProcess, roomEmits, pairEmits, broadcasts } = f.sizes;
  return (
    `${processes} processes x ${clientsPerProcess} clients, all in their process's room, a quarter also in each room ` +
    `shared with a neighbour process; ${roomEmits} emits to each own room, ${pairEmits} to each shared room and ` +
    `${broadcasts} broadcasts, every process emitting to every room in turn. Received: queueStats().received ` +
    `over the window; share: the process's rooms' messages and the broadcasts.`
  );
}

/** The markdown table: per run, what each process received against its share, and the clients' count. */
export function routingTable(figures: readonly RoutingFigures[]): string {
  const whole = (n: number): string => Math.round(n).toLocaleString('en-US');
  const sum = (list: readonly ProcessFigures[], key: 'received' | 'share' | 'missed'): number =>
    list.reduce((total, p) => total + p[key], 0);
  return [
    '| broker | routing | received per process | share per process | received / share | deliveries/s | lost | duplicates, strays | missed |',
    '|---|---|---|---|---:|---:|---:|---:|---:|',
    ...figures.map((f) => {
      const ratio = sum(f.perProcess, 'received') / Math.max(1, sum(f.perProcess, 'share'));
      return `| ${f.broker} | ${f.routing} | ${f.perProcess.map((p) => whole(p.received)).join(' · ')} | ${f.perProcess.map((p) => whole(p.share)).join(' · ')} | ${ratio.toFixed(2)}x | ${whole(f.deliveriesPerSecond)} | ${f.lost} | ${f.duplicates}, ${f.strays} | ${sum(f.perProcess, 'missed')} |`;
    }),
  ].join('\n');
}
