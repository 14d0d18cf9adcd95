/**
 * `make bench-scale` (not in CI): SCALE_CLIENTS (default 50,000) idle clients
 * held by one event-loop process of this server, then by the npm socket.io
 * server, in the same run. Per server: the time to connect them all, server RSS
 * per connection, one broadcast window to every client (deliveries/s, counted
 * per client and broadcast id) and how late the server's pings come while it
 * holds them. Writes benchmarks/results/scale-<date>.json.
 *
 * ```
 *  load generators (SCALE_LOADGENS processes)        server (one process)
 *  clients bound to 127.0.0.2, .3, … (1,000 each) ──▶ 127.0.0.1:<port>
 * ```
 *
 * One source address has ~28k ephemeral ports; spreading the clients over
 * 127.0.0.0/8 keeps ports from running out. The server holds one file per
 * client, so the open-file limit (ulimit -n) must exceed SCALE_CLIENTS: the
 * Make target raises it as far as the hard limit allows, and this script
 * says so and stops when that is not enough. The connect phase stops after
 * SCALE_CONNECT_SECONDS (default 300) or after failures, with what it reached.
 */
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FD_HEADROOM, openFileLimits, progress } from './harness.js';
import { absoluteNow } from './load-jobs.js';
import { coresUsed, deliveryNotes, deliveryTotals, LoadGenerators } from './loadgen.js';
import type { DeliveryTotals } from './loadgen.js';
import { serverCores, startPeer, stopPeer } from './peer-servers.js';
import type { PeerServer } from './peer-servers.js';
import { fileStamp, writeResult } from './results-files.js';
import { scaleTable } from './scale-table.js';
import type { ScaleFigures, ScaleOutcome } from './scale-table.js';

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const clients = Math.round(setting('SCALE_CLIENTS', 50_000));
/** Each generator holds at most about this many clients (its own open-file limit). */
const PER_GENERATOR = 15_000;
const generators = Math.round(
  setting('SCALE_LOADGENS', Math.max(2, Math.ceil(clients / PER_GENERATOR))),
);
const pingIntervalS = setting('SCALE_PING_INTERVAL', 5);
const connectSeconds = setting('SCALE_CONNECT_SECONDS', 300);
const broadcasts = Math.round(setting('SCALE_BROADCASTS', 5));
/** Clients connected first so the RSS difference is per connection, not start-up. */
const WARM = 100;
/** About this many connects in flight overall. */
const BATCH = 200;
/** A generator stops connecting after this many failures (the first error says why). */
const MAX_FAILURES = 100;
/** Deliveries or connects that stall this long are over. */
const STALL_MS = 10_000;
const SETTLE_MS = 2000;
const TEXT = 'x'.repeat(83);
const SERVERS: readonly PeerServer[] = ['event-loop', 'socket.io'];

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;

