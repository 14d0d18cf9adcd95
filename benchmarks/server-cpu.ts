/**
 * `make bench-cpu`: the server's own CPU time per operation, a figure that stays steady on a
 * busy machine where the peer benchmark's rates spread by ±10%. The server (`SocketIO` from a
 * tree's dist/lib/index.js, event-loop mode) runs alone in a process that reads its own
 * `process.cpuUsage()`; the clients (server-cpu-clients.ts, raw `ws` speaking Engine.IO v4 /
 * Socket.IO v5) run in a process of their own, so their work is not counted.
 *
 * - fan-out: 1,000 clients joined to `/`; a round is 300 `io.emit('news', payload)`, yielding
 *   with setImmediate after every 10, until the clients report every delivery. Figure: ns of
 *   server CPU per delivery.
 * - connect: a round is 500 WebSocket connects, each with a namespace CONNECT to `/` and a
 *   close, 20 at a time, then a 200 ms pause outside the measurement. Figure: µs of server CPU
 *   per connect and close.
 *
 * A run is 8 rounds of each, every measurement in a fresh server process (so JIT state does not
 * carry over) and reports the minimum and the median of its rounds. `node
 * dist/benchmarks/server-cpu.js` measures this tree; `node dist/benchmarks/server-cpu.js treeA
 * treeB …` (paths of built checkouts) alternates them run by run (A B, B A, A B, …), and prints
 * for each tree the median of its runs' minimums, their range and the ratio to the first tree.
 * BENCH_ROUNDS (default 5) is the number of runs per tree.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ClientJob, ClientReply } from './server-cpu-clients.js';

/** Rounds per measuring process; each gives one figure. */
const ROUNDS = 8;
const FANOUT_CLIENTS = 1000;
const FANOUT_EMITS = 300;
/** The emits between two setImmediate yields (as broadcasts from incoming events spread). */
const FANOUT_YIELD_EVERY = 10;
const CONNECTS = 500;
const CONNECT_BATCH = 20;
const CONNECT_PAUSE_MS = 200;
/** A round that takes longer has lost deliveries or clients: the run fails. */
const ROUND_TIMEOUT_MS = 120_000;

type Kind = 'fanout' | 'connect';

/** The part of a tree's `SocketIO` this uses (the same in every tree it compares). */
interface ServerUnderTest {
  listen(port: number, host?: string): Promise<{ readonly port: number }>;
  on(event: 'connect', handler: () => boolean): void;
  emit(event: string, data?: unknown): void;
}

/** A tree's dist/lib/index.js. */
interface TreeModule {
  readonly SocketIO: new (options: {
    readonly pingInterval: number;
    readonly pingTimeout: number;
  }) => ServerUnderTest;
}

/** One run's figure of one kind: the minimum and median of its rounds. */
interface RunFigure {
  readonly min: number;
  readonly median: number;
}

/** What a measuring process sends back. */
type MeasureReply = { readonly type: 'figure'; readonly figure: RunFigure };

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const self = fileURLToPath(import.meta.url);
const clientsScript = fileURLToPath(new URL('./server-cpu-clients.js', import.meta.url));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** The clients' next reply of `type`; rejects on their error, exit or a round's timeout. */
function next<T extends ClientReply['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<ClientReply, { type: T }>> {
  return new Promise((resolveReply, reject) => {
    const finish = (error: Error | undefined, reply?: Extract<ClientReply, { type: T }>): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (reply !== undefined) resolveReply(reply);
      else reject(error ?? new Error('no reply'));
    };
    const onMessage = (message: ClientReply): void => {
      if (message.type === 'error') finish(new Error(`clients: ${message.message}`));
      else if (message.type === type)
        finish(undefined, message as Extract<ClientReply, { type: T }>);
    };
    const onExit = (code: number | null): void =>
      finish(new Error(`clients exited (${String(code)}) waiting for ${type}`));
    const timer = setTimeout(
      () => finish(new Error(`no ${type} from the clients in ${ROUND_TIMEOUT_MS} ms`)),
      ROUND_TIMEOUT_MS,
    );
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

function send(child: ChildProcess, job: ClientJob): void {
  child.send(job);
}

/** Server CPU time (user + system) in µs since `start`. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/** ns of server CPU per delivery, one figure per round. */
async function fanoutRounds(io: ServerUnderTest, clients: ChildProcess): Promise<number[]> {
  await next(clients, 'ready');
  const payload = { text: 'hello world', n: 42 };
  const deliveries = FANOUT_EMITS * FANOUT_CLIENTS;
  const figures: number[] = [];
  let total = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    total += deliveries;
    const reached = next(clients, 'reached');
    send(clients, { type: 'expect', total });
    for (let i = 0; i < FANOUT_EMITS; i++) {
      io.emit('news', payload);
      if (i % FANOUT_YIELD_EVERY === FANOUT_YIELD_EVERY - 1)
        await new Promise((resume) => setImmediate(resume));
    }
    await reached;
    figures.push((cpuSince(start) * 1000) / deliveries);
  }
  return figures;
}

/** µs of server CPU per connect, namespace CONNECT and close, one figure per round. */
async function connectRounds(clients: ChildProcess): Promise<number[]> {
  await next(clients, 'ready');
  const figures: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    const done = next(clients, 'done');
    send(clients, { type: 'connect', count: CONNECTS, batch: CONNECT_BATCH });
    await done;
    figures.push(cpuSince(start) / CONNECTS);
    await new Promise((resume) => setTimeout(resume, CONNECT_PAUSE_MS));
  }
  return figures;
}

