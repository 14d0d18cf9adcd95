/**
 * `make bench`: the async modes side by side, then the peer servers.
 * `--quick` runs short windows (CI smoke test); `--peers` runs only the peer
 * servers, `--schedulers` only the async modes. Prints markdown, writes JSON and SVG charts under benchmarks/results/;
 * a full run of both also keeps `bench-<date>.json` there, never overwritten.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { ASYNC_MODES } from '../lib/index.js';
import { barChart } from './chart.js';
import { runPeers } from './peers.js';
import { fileStamp, readResult, writeResult } from './results-files.js';
import { benchMode, schedulerTable } from './schedulers.js';
import type { ModeFigures } from './schedulers.js';

const quick = process.argv.includes('--quick');
const peersOnly = process.argv.includes('--peers');
const seconds = quick ? 0.6 : 3;
const results = new URL('../../benchmarks/results/', import.meta.url);
mkdirSync(results, { recursive: true });

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
process.stderr.write(`socketio-actors benchmarks (${quick ? 'quick' : 'full'}) on ${machine}\n`);

async function benchSchedulers(): Promise<void> {
  const figures: ModeFigures[] = [];
  for (const mode of ASYNC_MODES) figures.push(await benchMode(mode, seconds));

  const base = figures.find((f) => f.mode === 'event-loop');
  const ratio = (value: number, of: number | undefined): number => (of ? value / of : NaN);
  const chart = barChart(
    'Async modes: ratio to event-loop (higher is better)',
    figures.map((f) => f.mode),
    [
      {
        label: 'echo msg/s',
        ratios: Object.fromEntries(
          figures.map((f) => [f.mode, ratio(f.echo.perSecond, base?.echo.perSecond)]),
        ),
      },
      {
        label: 'CPU-bound msg/s',
        ratios: Object.fromEntries(
          figures.map((f) => [f.mode, ratio(f.cpuBound.perSecond, base?.cpuBound.perSecond)]),
        ),
      },
      {
        label: 'task spawn/s',
        ratios: Object.fromEntries(
          figures.map((f) => [f.mode, ratio(f.spawnPerSecond, base?.spawnPerSecond)]),
        ),
      },
    ],
  );
  const suffix = quick ? '-quick' : '';
  writeFileSync(
    new URL(`schedulers${suffix}.json`, results),
    JSON.stringify({ machine, date: new Date().toISOString(), seconds, figures }, null, 2),
  );
  writeFileSync(new URL(`schedulers${suffix}.svg`, results), chart);

  console.log(`\n## Async modes (${machine}, ${seconds} s per scenario)\n`);
  console.log(schedulerTable(figures));
  console.log(
    `\nJSON and chart: benchmarks/results/schedulers${suffix}.json, schedulers${suffix}.svg`,
  );
}

const schedulersOnly = process.argv.includes('--schedulers');
if (!peersOnly) await benchSchedulers();
if (!schedulersOnly) await runPeers(quick, machine, results);
if (!quick && !peersOnly && !schedulersOnly) {
  // The latest files are replaced by the next run; this one stays, dated.
  const kept = writeResult(`bench-${fileStamp()}`, {
    machine,
    date: new Date().toISOString(),
    schedulers: readResult('schedulers'),
    peers: readResult('peers'),
  });
  console.log(`\nThis run, dated: ${kept}`);
}
