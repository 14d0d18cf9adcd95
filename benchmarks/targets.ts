/**
 * The performance targets of round 2 (issue 17), checked against one peer run: each
 * target is a ratio between two servers measured in the same run (or a bound on one
 * figure), and the table says whether it is met and by how much it misses.
 */
import type { ScenarioResult } from './peer-table.js';
import type { PeerServer } from './peer-servers.js';

/** One side of a target: a figure of a scenario on a server. */
interface FigureRef {
  readonly scenario: string;
  readonly server: PeerServer;
  readonly key: string;
}

/** A target: `value` (a ratio of two figures, or one figure) against a bound. */
interface Target {
  readonly what: string;
  readonly of: FigureRef;
  /** Divide by this figure (a ratio); absent: the figure itself, scaled by `scale`. */
  readonly over?: FigureRef;
  readonly scale?: number;
  readonly unit: string;
  readonly atLeast?: number;
  readonly atMost?: number;
}

const TARGETS: readonly Target[] = [
  {
    what: 'connect: connections/s, event-loop over socket.io',
    of: { scenario: 'connect', server: 'event-loop', key: 'perSecond' },
    over: { scenario: 'connect', server: 'socket.io', key: 'perSecond' },
    unit: 'x',
    atLeast: 1.5,
  },
  {
    what: 'long-polling: messages/s, event-loop over socket.io',
    of: { scenario: 'polling', server: 'event-loop', key: 'perSecond' },
    over: { scenario: 'polling', server: 'socket.io', key: 'perSecond' },
    unit: 'x',
    atLeast: 1.5,
  },
  {
    what: 'memory: RSS per added idle connection (event-loop)',
    of: { scenario: 'idle', server: 'event-loop', key: 'kibPerAddedConnection' },
    scale: 1.024,
    unit: ' KB',
    atMost: 7,
  },
  {
    what: 'memory: RSS per connection at 5,000, event-loop over socket.io',
    of: { scenario: 'idle', server: 'event-loop', key: 'kibPerConnection' },
    over: { scenario: 'idle', server: 'socket.io', key: 'kibPerConnection' },
    unit: 'x',
    atMost: 0.7,
  },
  {
    what: 'worker-pool: echo messages/s over event-loop',
    of: { scenario: 'latency', server: 'worker-pool', key: 'perSecond' },
    over: { scenario: 'latency', server: 'event-loop', key: 'perSecond' },
    unit: 'x',
    atLeast: 0.5,
  },
  {
    what: 'worker-pool: CPU-bound messages/s over event-loop',
    of: { scenario: 'cpu', server: 'worker-pool', key: 'perSecond' },
    over: { scenario: 'cpu', server: 'event-loop', key: 'perSecond' },
    unit: 'x',
    atLeast: 1.7,
  },
  {
    what: 'cooperative: fan-out deliveries/s over event-loop',
    of: { scenario: 'fanout', server: 'cooperative', key: 'perSecond' },
    over: { scenario: 'fanout', server: 'event-loop', key: 'perSecond' },
    unit: 'x',
    atLeast: 0.6,
  },
  {
    what: "latency: p99, event-loop over socket.io's",
    of: { scenario: 'latency', server: 'event-loop', key: 'p99' },
    over: { scenario: 'latency', server: 'socket.io', key: 'p99' },
    unit: 'x',
    atMost: 1,
  },
];

function figure(outcomes: readonly ScenarioResult[], ref: FigureRef): number {
  const cell = outcomes.find((o) => o.id === ref.scenario)?.results[ref.server];
  return cell !== undefined && 'figures' in cell ? (cell.figures[ref.key] ?? NaN) : NaN;
}

/** A target's status in one run. */
export interface TargetStatus {
  readonly what: string;
  readonly bound: string;
  /** NaN when the run did not measure both sides. */
  readonly value: number;
  readonly unit: string;
  readonly met: boolean | null;
  /** How far from the bound, as a share of it (0 when met). */
  readonly missBy: number;
}

/** Every target's status in the run whose scenarios are `outcomes`. */
export function targetStatuses(outcomes: readonly ScenarioResult[]): TargetStatus[] {
  return TARGETS.map((t) => {
    const value =
      t.over === undefined
        ? figure(outcomes, t.of) * (t.scale ?? 1)
        : figure(outcomes, t.of) / figure(outcomes, t.over);
    const bound = t.atLeast ?? t.atMost ?? NaN;
    const measured = Number.isFinite(value);
    const met = !measured ? null : t.atLeast !== undefined ? value >= bound : value <= bound;
    const missBy = !measured || met === true ? 0 : Math.abs(value - bound) / bound;
    return {
      what: t.what,
      bound: `${t.atLeast !== undefined ? '≥' : '≤'} ${bound}${t.unit}`,
      value,
      unit: t.unit,
      met,
      missBy,
    };
  });
}

/** The targets as a markdown table: target, bound, this run's figure, status. */
export function targetTable(outcomes: readonly ScenarioResult[]): string {
  const rows = targetStatuses(outcomes).map((s) => {
    const value = Number.isFinite(s.value) ? `${s.value.toFixed(2)}${s.unit}` : 'not measured';
    const status =
      s.met === null
        ? 'n/a'
        : s.met
          ? 'met'
          : // Under 1%, whole percents would say "missed by 0%".
            `missed by ${(s.missBy * 100).toFixed(s.missBy < 0.01 ? 1 : 0)}%`;
    return `| ${s.what} | ${s.bound} | ${value} | ${status} |`;
  });
  return ['| target | bound | this run | status |', '|---|---:|---:|---|', ...rows].join('\n');
}