/** A measuring process: serves `tree`'s SocketIO, forks the clients, reports one RunFigure. */
async function measure(kind: Kind, tree: string): Promise<void> {
  const url = pathToFileURL(join(tree, 'dist/lib/index.js')).href;
  const { SocketIO } = (await import(url)) as TreeModule;
  // The heartbeat of bench-app.ts (25 s / 20 s): no pings inside a round, as a rule.
  const io = new SocketIO({ pingInterval: 25, pingTimeout: 20 });
  if (kind === 'connect') io.on('connect', () => true);
  const { port } = await io.listen(0, '127.0.0.1');
  const args = kind === 'fanout' ? [String(port), String(FANOUT_CLIENTS)] : [String(port)];
  const clients = fork(clientsScript, [kind, ...args]);
  try {
    const figures =
      kind === 'fanout' ? await fanoutRounds(io, clients) : await connectRounds(clients);
    const reply: MeasureReply = {
      type: 'figure',
      figure: { min: Math.min(...figures), median: median(figures) },
    };
    await new Promise<void>((sent) => process.send?.(reply, () => sent()));
  } finally {
    clients.kill();
  }
  process.exit(0);
}

/** One measurement of `tree` in a fresh process (its stdout goes to stderr: the table is ours). */
function measureIn(kind: Kind, tree: string): Promise<RunFigure> {
  return new Promise((resolveFigure, reject) => {
    const child = fork(self, ['--measure', kind, tree], { stdio: ['ignore', 2, 2, 'ipc'] });
    let figure: RunFigure | undefined;
    child.on('message', (message: MeasureReply) => {
      figure = message.figure;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (figure !== undefined) resolveFigure(figure);
      else reject(new Error(`server-cpu: the ${kind} run of ${tree} failed (exit ${code})`));
    });
  });
}

/** `path (commit)`, with `, changed` when the tree has uncommitted changes to tracked files. */
function describe(tree: string): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', ['-C', tree, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const changed = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${tree} (${commit}${changed ? ', changed' : ''})`;
  } catch {
    return tree;
  }
}

async function compare(trees: readonly string[], runs: number): Promise<void> {
  const results = trees.map(() => ({ fanout: [] as RunFigure[], connect: [] as RunFigure[] }));
  const indices = trees.map((_, index) => index);
  for (let run = 0; run < runs; run++) {
    for (const index of run % 2 === 0 ? indices : [...indices].reverse()) {
      const tree = trees[index] ?? '';
      const fanout = await measureIn('fanout', tree);
      const connect = await measureIn('connect', tree);
      results[index]?.fanout.push(fanout);
      results[index]?.connect.push(connect);
      process.stderr.write(
        `server-cpu: run ${run + 1} of ${runs}, ${tree}: fan-out ${fanout.min.toFixed(0)} ns ` +
          `(median ${fanout.median.toFixed(0)}), connect ${connect.min.toFixed(0)} µs ` +
          `(median ${connect.median.toFixed(0)})\n`,
      );
    }
  }
  const show = (v: number): string => Math.round(v).toLocaleString('en-US');
  const summary = (figures: readonly RunFigure[]): { mid: number; range: string } => {
    const mins = figures.map((f) => f.min);
    return { mid: median(mins), range: `${show(Math.min(...mins))}–${show(Math.max(...mins))}` };
  };
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log('\n## Server CPU per operation\n');
  console.log(
    `Median of ${runs} runs' minimums (each run ${ROUNDS} rounds, a fresh server process, the ` +
      `clients in another); range of the runs' minimums; ratio to the first tree, lower is ` +
      `cheaper. Node ${process.version}, ${cpus().length} × ${cpu}.\n`,
  );
  console.log(
    '| tree | fan-out: ns per delivery | range | ratio | connect: µs per connect + close | range | ratio |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  let first: { fanout: number; connect: number } | undefined;
  for (const [index, tree] of trees.entries()) {
    const result = results[index];
    if (result === undefined) continue;
    const fanout = summary(result.fanout);
    const connect = summary(result.connect);
    first ??= { fanout: fanout.mid, connect: connect.mid };
    console.log(
      `| ${describe(tree)} | ${show(fanout.mid)} | ${fanout.range} | ` +
        `${(fanout.mid / first.fanout).toFixed(2)} | ${show(connect.mid)} | ${connect.range} | ` +
        `${(connect.mid / first.connect).toFixed(2)} |`,
    );
  }
}

const [flag, kind, measured] = process.argv.slice(2);
if (flag === '--measure' && (kind === 'fanout' || kind === 'connect') && measured !== undefined) {
  await measure(kind, measured);
} else {
  const trees = process.argv.slice(2).map((tree) => resolve(tree));
  if (trees.length === 0) trees.push(repo);
  for (const tree of trees) {
    if (!existsSync(join(tree, 'dist/lib/index.js'))) {
      console.error(`server-cpu: ${tree} is not a built tree (no dist/lib/index.js)`);
      process.exit(2);
    }
  }
  const runs = Number(process.env.BENCH_ROUNDS ?? 5);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`server-cpu: BENCH_ROUNDS is a whole number of runs, got ${String(runs)}`);
    process.exit(2);
  }
  await compare(trees, runs);
}
