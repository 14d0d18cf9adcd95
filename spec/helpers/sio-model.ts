/**
 * The reference model of the Socket.IO property (spec/socketio/server.props.spec.ts):
 * which client is connected to which namespace and in which rooms, which
 * broadcast ids each client must (or, inside a concurrent burst, may) receive,
 * and which server calls must still be pending or must have been rejected.
 */

/** Rooms a client is in, per namespace it is connected to. */
export type Memberships = Map<number, Map<string, Set<string>>>;

/** Who a broadcast is for, in terms of client indices. */
export interface Target {
  /** Rooms; with no rooms and no `toClient`: the whole namespace. */
  readonly rooms: readonly string[];
  /** A client's sid as a room. */
  readonly toClient?: number;
  readonly skip: readonly number[];
  readonly includeSelf: boolean;
}

/** A server call the model follows. */
export interface CallModel {
  readonly id: number;
  readonly client: number;
  readonly nsp: string;
  /** `pending` until answered; `reject` once its namespace socket is gone. */
  state: 'pending' | 'reject';
}

function key(client: number, nsp: string, id: number): string {
  return `${client}|${nsp}|${id}`;
}

/** The clients a broadcast reaches under `members` (the sender is `from`, or null). */
export function receivers(
  members: Memberships,
  nsp: string,
  target: Target,
  from: number | null,
): Set<number> {
  const out = new Set<number>();
  const whole = target.rooms.length === 0 && target.toClient === undefined;
  for (const [client, conns] of members) {
    const rooms = conns.get(nsp);
    if (rooms === undefined) continue;
    const inRoom = target.rooms.some((room) => rooms.has(room)) || target.toClient === client;
    if (!whole && !inRoom) continue;
    if (target.skip.includes(client)) continue;
    if (from === client && !target.includeSelf) continue;
    out.add(client);
  }
  return out;
}

/** The model of one run. */
export class SioModel {
  readonly members: Memberships = new Map();
  /** `client|nsp|id` a client must have received. */
  readonly must = new Set<string>();
  /** `client|nsp|id` a client may have received (a broadcast racing a change in a burst). */
  readonly may = new Set<string>();
  readonly calls: CallModel[] = [];
  #nextId = 1;

  constructor(readonly clientCount: number) {}

  nextId(): number {
    return this.#nextId++;
  }

  connected(client: number, nsp: string): boolean {
    return this.members.get(client)?.has(nsp) === true;
  }

  rooms(client: number, nsp: string): Set<string> | undefined {
    return this.members.get(client)?.get(nsp);
  }

  connect(client: number, nsp: string): void {
    let conns = this.members.get(client);
    if (conns === undefined) this.members.set(client, (conns = new Map<string, Set<string>>()));
    conns.set(nsp, new Set());
  }

  /** The namespace socket is gone: its rooms, and its pending calls must reject. */
  disconnect(client: number, nsp: string): void {
    const conns = this.members.get(client);
    conns?.delete(nsp);
    if (conns?.size === 0) this.members.delete(client);
    for (const call of this.calls)
      if (call.client === client && call.nsp === nsp && call.state === 'pending')
        call.state = 'reject';
  }

  /** Every namespace of a client is gone. */
  disconnectAll(client: number): void {
    for (const nsp of [...(this.members.get(client)?.keys() ?? [])]) this.disconnect(client, nsp);
  }

  /** A broadcast with every membership settled. */
  broadcast(id: number, nsp: string, target: Target, from: number | null): void {
    for (const client of receivers(this.members, nsp, target, from))
      this.must.add(key(client, nsp, id));
  }

  /**
   * A broadcast concurrent with membership changes: clients targeted both
   * before and after must receive it; those targeted on one side only may.
   */
  racingBroadcast(
    id: number,
    nsp: string,
    target: Target,
    from: number | null,
    before: Memberships,
  ): void {
    const early = receivers(before, nsp, target, from);
    const late = receivers(this.members, nsp, target, from);
    for (const client of new Set([...early, ...late])) {
      if (early.has(client) && late.has(client)) this.must.add(key(client, nsp, id));
      else this.may.add(key(client, nsp, id));
    }
  }

  /** A deep copy of the memberships (the state before a burst). */
  snapshot(): Memberships {
    const copy: Memberships = new Map();
    for (const [client, conns] of this.members) {
      const nsps = new Map<string, Set<string>>();
      for (const [nsp, rooms] of conns) nsps.set(nsp, new Set(rooms));
      copy.set(client, nsps);
    }
    return copy;
  }

  /** Checks what clients received: each id at most once, every `must`, nothing unexpected. */
  problems(
    received: (client: number, nsp: string) => readonly number[],
    nsps: readonly string[],
  ): string[] {
    const seen = new Map<string, number>();
    for (let client = 0; client < this.clientCount; client++)
      for (const nsp of nsps)
        for (const id of received(client, nsp)) {
          const k = key(client, nsp, id);
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }
    const out: string[] = [];
    for (const [k, count] of seen) {
      if (count > 1) out.push(`${k} received ${count} times`);
      if (!this.must.has(k) && !this.may.has(k)) out.push(`${k} received, not a target`);
    }
    for (const k of this.must) if (!seen.has(k)) out.push(`${k} not received`);
    return out;
  }
}
