/**
 * The routing benchmark's traffic, decided before anything runs: which rooms each
 * process's clients are in, and every message (its id, the process that emits it,
 * its room or none for everyone), so each client's expected messages and each
 * process's share are known up front.
 *
 * Process p's clients are all in `room-p`; its first quarter is also in `pair-p`
 * and its last quarter in `pair-(p-1)`, the rooms it shares with its neighbours.
 * Every process emits to every room in turn, so three room emits in four cross
 * processes.
 */

/** One emit: to `to` (one room), or to everyone when undefined. */
export interface PlannedMessage {
  readonly id: number;
  readonly from: number;
  readonly to: string | undefined;
}

/** How much of everything. */
export interface PlanSizes {
  readonly processes: number;
  readonly clientsPerProcess: number;
  /** Emits to each process's own room. */
  readonly roomEmits: number;
  /** Emits to each room shared by two processes. */
  readonly pairEmits: number;
  readonly broadcasts: number;
}

/** The whole traffic of a run. */
export interface Plan {
  readonly sizes: PlanSizes;
  readonly messages: readonly PlannedMessage[];
  /** The rooms of client `index` of process `process`. */
  clientRooms(process: number, index: number): readonly string[];
  /** The rooms process `process` holds members of. */
  processRooms(process: number): readonly string[];
  /** The ids a member of these rooms should get (broadcasts included), once each. */
  expectedIds(rooms: readonly string[]): readonly number[];
}

const own = (p: number): string => `room-${p}`;

/**
 * Builds the plan; messages are interleaved by their place in their own series, so
 * broadcasts and shared-room emits are spread over the run rather than bunched.
 *
 * @example
 * ```ts
 * const plan = routingPlan({ processes: 4, clientsPerProcess: 100, roomEmits: 200, pairEmits: 50, broadcasts: 50 });
 * plan.expectedIds(plan.processRooms(0)).length; // 200 + 2 * 50 + 50
 * ```
 */
export function routingPlan(sizes: PlanSizes): Plan {
  const { processes: n, clientsPerProcess: perProcess } = sizes;
  const pair = (p: number): string => `pair-${(p + n) % n}`;
  const quarter = Math.floor(perProcess / 4);
  const series: { at: number; from: number; to: string | undefined }[] = [];
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < sizes.roomEmits; j++)
      series.push({ at: j / sizes.roomEmits, from: (j + r) % n, to: own(r) });
    for (let j = 0; j < sizes.pairEmits; j++)
      series.push({ at: j / sizes.pairEmits, from: (j + r) % n, to: pair(r) });
  }
  for (let j = 0; j < sizes.broadcasts; j++)
    series.push({ at: j / sizes.broadcasts, from: j % n, to: undefined });
  series.sort((a, b) => a.at - b.at);
  const messages = series.map((m, id) => ({ id, from: m.from, to: m.to }));
  return {
    sizes,
    messages,
    clientRooms: (p, index) => [
      own(p),
      ...(index < quarter ? [pair(p)] : []),
      ...(index >= perProcess - quarter ? [pair(p - 1)] : []),
    ],
    processRooms: (p) => (quarter > 0 ? [own(p), pair(p), pair(p - 1)] : [own(p)]),
    expectedIds: (rooms) =>
      messages.filter((m) => m.to === undefined || rooms.includes(m.to)).map((m) => m.id),
  };
}
