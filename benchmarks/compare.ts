/**
 * `make bench-compare BASE=<git ref>`: is this tree slower than an earlier one? Builds the ref
 * in a temporary git worktree, then runs the peer benchmark's scenarios on both trees in
 * alternating rounds (base, this, this, base, …, so that neither always runs first or on a
 * warmer machine) and prints the median of each figure and the ratio this/base.
 *
 * BENCH_SERVERS (default event-loop) and BENCH_SCENARIOS (default the hot paths: latency,
 * throughput, fanout, connect) pick what runs; BENCH_ROUNDS (default 3) how many times each.
 *
 * Then, unless BENCH_CPU=0, it runs server-cpu.ts on both trees (base first, so its ratio is
 * this/base too) and prints that table: the server's own CPU per fan-out delivery and per
 * connect, steadier than the rates on a busy machine (BENCH_ROUNDS, when set, is its number of
 * runs per tree as well; its own default is 5).
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One scenario's figures per server, as peers-partial.json has them. */
interface PeerResults {
  readonly scenarios: readonly {
    readonly id: string;
    readonly results: Readonly<Record<string, { readonly figures?: Record<string, number> }>>;
  }[];
}

/** Figures of one run: `scenario server figure` → value. */
type Run = Map<string, number>;

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const base = process.env.BASE ?? process.argv[2];
if (base === undefined || base === '') {
  console.error('bench-compare: name the tree to compare with: make bench-compare BASE=<git ref>');
  process.exit(2);
}
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`bench-compare: BENCH_ROUNDS is a whole number of rounds, got ${String(rounds)}`);
  process.exit(2);
}
const env = {
  ...process.env,
  BENCH_SERVERS: process.env.BENCH_SERVERS ?? 'event-loop',
  BENCH_SCENARIOS: process.env.BENCH_SCENARIOS ?? 'latency,throughput,fanout,connect',
};

/** Figures whose smaller value is the better one. */
const LOWER_IS_BETTER = /^(p50|p99|lost|kibPerConnection|rss)/;

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
}

/** Runs the peer benchmark in `tree` (built) and reads its figures. */
function runIn(tree: string): Run {
  execFileSync('node', ['dist/benchmarks/run.js', '--peers'], {
    cwd: tree,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const results = JSON.parse(
    readFileSync(join(tree, 'benchmarks/results/peers-partial.json'), 'utf8'),
  ) as PeerResults;
  const run: Run = new Map();
  for (const scenario of results.scenarios)
    for (const [server, cell] of Object.entries(scenario.results))
      for (const [figure, value] of Object.entries(cell.figures ?? {}))
        run.set(`${scenario.id} ${server} ${figure}`, value);
  return run;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

const commit = git('rev-parse', '--short', base);
const worktree = mkdtempSync(join(tmpdir(), `bench-base-${commit}-`));
git('worktree', 'add', '--detach', worktree, commit);
try {
  // The packages of this tree: a base this compares with has the same ones or fewer.
  // (A commit may hold a node_modules link of its own; it gives way to this one.)
  const link = join(worktree, 'node_modules');
  if (lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() === true) unlinkSync(link);
  symlinkSync(join(repo, 'node_modules'), link);
  process.stderr.write(`bench-compare: building ${commit} in ${worktree}\n`);
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: worktree, stdio: 'inherit' });
  const runs: Record<'base' | 'this', Run[]> = { base: [], this: [] };
  for (let round = 0; round < rounds; round++) {
    const order: ('base' | 'this')[] = round % 2 === 0 ? ['base', 'this'] : ['this', 'base'];
    for (const which of order) {
      process.stderr.write(`bench-compare: round ${round + 1} of ${rounds}, ${which}\n`);
      runs[which].push(runIn(which === 'base' ? worktree : repo));
    }
  }
  const head = git('rev-parse', '--short', 'HEAD');
  console.log(`\n## This tree (${head}, with changes if any) against ${base} (${commit})\n`);
  console.log(`Median of ${rounds} alternating rounds; ratio this/base; ▲ better, ▼ worse.\n`);
  console.log('| scenario | server | figure | base | this | ratio |');
  console.log('| --- | --- | --- | ---: | ---: | ---: |');
  for (const key of runs.this[0]?.keys() ?? []) {
    const [scenario, server, figure] = key.split(' ') as [string, string, string];
    const before = median(runs.base.map((r) => r.get(key) ?? NaN));
    const now = median(runs.this.map((r) => r.get(key) ?? NaN));
    if (before === now) {
      console.log(`| ${scenario} | ${server} | ${figure} | ${before} | ${now} | = |`);
      continue;
    }
    const ratio = now / before;
    const better = LOWER_IS_BETTER.test(figure) ? ratio < 1 : ratio > 1;
    const mark = !Number.isFinite(ratio) || Math.abs(ratio - 1) < 0.03 ? '' : better ? ' ▲' : ' ▼';
    const show = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
    console.log(
      `| ${scenario} | ${server} | ${figure} | ${show(before)} | ${show(now)} | ${ratio.toFixed(2)}${mark} |`,
    );
  }
  if (process.env.BENCH_CPU !== '0') {
    process.stderr.write('bench-compare: server CPU per operation, base and this tree\n');
    try {
      execFileSync('node', [join(repo, 'dist/benchmarks/server-cpu.js'), worktree, repo], {
        cwd: repo,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    } catch {
      // server-cpu.ts said why on stderr (a base without this SocketIO API, say).
      process.stderr.write(
        'bench-compare: the server-CPU comparison failed (BENCH_CPU=0 skips it)\n',
      );
      process.exitCode = 1;
    }
  }
} finally {
  // The link only, never the packages it points at.
  unlinkSync(join(worktree, 'node_modules'));
  git('worktree', 'remove', '--force', worktree);
}
