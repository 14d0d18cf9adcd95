/**
 * The peer benchmark's output: the markdown tables (figures with their ratios
 * to socket.io and to raw ws; CPU use) and the chart's groups.
 */
import type { ChartGroup } from './chart.js';
import type { FigureSpec, Measurement, Scenario } from './peer-scenarios.js';
import { PEER_SERVERS, RAW_WS, SOCKET_IO } from './peer-servers.js';
import type { PeerServer } from './peer-servers.js';

/** A scenario's outcome on one server. */
export type Cell = Measurement | { readonly na: string } | { readonly error: string };

/** A scenario's outcome on every server. */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly results: Partial<Record<PeerServer, Cell>>;
}

/** Why a server has no figures in a run that left it out (BENCH_SERVERS): no note for it. */
export const NOT_SELECTED = 'not selected (BENCH_SERVERS)';

const isMeasurement = (cell: Cell | undefined): cell is Measurement =>
  cell !== undefined && 'figures' in cell;

const fmt = (n: number, digits: number): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

function figureOf(result: ScenarioResult, server: PeerServer, key: string): number {
  const cell = result.results[server];
  return isMeasurement(cell) ? (cell.figures[key] ?? NaN) : NaN;
}

function cellText(result: ScenarioResult, server: PeerServer, spec: FigureSpec): string {
  const cell = result.results[server];
  if (cell === undefined) return '';
  if ('na' in cell) return 'n/a';
  if ('error' in cell) return 'failed';
  const value = cell.figures[spec.key] ?? NaN;
  const text = fmt(value, spec.digits);
  if (spec.better === 'none') return text;
  const ratios = [
    [SOCKET_IO, 'sio'],
    [RAW_WS, 'ws'],
  ]
    .filter(([peer]) => peer !== server)
    .map(([peer, short]) => {
      const of = figureOf(result, peer as PeerServer, spec.key);
      return Number.isFinite(of) && of !== 0 && Number.isFinite(value)
        ? `${(value / of).toFixed(2)}x ${short}`
        : null;
    })
    .filter((r) => r !== null);
  return ratios.length > 0 ? `${text} (${ratios.join(', ')})` : text;
}

const arrow = (spec: FigureSpec): string =>
  spec.better === 'higher' ? ' ↑' : spec.better === 'lower' ? ' ↓' : '';

/** The main table: one row per figure, one column per server. */
export function peerTable(
  scenarios: readonly Scenario[],
  results: readonly ScenarioResult[],
): string {
  const lines = [
    `| figure | ${PEER_SERVERS.join(' | ')} |`,
    `|---|${PEER_SERVERS.map(() => '---:').join('|')}|`,
  ];
  scenarios.forEach((scenario, i) => {
    const result = results[i];
    if (result === undefined) return;
    for (const spec of scenario.figures)
      lines.push(
        `| ${spec.label}${arrow(spec)} | ${PEER_SERVERS.map((s) => cellText(result, s, spec)).join(' | ')} |`,
      );
  });
  return lines.join('\n');
}

/** CPU use per scenario: load generators / server process, in cores. */
export function cpuTable(results: readonly ScenarioResult[]): string {
  const lines = [
    `| scenario | ${PEER_SERVERS.join(' | ')} |`,
    `|---|${PEER_SERVERS.map(() => '---:').join('|')}|`,
  ];
  for (const result of results) {
    const cells = PEER_SERVERS.map((server) => {
      const cell = result.results[server];
      if (!isMeasurement(cell)) return cell !== undefined && 'na' in cell ? 'n/a' : 'failed';
      return `${fmt(cell.loadCores, 2)} / ${fmt(cell.serverCores, 2)}`;
    });
    lines.push(`| ${result.title.split(':')[0] ?? result.id} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * Notes and failures, one line each; then why a server shows n/a, one line per server and
 * reason with the scenarios it applies to.
 */
export function peerNotes(results: readonly ScenarioResult[]): string[] {
  const notes: string[] = [];
  const na = new Map<string, string[]>();
  for (const result of results)
    for (const server of PEER_SERVERS) {
      const cell = result.results[server];
      if (cell === undefined) continue;
      if ('na' in cell) {
        const key = `${server}: n/a: ${cell.na}`;
        if (cell.na !== NOT_SELECTED) na.set(key, [...(na.get(key) ?? []), result.id]);
      } else if ('error' in cell) notes.push(`${result.id} on ${server}: FAILED: ${cell.error}`);
      else for (const note of cell.notes) notes.push(`${result.id} on ${server}: ${note}`);
    }
  for (const [key, ids] of na) notes.push(`${key} (${ids.join(', ')})`);
  return notes;
}

/**
 * The chart's groups: each figure as an advantage over socket.io (higher is
 * better: value / socket.io's, or socket.io's / value for latency and memory).
 */
export function chartGroups(
  scenarios: readonly Scenario[],
  results: readonly ScenarioResult[],
): { subjects: PeerServer[]; groups: ChartGroup[] } {
  const subjects = PEER_SERVERS.filter((s) => s !== SOCKET_IO);
  const groups: ChartGroup[] = [];
  scenarios.forEach((scenario, i) => {
    const result = results[i];
    if (result === undefined) return;
    for (const spec of scenario.figures) {
      if (spec.better === 'none') continue;
      const base = figureOf(result, SOCKET_IO, spec.key);
      const ratios = Object.fromEntries(
        subjects.map((s) => {
          const v = figureOf(result, s, spec.key);
          return [s, spec.better === 'higher' ? v / base : base / v];
        }),
      );
      groups.push({ label: spec.short, ratios });
    }
  });
  return { subjects, groups };
}
