/**
 * The seven peer-benchmark scenarios: what each one connects, sends and
 * measures. Each runs against one freshly started server and leaves the load
 * generators' clients to be closed by the caller.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { percentiles } from './harness.js';
import type { ServerHandle } from './harness.js';
import type { LoadReply } from './load-jobs.js';
import { coresUsed, deliveryNotes, deliveryTotals } from './loadgen.js';
import type { LoadGenerators } from './loadgen.js';
import { serverCores, wsKind } from './peer-servers.js';
import type { PeerReady, PeerServer } from './peer-servers.js';

/** Sizes and windows; `--quick` shrinks them. */
export interface PeerBudget {
  readonly seconds: number;
  readonly warmupSeconds: number;
  /**
   * Warm-up of the CPU-bound scenario: a fresh worker-pool server takes a
   * couple of seconds to grow its threads, and the figure is a steady state.
   */
  readonly cpuWarmupSeconds: number;
  readonly fanoutClients: number;
  readonly broadcasts: number;
  /** Clients that send the broadcasts at once in the many-senders fan-out. */
  readonly fanoutSenders: number;
  readonly connects: number;
  readonly idleClients: number;
  /** Clients added after the idle figure, for the RSS per added connection (5,000 to 15,000). */
  readonly addedClients: number;
  readonly pollingClients: number;
  /** How long fan-out deliveries may stall before the rest count as lost. */
  readonly stallMs: number;
  /**
   * How long the first delivery of a fan-out burst may take: a server may queue much of the
   * burst before it writes any (Flask-SocketIO on gevent, on a busy machine, wrote nothing
   * for over 3 s).
   */
  readonly firstDeliveryMs: number;
  /** Pause before reading a server's RSS, so connection set-up has finished. */
  readonly settleMs: number;
}

/** What a scenario gets to work with. */
export interface ScenarioContext {
  readonly server: PeerServer;
  readonly handle: ServerHandle<PeerReady>;
  readonly load: LoadGenerators;
  readonly budget: PeerBudget;
}

/** One figure a scenario reports, and which way is better. */
export interface FigureSpec {
  readonly key: string;
  readonly label: string;
  readonly better: 'higher' | 'lower' | 'none';
  readonly digits: number;
  /** A few characters for the chart. */
  readonly short: string;
}

/** A scenario's figures against one server. */
export interface Measurement {
  readonly figures: Readonly<Record<string, number>>;
  /** Load generators' CPU in the measured phase, in cores. */
  readonly loadCores: number;
  /** The server process's CPU in the measured phase, in cores. */
  readonly serverCores: number;
  /** Anything that went wrong but did not stop the scenario (lost acks, …). */
  readonly notes: readonly string[];
}

/** A scenario of the peer benchmark. */
export interface Scenario {
  readonly id: string;
  readonly title: (budget: PeerBudget) => string;
  readonly figures: readonly FigureSpec[];
  /** Why the scenario means nothing for `server` (shown as n/a), or null when it applies. */
  readonly unsupported: (server: PeerServer) => string | null;
  readonly run: (context: ScenarioContext) => Promise<Measurement>;
}

/** The echo payload: a 100-byte JSON object. */
export const PAYLOAD = { text: 'x'.repeat(83), n: 1 } as const;

/** How many clients the latency, throughput and CPU-bound scenarios use. */
const CLIENTS = 50;

type Acked = Extract<LoadReply, { type: 'acked' }>;

function ackFigures(replies: readonly Acked[], withLatency: boolean): Record<string, number> {
  const count = replies.reduce((sum, r) => sum + r.count, 0);
  const seconds = Math.max(...replies.map((r) => r.wallMs)) / 1000;
  const figures: Record<string, number> = { perSecond: count / seconds };
  if (withLatency) {
    const { p50, p99 } = percentiles(replies.flatMap((r) => r.latencies));
    Object.assign(figures, { p50, p99 });
  }
  return figures;
}

function lostNotes(replies: readonly Acked[]): string[] {
  const lost = replies.reduce((sum, r) => sum + r.lost, 0);
  return lost > 0 ? [`${lost} acks never came back`] : [];
}

