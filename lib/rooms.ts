/**
 * The in-memory room registry (the local client manager): which Socket.IO sids
 * are in which rooms, per namespace, with the reverse index for leave-all. Below
 * both layers: lib/socketio keeps its live clients in one, and the session store
 * of lib/queues the sessions it keeps for connection state recovery.
 */

type RoomMap = Map<string, Set<string>>;

/**
 * Rooms per namespace. Every socket is in the room named after its sid.
 *
 * @example
 * ```ts
 * const rooms = new RoomRegistry();
 * rooms.join('/', 'sid1', 'lobby');
 * rooms.members('/', ['lobby']); // Set { 'sid1' }
 * ```
 */
export class RoomRegistry {
  readonly #rooms = new Map<string, RoomMap>();
  readonly #bySid = new Map<string, RoomMap>();
  /**
   * Told when a room gains its first member (`present` true) or loses its last, a member's own
   * room (the one named after it) left out: a message queue routes rooms by it.
   */
  onRoom: ((nsp: string, room: string, present: boolean) => void) | undefined;

  #map(index: Map<string, RoomMap>, nsp: string): RoomMap {
    let map = index.get(nsp);
    if (map === undefined) {
      map = new Map();
      index.set(nsp, map);
    }
    return map;
  }

  join(nsp: string, sid: string, room: string): void {
    const rooms = this.#map(this.#rooms, nsp);
    let members = rooms.get(room);
    if (members === undefined) {
      rooms.set(room, (members = new Set()));
      if (room !== sid) this.onRoom?.(nsp, room, true);
    }
    members.add(sid);
    const bySid = this.#map(this.#bySid, nsp);
    let joined = bySid.get(sid);
    if (joined === undefined) bySid.set(sid, (joined = new Set()));
    joined.add(room);
  }

  leave(nsp: string, sid: string, room: string): void {
    const rooms = this.#rooms.get(nsp);
    const members = rooms?.get(room);
    if (members?.delete(sid) === true && members.size === 0) {
      rooms?.delete(room);
      if (room !== sid) this.onRoom?.(nsp, room, false);
    }
    const bySid = this.#bySid.get(nsp);
    const joined = bySid?.get(sid);
    if (joined !== undefined) {
      joined.delete(room);
      if (joined.size === 0) bySid?.delete(sid);
    }
    if (rooms?.size === 0) this.#rooms.delete(nsp);
    if (bySid?.size === 0) this.#bySid.delete(nsp);
  }

  /** Removes a sid from every room of a namespace (on disconnect). */
  leaveAll(nsp: string, sid: string): void {
    for (const room of [...this.roomsOf(nsp, sid)]) this.leave(nsp, sid, room);
  }

  /** Empties a room; returns the sids that were in it. */
  close(nsp: string, room: string): string[] {
    const members = [...(this.#rooms.get(nsp)?.get(room) ?? [])];
    for (const sid of members) this.leave(nsp, sid, room);
    return members;
  }

  /** The rooms a sid is in. */
  roomsOf(nsp: string, sid: string): ReadonlySet<string> {
    return this.#bySid.get(nsp)?.get(sid) ?? new Set();
  }

  /** The sids in any of `rooms`, or in the whole namespace when `rooms` is undefined. */
  members(nsp: string, rooms: readonly string[] | undefined): Set<string> {
    if (rooms === undefined) return new Set(this.#bySid.get(nsp)?.keys() ?? []);
    const map = this.#rooms.get(nsp);
    if (rooms.length === 1) return new Set(map?.get(rooms[0] as string) ?? []);
    const out = new Set<string>();
    for (const room of rooms) for (const sid of map?.get(room) ?? []) out.add(sid);
    return out;
  }

  /** Room names and sizes of a namespace. */
  sizes(nsp: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const [room, members] of this.#rooms.get(nsp) ?? []) out.set(room, members.size);
    return out;
  }

  /** Whether a namespace has a member. */
  hasNamespace(nsp: string): boolean {
    return this.#bySid.has(nsp);
  }

  /** Namespaces with at least one member. */
  namespaces(): string[] {
    return [...this.#bySid.keys()];
  }

  /** Total (sid, room) memberships: zero once every client has gone. */
  get entries(): number {
    let n = 0;
    for (const map of this.#bySid.values()) for (const rooms of map.values()) n += rooms.size;
    return n;
  }
}
