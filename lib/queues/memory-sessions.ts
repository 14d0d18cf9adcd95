/**
 * The session store of one process: kept sessions in memory, each with its own bounded
 * log. A live session's log holds the last packets written to it (those a client whose
 * transport died unseen may lack); once kept, its log takes what is sent to its rooms.
 * Bounded three ways, and what falls out of a bound connects fresh, never partly restored:
 * packets per session, sessions kept (the oldest goes first), and time.
 */
import type { Clock, TimerHandle } from '../../schedulers/scheduler.js';
import { RoomRegistry } from '../rooms.js';
import { Offsets } from './offsets.js';
import { PacketLog } from './packet-log.js';
import { reaches } from './sessions.js';
import type {
  LoggedPacket,
  PacketRoute,
  RestoredSession,
  SessionLog,
  SessionState,
  SessionStore,
} from './sessions.js';

/** The bounds of a {@link MemorySessionStore}. */
export interface MemorySessionLimits {
  /** How long a session is kept after its client lost the connection (ms). */
  readonly maxDisconnectionMs: number;
  /** Most packets one session keeps; one that misses more connects fresh. */
  readonly maxPacketsPerSession: number;
  /** Most sessions kept at once; past it the oldest is forgotten. */
  readonly maxSessions: number;
}

/** A kept session. */
interface Kept {
  readonly state: SessionState;
  readonly log: PacketLog;
  /** When it was kept (the clock's ms). */
  readonly since: number;
  /** Packets appended since it was kept. */
  missed: number;
}

/**
 * Sessions kept in memory, for one process.
 *
 * @example
 * ```ts
 * const store = new MemorySessionStore(
 *   { maxDisconnectionMs: 120_000, maxPacketsPerSession: 1000, maxSessions: 10_000 },
 *   realClock,
 * );
 * ```
 */
export class MemorySessionStore implements SessionStore {
  readonly #offsets = new Offsets();
  /** By pid, oldest first (a Map keeps insertion order). */
  readonly #kept = new Map<string, Kept>();
  /** The kept sessions' rooms (their sid rooms included), by pid. */
  readonly #rooms = new RoomRegistry();

  /** Told when a room of the kept sessions gains its first one or loses its last. */
  set onRoom(listener: RoomRegistry['onRoom']) {
    this.#rooms.onRoom = listener;
  }
  #timer: TimerHandle | null = null;

  constructor(
    readonly limits: MemorySessionLimits,
    private readonly clock: Clock,
    /** Told when a session is forgotten before its time (the bounds). */
    private readonly debug: (line: string) => void = () => undefined,
  ) {}

  get size(): number {
    return this.#kept.size;
  }

  nextOffset(): string {
    return this.#offsets.next();
  }

  open(): PacketLog {
    return new PacketLog(this.limits.maxPacketsPerSession, this.#offsets.seq);
  }

  holds(nsp: string): boolean {
    return this.#kept.size > 0 && this.#rooms.hasNamespace(nsp);
  }

  append(route: PacketRoute, packet: LoggedPacket): void {
    if (this.#kept.size === 0) return;
    for (const pid of this.#rooms.members(route.nsp, route.to)) {
      const kept = this.#kept.get(pid);
      if (kept === undefined || !reaches(route, kept.state)) continue;
      kept.log.push(packet);
      if (++kept.missed > this.limits.maxPacketsPerSession) {
        this.#forget(pid);
        this.debug(
          `session ${kept.state.sid} missed more than ${this.limits.maxPacketsPerSession} packets; it will connect fresh`,
        );
      }
    }
  }

  keep(state: SessionState, log: SessionLog | undefined): void {
    if (!(log instanceof PacketLog)) return;
    this.#forget(state.pid);
    if (this.#kept.size >= this.limits.maxSessions) {
      const [oldest] = this.#kept.keys();
      if (oldest !== undefined) {
        this.#forget(oldest);
        this.debug(`${this.limits.maxSessions} sessions kept: forgot the oldest`);
      }
    }
    this.#kept.set(state.pid, { state, log, since: this.clock.now(), missed: 0 });
    this.#rooms.join(state.nsp, state.pid, state.sid);
    for (const room of state.rooms) this.#rooms.join(state.nsp, state.pid, room);
    this.#arm();
  }

  take(pid: string, nsp: string, offset: string | undefined): RestoredSession | undefined {
    const kept = this.#kept.get(pid);
    if (kept === undefined || kept.state.nsp !== nsp) return undefined;
    this.#forget(pid);
    if (this.clock.now() - kept.since > this.limits.maxDisconnectionMs) return undefined;
    const missed = kept.log.after(offset, this.#offsets.predates(offset, kept.log.start));
    if (missed === undefined) {
      this.debug(`session ${kept.state.sid} lost packets it missed; it connects fresh`);
      return undefined;
    }
    return { ...kept.state, missed, log: kept.log };
  }

  close(): Promise<boolean> {
    if (this.#timer !== null) this.clock.clearTimeout(this.#timer);
    this.#timer = null;
    for (const pid of [...this.#kept.keys()]) this.#forget(pid);
    return Promise.resolve(true);
  }

  #forget(pid: string): void {
    const kept = this.#kept.get(pid);
    if (kept === undefined) return;
    this.#kept.delete(pid);
    this.#rooms.leaveAll(kept.state.nsp, pid);
  }

  /** One timer, for the oldest session; it re-arms for the next. */
  #arm(): void {
    if (this.#timer !== null) return;
    const [oldest] = this.#kept.values();
    if (oldest === undefined) return;
    const wait = Math.max(0, oldest.since + this.limits.maxDisconnectionMs - this.clock.now());
    const timer = this.clock.setTimeout(() => {
      this.#timer = null;
      this.#expire();
    }, wait + 1);
    // A kept session must not keep the process alive.
    (timer as { unref?: () => unknown }).unref?.();
    this.#timer = timer;
  }

  #expire(): void {
    const now = this.clock.now();
    for (const [pid, kept] of this.#kept) {
      if (now - kept.since <= this.limits.maxDisconnectionMs) break;
      this.#forget(pid);
    }
    this.#arm();
  }
}