/** Warm-up, then a measured window of acked `event`s; `path` is the raw ws server's. */
async function ackScenario(
  { server, handle, load, budget }: ScenarioContext,
  options: {
    clients: number;
    inFlight: number;
    event: string;
    data: unknown;
    path: string;
    warmupSeconds?: number;
  },
  withLatency: boolean,
  polling = false,
): Promise<Measurement> {
  const kind = polling ? 'sio-polling' : wsKind(server);
  await load.connect(kind, handle.ready.port, options.clients, { path: options.path });
  const job = { event: options.event, data: options.data, inFlight: options.inFlight };
  const warm = await load.ack({
    ...job,
    seconds: options.warmupSeconds ?? budget.warmupSeconds,
    collectLatency: false,
  });
  const { result, cores } = await serverCores(handle.child.pid, () =>
    load.ack({ ...job, seconds: budget.seconds, collectLatency: withLatency }),
  );
  return {
    figures: ackFigures(result, withLatency),
    loadCores: coresUsed(result),
    serverCores: cores,
    notes: [...lostNotes(warm).map((n) => `warm-up: ${n}`), ...lostNotes(result)],
  };
}

const perSecond = (label: string, short: string): FigureSpec => ({
  key: 'perSecond',
  label,
  better: 'higher',
  digits: 0,
  short,
});
const latency = (what: string, short: string): FigureSpec[] => [
  { key: 'p50', label: `${what} p50 (ms)`, better: 'lower', digits: 2, short: `${short} p50` },
  { key: 'p99', label: `${what} p99 (ms)`, better: 'lower', digits: 2, short: `${short} p99` },
];
const all = (): null => null;

const latencyScenario: Scenario = {
  id: 'latency',
  title: () => `1 latency: ${CLIENTS} clients, one 100-byte acked echo in flight each`,
  figures: [perSecond('latency: messages/s', 'echo/s'), ...latency('latency:', 'echo')],
  unsupported: all,
  run: (context) =>
    ackScenario(
      context,
      { clients: CLIENTS, inFlight: 1, event: 'echo', data: PAYLOAD, path: '/echo' },
      true,
    ),
};

const throughputScenario: Scenario = {
  id: 'throughput',
  title: () => `2 throughput: ${CLIENTS} clients, 100 acked echoes in flight each`,
  figures: [perSecond('throughput: messages/s', 'thru/s')],
  unsupported: all,
  run: (context) =>
    ackScenario(
      context,
      { clients: CLIENTS, inFlight: 100, event: 'echo', data: PAYLOAD, path: '/echo' },
      false,
    ),
};

const WARM_BROADCASTS = 10;

/** The fan-out payload's text: with `{"i":<id>,…}` around it, about PAYLOAD's 100 bytes. */
const BROADCAST_TEXT = PAYLOAD.text;

/** Fan-out: `senders` of the clients send the broadcasts between them, all at once. */
async function fanout(
  { server, handle, load, budget }: ScenarioContext,
  senders: number,
): Promise<Measurement> {
  await load.connect(wsKind(server), handle.ready.port, budget.fanoutClients, {
    path: '/broadcast',
  });
  // Ids 0…9 warm up; the window counts ids 10… only, so a late warm-up delivery is a stray.
  await load.emit('broadcast', BROADCAST_TEXT, 0, WARM_BROADCASTS, senders);
  const warm = deliveryTotals(await load.awaitDeliveries(budget.stallMs, budget.firstDeliveryMs));
  const { result, cores } = await serverCores(handle.child.pid, async () => {
    const { startedAt } = await load.emit(
      'broadcast',
      BROADCAST_TEXT,
      WARM_BROADCASTS,
      budget.broadcasts,
      senders,
    );
    return {
      startedAt,
      replies: await load.awaitDeliveries(budget.stallMs, budget.firstDeliveryMs),
    };
  });
  const totals = deliveryTotals(result.replies);
  return {
    figures: {
      perSecond: totals.delivered / ((totals.lastAt - result.startedAt) / 1000),
      lost: totals.lost,
      expected: totals.expected,
      received: totals.delivered,
      duplicates: totals.duplicates,
      strays: totals.strays,
    },
    loadCores: coresUsed(result.replies),
    serverCores: cores,
    notes: [...deliveryNotes(warm, 'warm-up: '), ...deliveryNotes(totals)],
  };
}

const fanoutScenario: Scenario = {
  id: 'fanout',
  title: (b) =>
    `3 fan-out: ${b.fanoutClients} clients, one sends ${b.broadcasts} broadcasts (counted per client and broadcast id)`,
  figures: [
    perSecond('fan-out: deliveries/s', 'fan-out/s'),
    { key: 'lost', label: 'fan-out: deliveries lost', better: 'none', digits: 0, short: 'lost' },
  ],
  unsupported: all,
  run: (context) => fanout(context, 1),
};

const sendersScenario: Scenario = {
  id: 'senders',
  title: (b) =>
    `3b fan-out from many: ${b.fanoutClients} clients, ${b.fanoutSenders} of them send ${b.broadcasts} broadcasts between them at once`,
  figures: [
    perSecond('fan-out from many: deliveries/s', 'many/s'),
    { key: 'lost', label: 'fan-out from many: lost', better: 'none', digits: 0, short: 'lost' },
  ],
  unsupported: all,
  run: (context) => fanout(context, context.budget.fanoutSenders),
};

