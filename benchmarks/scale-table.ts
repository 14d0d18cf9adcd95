/**
 * The scale benchmark's figures (scale.ts) and its markdown table: this
 * server's figure, socket.io's, and the ratio of the two.
 */
import type { DeliveryTotals } from './loadgen.js';
import type { PeerServer } from './peer-servers.js';

/** What one server did holding the clients. */
export interface ScaleFigures {
  /** Wall time to connect every client (handshake + namespace), s. */
  readonly connectSeconds: number;
  readonly connectsPerSecond: number;
  /** CPU in the connect phase, in cores. */
  readonly connectLoadCores: number;
  readonly connectServerCores: number;
  /** Server RSS after a full GC, with the warm clients only and with every client. */
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  readonly kibPerConnection: number;
  /** How much later than the ping interval each ping came after the client's previous one. */
  readonly pingLateMs: {
    readonly pings: number;
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
  };
  readonly broadcast: DeliveryTotals & {
    readonly perSecond: number;
    readonly loadCores: number;
    readonly serverCores: number;
  };
}

/** One server's run: figures, or why it stopped. */
export type ScaleOutcome =
  | { readonly server: PeerServer; readonly figures: ScaleFigures; readonly notes: string[] }
  | { readonly server: PeerServer; readonly error: string };

const whole = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number): string =>
  Number.isFinite(n) ? n.toFixed(digits) : 'n/a';

/**
 * The table: one row per figure, a column per server, and this server's
 * figure as a ratio of socket.io's.
 *
 * @example
 * ```ts
 * console.log(scaleTable(outcomes, { pingIntervalS: 5, broadcasts: 5, clients: 50_100 }));
 * ```
 */
export function scaleTable(
  outcomes: readonly ScaleOutcome[],
  run: { pingIntervalS: number; broadcasts: number; clients: number },
): string {
  const rows: [string, (f: ScaleFigures) => number, (n: number) => string][] = [
    ['connect time, all clients (s) ↓', (f) => f.connectSeconds, (n) => fixed(n, 1)],
    ['connects/s ↑', (f) => f.connectsPerSecond, whole],
    ['server RSS holding them (MiB)', (f) => f.rssAfterMiB, (n) => fixed(n, 0)],
    ['server RSS per connection (KiB) ↓', (f) => f.kibPerConnection, (n) => fixed(n, 1)],
    [
      `ping lateness p50 (ms beyond ${run.pingIntervalS} s) ↓`,
      (f) => f.pingLateMs.p50,
      (n) => fixed(n, 1),
    ],
    ['ping lateness p99 (ms) ↓', (f) => f.pingLateMs.p99, (n) => fixed(n, 1)],
    ['ping lateness max (ms) ↓', (f) => f.pingLateMs.max, (n) => fixed(n, 1)],
    [
      `broadcast: deliveries/s (${run.broadcasts} x ${whole(run.clients)}) ↑`,
      (f) => f.broadcast.perSecond,
      whole,
    ],
    ['broadcast: (client, id) pairs lost', (f) => f.broadcast.lost, whole],
    ['broadcast: duplicates', (f) => f.broadcast.duplicates, whole],
    ['broadcast: strays (ids outside the window)', (f) => f.broadcast.strays, whole],
    ['CPU connecting: load generators (cores)', (f) => f.connectLoadCores, (n) => fixed(n, 2)],
    ['CPU connecting: server (cores)', (f) => f.connectServerCores, (n) => fixed(n, 2)],
    ['CPU broadcasting: load generators (cores)', (f) => f.broadcast.loadCores, (n) => fixed(n, 2)],
    ['CPU broadcasting: server (cores)', (f) => f.broadcast.serverCores, (n) => fixed(n, 2)],
  ];
  const figures = (server: PeerServer): ScaleFigures | undefined => {
    const outcome = outcomes.find((o) => o.server === server);
    return outcome !== undefined && 'figures' in outcome ? outcome.figures : undefined;
  };
  const ours = figures('event-loop');
  const theirs = figures('socket.io');
  const lines = [
    '| figure | this server (event-loop) | socket.io | this / socket.io |',
    '|---|---:|---:|---:|',
    ...rows.map(([label, pick, format]) => {
      const a = ours === undefined ? NaN : pick(ours);
      const b = theirs === undefined ? NaN : pick(theirs);
      const cell = (f: ScaleFigures | undefined, n: number): string =>
        f === undefined ? 'failed' : format(n);
      const ratio = Number.isFinite(a / b) && b !== 0 ? `${(a / b).toFixed(2)}x` : '';
      return `| ${label} | ${cell(ours, a)} | ${cell(theirs, b)} | ${ratio} |`;
    }),
  ];
  const problems = outcomes.flatMap((o) =>
    'error' in o ? [`${o.server}: ${o.error}`] : o.notes.map((n) => `${o.server}: ${n}`),
  );
  if (problems.length > 0) lines.push('', 'Notes:', ...problems.map((p) => `- ${p}`));
  return lines.join('\n');
}
