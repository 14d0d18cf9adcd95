/**
 * The peer benchmark (`make bench`, second part; `make bench-peers` alone):
 * seven scenarios against this project in each async mode, the npm
 * `socket.io` server, a raw `ws` server and Flask-SocketIO (when
 * `make bench-deps` could install it), each started fresh per scenario,
 * driven by load generators in their own processes. Prints markdown, writes
 * JSON and an SVG chart under benchmarks/results/.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { barChart } from './chart.js';
import { FD_HEADROOM, openFileLimits, progress } from './harness.js';
import type { ServerHandle } from './harness.js';
import { LoadGenerators } from './loadgen.js';
import { SCENARIOS } from './peer-scenarios.js';
import type { PeerBudget, Scenario } from './peer-scenarios.js';
import { PEER_SERVERS, peerMissing, startPeer, stopPeer } from './peer-servers.js';
import type { PeerReady, PeerServer } from './peer-servers.js';
import { chartGroups, cpuTable, NOT_SELECTED, peerNotes, peerTable } from './peer-table.js';
import type { Cell, ScenarioResult } from './peer-table.js';
import { targetStatuses, targetTable } from './targets.js';

const FULL: PeerBudget = {
  seconds: 2,
  warmupSeconds: 0.4,
  cpuWarmupSeconds: 2,
  fanoutClients: 1000,
  broadcasts: 200,
  fanoutSenders: 50,
  connects: 2000,
  idleClients: 5000,
  addedClients: 10000,
  pollingClients: 200,
  stallMs: 3000,
  firstDeliveryMs: 30_000,
  settleMs: 800,
};

const QUICK: PeerBudget = {
  seconds: 0.3,
  warmupSeconds: 0.1,
  cpuWarmupSeconds: 0.3,
  fanoutClients: 100,
  broadcasts: 20,
  fanoutSenders: 10,
  connects: 200,
  idleClients: 300,
  addedClients: 300,
  pollingClients: 30,
  stallMs: 1000,
  firstDeliveryMs: 10_000,
  settleMs: 100,
};

/** Load-generator CPU (cores per process) above which a figure may be theirs, not the server's. */
const SATURATED = 0.85;

/** Shrinks the connection counts to what the open-file limit allows. */
function fitToLimit(budget: PeerBudget): PeerBudget {
  const limit = openFileLimits().soft;
  const most =
    Math.max(budget.idleClients + budget.addedClients, budget.connects, budget.fanoutClients) + 100;
  if (most + FD_HEADROOM <= limit) return budget;
  const allowed = Math.max(100, limit - FD_HEADROOM - 100);
  process.stderr.write(
    `  ! ulimit -n is ${limit}: capping connections at ${allowed} (raise it for the full figures)\n`,
  );
  return {
    ...budget,
    idleClients: Math.min(budget.idleClients, allowed),
    addedClients: Math.max(0, Math.min(budget.addedClients, allowed - budget.idleClients)),
    connects: Math.min(budget.connects, allowed),
    fanoutClients: Math.min(budget.fanoutClients, allowed),
  };
}

/** Load-generator processes: BENCH_LOADGENS, else one per two cores (at least one). */
function loadGeneratorCount(): number {
  const asked = Number(process.env.BENCH_LOADGENS);
  if (Number.isInteger(asked) && asked > 0) return asked;
  return Math.max(1, Math.floor(cpus().length / 2));
}