const WARM_CONNECTS = 100;

const connectScenario: Scenario = {
  id: 'connect',
  title: (b) => `4 connect: ${b.connects} handshakes + namespace connects, batches of 50`,
  figures: [perSecond('connect: connections/s', 'conn/s'), ...latency('connect:', 'conn')],
  unsupported: all,
  run: async ({ server, handle, load, budget }) => {
    const kind = wsKind(server);
    await load.connect(kind, handle.ready.port, WARM_CONNECTS);
    await load.close();
    await sleep(budget.settleMs);
    const { result, cores } = await serverCores(handle.child.pid, () =>
      load.connect(kind, handle.ready.port, budget.connects, { batch: 50, timeEach: true }),
    );
    const seconds = Math.max(...result.map((r) => r.wallMs)) / 1000;
    return {
      figures: {
        perSecond: budget.connects / seconds,
        ...percentiles(result.flatMap((r) => r.latencies)),
      },
      loadCores: coresUsed(result),
      serverCores: cores,
      notes: [],
    };
  },
};

const idleScenario: Scenario = {
  id: 'idle',
  title: (b) =>
    `5 idle memory: ${b.idleClients} idle clients (server RSS after - before, each read after a full GC, per client; ${WARM_CONNECTS} warm clients in both), then ${b.addedClients} more (RSS per added client)`,
  figures: [
    {
      key: 'kibPerConnection',
      label: 'idle: RSS per connection (KiB)',
      better: 'lower',
      digits: 1,
      short: 'KiB/conn',
    },
    {
      key: 'kibPerAddedConnection',
      label: 'idle: RSS per added connection (KiB)',
      better: 'lower',
      digits: 1,
      short: 'KiB/added',
    },
  ],
  unsupported: all,
  run: async ({ server, handle, load, budget }) => {
    // A warm server (code compiled, pools grown) so the difference is per connection.
    const kind = wsKind(server);
    await load.connect(kind, handle.ready.port, WARM_CONNECTS);
    await sleep(budget.settleMs);
    const before = await handle.rss();
    const { result, cores } = await serverCores(handle.child.pid, () =>
      load.connect(kind, handle.ready.port, budget.idleClients, { batch: 100 }),
    );
    await sleep(budget.settleMs);
    const after = await handle.rss();
    // What each connection past the first thousands costs: the server's pools have grown.
    await load.connect(kind, handle.ready.port, budget.addedClients, { batch: 100 });
    await sleep(budget.settleMs);
    const added = await handle.rss();
    return {
      figures: {
        kibPerConnection: (after - before) / budget.idleClients / 1024,
        kibPerAddedConnection: (added - after) / budget.addedClients / 1024,
        rssBeforeMiB: before / 2 ** 20,
        rssAfterMiB: after / 2 ** 20,
        rssAddedMiB: added / 2 ** 20,
      },
      loadCores: coresUsed(result),
      serverCores: cores,
      notes: [],
    };
  },
};

const pollingScenario: Scenario = {
  id: 'polling',
  title: (b) =>
    `6 polling: ${b.pollingClients} long-polling clients, one acked echo in flight each`,
  figures: [perSecond('polling: messages/s', 'poll/s'), ...latency('polling:', 'poll')],
  unsupported: (server) => (server === 'ws' ? 'raw WebSocket has no long-polling' : null),
  run: (context) =>
    ackScenario(
      context,
      {
        clients: context.budget.pollingClients,
        inFlight: 1,
        event: 'echo',
        data: PAYLOAD,
        path: '',
      },
      true,
      true,
    ),
};

const cpuScenario: Scenario = {
  id: 'cpu',
  title: () =>
    `7 CPU-bound handler: ${CLIENTS} clients, ~1 ms of work per event, one in flight each`,
  figures: [perSecond('CPU-bound (1 ms): messages/s', 'cpu/s')],
  unsupported: all,
  run: (context) =>
    ackScenario(
      context,
      {
        clients: CLIENTS,
        inFlight: 1,
        event: 'cpu',
        data: 1,
        path: '/cpu?ms=1',
        warmupSeconds: context.budget.cpuWarmupSeconds,
      },
      false,
    ),
};

/** Every scenario, in table order. */
export const SCENARIOS: readonly Scenario[] = [
  latencyScenario,
  throughputScenario,
  fanoutScenario,
  sendersScenario,
  connectScenario,
  idleScenario,
  pollingScenario,
  cpuScenario,
];