/** Stops before any work when the open-file limit cannot hold the clients. */
function checkFileLimit(): void {
  const { soft, hard } = openFileLimits();
  const serverNeeds = clients + WARM + FD_HEADROOM;
  const generatorNeeds = Math.ceil((clients + WARM) / generators) + FD_HEADROOM;
  if (serverNeeds <= soft && generatorNeeds <= soft) return;
  const most = Math.max(0, Math.min(soft, hard) - WARM - FD_HEADROOM);
  process.stderr.write(
    `bench-scale: ${clients.toLocaleString('en-US')} clients need ${serverNeeds.toLocaleString('en-US')} open files in the ` +
      `server process (and ${generatorNeeds.toLocaleString('en-US')} in each of ${generators} load generators), but ` +
      `ulimit -n is ${soft} (hard limit ${hard}).\n` +
      (hard < serverNeeds
        ? `The hard limit is below what is needed: only root with CAP_SYS_RESOURCE can raise it ` +
          `(ulimit -Hn, /etc/security/limits.conf, or the container's nofile setting).\n`
        : `Run through \`make bench-scale\`, which raises ulimit -n up to the hard limit.\n`) +
      `At this limit, run with SCALE_CLIENTS=${most} at most.\n`,
  );
  process.exit(2);
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Connects WARM then `clients` clients; throws with what it reached when it falls short. */
async function connectAll(
  load: LoadGenerators,
  server: PeerServer,
  port: number,
  pid: number | undefined,
): Promise<
  Pick<
    ScaleFigures,
    'connectSeconds' | 'connectsPerSecond' | 'connectLoadCores' | 'connectServerCores'
  >
> {
  const stopAt = absoluteNow() + connectSeconds * 1000;
  const limits = { stopAt, maxFailures: MAX_FAILURES };
  progress(`${server}: connecting ${clients.toLocaleString('en-US')} clients`);
  const { result, cores } = await serverCores(pid, () =>
    load.connect('sio-ws', port, clients, {
      batch: BATCH,
      spreadSources: true,
      limits,
      partial: true,
    }),
  );
  const reached = result.reduce((sum, r) => sum + r.count, 0) - WARM;
  const seconds = Math.max(...result.map((r) => r.wallMs)) / 1000;
  if (reached < clients) {
    const failed = result.reduce((sum, r) => sum + r.failed, 0);
    const why =
      absoluteNow() > stopAt
        ? `the ${connectSeconds} s connect limit passed`
        : `${failed} connects failed`;
    throw new Error(
      `reached ${reached.toLocaleString('en-US')} of ${clients.toLocaleString('en-US')} clients in ${seconds.toFixed(1)} s: ${why}` +
        ` (first error: ${result.find((r) => r.firstError)?.firstError ?? 'none'})`,
    );
  }
  return {
    connectSeconds: seconds,
    connectsPerSecond: clients / seconds,
    connectLoadCores: coresUsed(result),
    connectServerCores: cores,
  };
}

/** Ping gaps over two intervals and a second, as lateness beyond the interval (ms). */
async function pingLateness(load: LoadGenerators): Promise<ScaleFigures['pingLateMs']> {
  const gaps = await load.pingGaps(2 * pingIntervalS + 1);
  const late = Float64Array.from(
    gaps,
    (g) => Math.round((g - pingIntervalS * 1000) * 100) / 100,
  ).sort();
  return {
    pings: late.length,
    p50: percentile(Array.from(late), 0.5),
    p99: percentile(Array.from(late), 0.99),
    max: late[late.length - 1] ?? NaN,
  };
}

/** One warm-up broadcast (id 0), then `broadcasts` (ids 1…) counted per client and id. */
async function broadcastToAll(
  load: LoadGenerators,
  pid: number | undefined,
): Promise<{
  totals: DeliveryTotals;
  warm: DeliveryTotals;
  perSecond: number;
  loadCores: number;
  serverCores: number;
}> {
  await load.emit('broadcast', TEXT, 0, 1);
  const warm = deliveryTotals(await load.awaitDeliveries(STALL_MS));
  const { result, cores } = await serverCores(pid, async () => {
    const { startedAt } = await load.emit('broadcast', TEXT, 1, broadcasts);
    return { startedAt, replies: await load.awaitDeliveries(STALL_MS) };
  });
  const totals = deliveryTotals(result.replies);
  return {
    totals,
    warm,
    perSecond: totals.delivered / ((totals.lastAt - result.startedAt) / 1000),
    loadCores: coresUsed(result.replies),
    serverCores: cores,
  };
}

async function holdOn(server: PeerServer, load: LoadGenerators): Promise<ScaleOutcome> {
  const handle = await startPeer(server, { BENCH_PING_INTERVAL: String(pingIntervalS) });
  const { port } = handle.ready;
  const pid = handle.child.pid;
  try {
    await load.connect('sio-ws', port, WARM, { spreadSources: true });
    await sleep(SETTLE_MS);
    const rssBefore = await handle.rss();
    const connect = await connectAll(load, server, port, pid);
    await sleep(SETTLE_MS);
    const rssAfter = await handle.rss();
    progress(`${server}: holding them, ping gaps for ${2 * pingIntervalS + 1} s`);
    const pingLateMs = await pingLateness(load);
    progress(
      `${server}: ${broadcasts} broadcasts to all ${(clients + WARM).toLocaleString('en-US')}`,
    );
    const fanout = await broadcastToAll(load, pid);
    return {
      server,
      figures: {
        ...connect,
        rssBeforeMiB: rssBefore / 2 ** 20,
        rssAfterMiB: rssAfter / 2 ** 20,
        kibPerConnection: (rssAfter - rssBefore) / clients / 1024,
        pingLateMs,
        broadcast: {
          ...fanout.totals,
          perSecond: fanout.perSecond,
          loadCores: fanout.loadCores,
          serverCores: fanout.serverCores,
        },
      },
      notes: [...deliveryNotes(fanout.warm, 'warm-up: '), ...deliveryNotes(fanout.totals)],
    };
  } catch (error) {
    return { server, error: error instanceof Error ? error.message : String(error) };
  } finally {
    await load.close().catch(() => undefined);
    const crashed = await stopPeer(handle);
    if (crashed !== null) progress(`${server}: ${crashed}`);
  }
}

checkFileLimit();
const loadAverage = loadavg()[0] ?? 0;
process.stderr.write(
  `bench-scale: ${clients.toLocaleString('en-US')} idle clients on ${machine}, ${generators} load generators, load average ${loadAverage.toFixed(1)}\n`,
);
const load = LoadGenerators.start(generators);
const outcomes: ScaleOutcome[] = [];
try {
  for (const server of SERVERS) {
    outcomes.push(await holdOn(server, load));
    // TIME_WAIT and the closed server's memory settle before the next one.
    await sleep(SETTLE_MS);
  }
} finally {
  load.exit();
}

const file = writeResult(`scale-${fileStamp()}`, {
  machine,
  date: new Date().toISOString(),
  loadAverageAtStart: loadAverage,
  clients,
  warmClients: WARM,
  loadGenerators: generators,
  pingIntervalSeconds: pingIntervalS,
  broadcasts,
  outcomes,
});
console.log(
  `\n## Scale: ${clients.toLocaleString('en-US')} idle clients on one process (${machine}; ${generators} load-generator processes; load average ${loadAverage.toFixed(1)} at start)\n`,
);
console.log(scaleTable(outcomes, { pingIntervalS, broadcasts, clients: clients + WARM }));
console.log(`\nJSON: ${file}`);
if (outcomes.some((o) => 'error' in o)) process.exitCode = 1;