async function runOne(
  scenario: Scenario,
  server: PeerServer,
  load: LoadGenerators,
  budget: PeerBudget,
): Promise<Cell> {
  const unsupported = scenario.unsupported(server);
  if (unsupported !== null) return { na: unsupported };
  let handle: ServerHandle<PeerReady>;
  try {
    handle = await startPeer(server);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  let cell: Cell;
  try {
    cell = await scenario.run({ server, handle, load, budget });
  } catch (error) {
    cell = { error: error instanceof Error ? error.message : String(error) };
  }
  await load.close().catch(() => undefined);
  const crashed = await stopPeer(handle);
  if (crashed !== null) return { error: crashed };
  if ('figures' in cell && cell.loadCores / load.size > SATURATED)
    return {
      ...cell,
      notes: [
        ...cell.notes,
        `load generators used ${cell.loadCores.toFixed(2)} cores (${load.size} process(es)): they may have been the bottleneck, read the figure as a lower bound`,
      ],
    };
  return cell;
}

/**
 * A comma-separated selection from an environment variable (BENCH_SCENARIOS,
 * BENCH_SERVERS), or undefined for all. An unknown name is an error that lists the known ones.
 */
function selection(name: string, known: readonly string[]): ReadonlySet<string> | undefined {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return undefined;
  const picked = new Set(text.split(',').map((s) => s.trim()));
  for (const item of picked)
    if (!known.includes(item))
      throw new Error(`${name}: unknown "${item}"; choose from ${known.join(', ')}`);
  return picked;
}

/**
 * Runs every scenario on every server (or the BENCH_SCENARIOS / BENCH_SERVERS
 * selection); prints the tables and writes the files.
 */
export async function runPeers(quick: boolean, machine: string, results: URL): Promise<void> {
  const budget = fitToLimit(quick ? QUICK : FULL);
  const scenarios = selection(
    'BENCH_SCENARIOS',
    SCENARIOS.map((s) => s.id),
  );
  const servers = selection('BENCH_SERVERS', PEER_SERVERS);
  const missing = new Map<PeerServer, string>();
  for (const server of PEER_SERVERS) {
    const reason = (servers?.has(server) ?? true) ? peerMissing(server) : null;
    if (reason === null) continue;
    missing.set(server, `not installed: ${reason}`);
    process.stderr.write(`  ! ${server} skipped: ${reason}\n`);
  }
  const picked = SCENARIOS.filter((s) => scenarios?.has(s.id) ?? true);
  const loadAverage = loadavg()[0] ?? 0;
  const busy = loadAverage > cpus().length;
  if (busy)
    process.stderr.write(
      `  ! load average ${loadAverage.toFixed(1)} on ${cpus().length} cores: other work is running, the figures will be noisy\n`,
    );
  const load = LoadGenerators.start(loadGeneratorCount());
  const started = performance.now();
  const outcomes: ScenarioResult[] = [];
  try {
    for (const [index, scenario] of picked.entries()) {
      const title = scenario.title(budget);
      const row: Partial<Record<PeerServer, Cell>> = {};
      // Each scenario starts with another server, so no server is always the first
      // measured (right after the load generators' previous scenario).
      const order = PEER_SERVERS.map(
        (_, i) => PEER_SERVERS[(i + index) % PEER_SERVERS.length] as PeerServer,
      );
      for (const server of order) {
        const t = performance.now();
        const skipped = missing.get(server);
        const cell =
          skipped !== undefined
            ? { na: skipped }
            : (servers?.has(server) ?? true)
              ? await runOne(scenario, server, load, budget)
              : { na: NOT_SELECTED };
        row[server] = cell;
        const outcome = 'error' in cell ? `FAILED: ${cell.error}` : 'na' in cell ? 'n/a' : 'done';
        progress(
          `peers ${title.split(':')[0] ?? ''} ${scenario.id} on ${server}: ${outcome} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
        );
      }
      outcomes.push({ id: scenario.id, title, results: row });
    }
  } finally {
    load.exit();
  }
  const elapsed = (performance.now() - started) / 1000;

  // A partial run never replaces the full results kept in git.
  const suffix = quick
    ? '-quick'
    : scenarios !== undefined || servers !== undefined
      ? '-partial'
      : '';
  writeFileSync(
    new URL(`peers${suffix}.json`, results),
    JSON.stringify(
      {
        machine,
        date: new Date().toISOString(),
        quick,
        loadAverageAtStart: loadAverage,
        budget,
        loadGenerators: load.size,
        elapsedSeconds: elapsed,
        servers: PEER_SERVERS,
        scenarios: outcomes,
        targets: targetStatuses(outcomes),
      },
      null,
      2,
    ),
  );
  const { subjects, groups } = chartGroups(picked, outcomes);
  writeFileSync(
    new URL(`peers${suffix}.svg`, results),
    barChart('Peers: advantage over socket.io (higher is better)', subjects, groups),
  );

  console.log(
    `\n## Peer servers (${machine}; ${budget.seconds} s windows; ${load.size} load-generator process(es); ${elapsed.toFixed(0)} s)\n`,
  );
  if (busy)
    console.log(
      `**Load average ${loadAverage.toFixed(1)} on ${cpus().length} cores when this ran: other work shared the machine; treat the figures as noisy.**\n`,
    );
  console.log(
    "Each cell: the figure (ratio to socket.io's, ratio to raw ws's). ↑ higher is better, ↓ lower is better.\n",
  );
  for (const outcome of outcomes) console.log(`- ${outcome.title}`);
  console.log(`\n${peerTable(picked, outcomes)}`);
  console.log('\nCPU in each measured phase, in cores: load generators / server process.\n');
  console.log(cpuTable(outcomes));
  const notes = peerNotes(outcomes);
  if (notes.length > 0) console.log(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
  console.log('\n### Round-2 targets (ratios within this run)\n');
  console.log(targetTable(outcomes));
  console.log(`\nJSON and chart: benchmarks/results/peers${suffix}.json, peers${suffix}.svg`);
}
