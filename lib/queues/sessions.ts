/**
 * Connection state recovery, the storage side: where the sessions of clients that lost
 * their connection are kept, with the packets sent to them meanwhile, until they come
 * back or their time runs out. The Socket.IO side (offsets on the wire, the CONNECT
 * handshake, which disconnects keep a session) is lib/socketio/recovery.ts; a store
 * knows sids, rooms and encoded packets, never sockets. Two stores: memory-sessions.ts (the
 * sessions end with the process) and redis-sessions.ts (shared by every process on one Redis:
 * they outlive a graceful stop, not a kill -9, which writes nothing).
 *
 *   client                          server                         store
 *   (transport cut) - - - - - - ->  socket gone, reason recoverable -> keep(state, log)
 *                                   io.to('room').emit(…)           -> append(route, packet)
 *   40{"pid":…,"offset":…} ------>                                  -> take(pid, nsp, offset)
 *                       <-------    40{"sid":<same>,"pid":<same>}
 *                       <-------    every packet after offset, in order
 */
import type { EncodedParts } from '../encoded-parts.js';

/** A packet kept for recovery: the offset it carries (its last argument) and its parts. */
export interface LoggedPacket {
  readonly offset: string;
  readonly parts: EncodedParts;
  /**
   * Where it came from, for a packet another process emitted: the offset it had there (its own
   * offset when the sender gave none). What names one packet across processes (see
   * {@link originOf}). Undefined for a packet this process emitted: its offset is its origin.
   */
  readonly origin?: string;
}

/**
 * What names a kept packet across processes: its origin, or its own offset (sent from here).
 * Two copies of one packet (kept by two processes, or in a log and in a stream) share it.
 *
 * @example
 * ```ts
 * originOf({ offset: 'b7', parts, origin: 'a3' }); // 'a3'
 * ```
 */
export const originOf = (packet: LoggedPacket): string => packet.origin ?? packet.offset;

/**
 * Which sessions a packet reaches: its namespace, its rooms (undefined: the whole
 * namespace; a sid is a room), the sids it skips and the rooms whose members it skips.
 */
export interface PacketRoute {
  readonly nsp: string;
  readonly to: readonly string[] | undefined;
  readonly skip?: ReadonlySet<string>;
  readonly except?: readonly string[] | undefined;
}

/**
 * Whether a packet's route reaches a session: its namespace, one of its rooms (a sid is a
 * room) unless the route is for the whole namespace, and neither a skipped sid nor an
 * `except` room. Every store decides it so.
 *
 * @example
 * ```ts
 * reaches({ nsp: '/', to: ['lobby'] }, { pid, sid: 's1', nsp: '/', rooms: ['lobby'], data }); // true
 * ```
 */
export function reaches(route: PacketRoute, session: SessionState): boolean {
  if (route.nsp !== session.nsp || route.skip?.has(session.sid) === true) return false;
  const member = (room: string): boolean => room === session.sid || session.rooms.includes(room);
  if (route.except?.some(member) === true) return false;
  return route.to === undefined || route.to.some(member);
}

/** A session as it was when its client lost the connection. */
export interface SessionState {
  /** The private id the client presents to recover (socket.io's `pid`). */
  readonly pid: string;
  /** The Socket.IO sid, which the client gets back. */
  readonly sid: string;
  readonly nsp: string;
  /** Its rooms, its own sid room left out. */
  readonly rooms: readonly string[];
  /** Its `session()`, or undefined when it never used one. */
  readonly data: Record<string, unknown> | undefined;
}

/** What a session keeps of the packets written to it, so that a cut loses nothing. */
export interface SessionLog {
  push(packet: LoggedPacket): void;
}

/** A session taken back by its client. */
export interface RestoredSession extends SessionState {
  /** Every packet that reached the session after the client's offset, in order. */
  readonly missed: readonly LoggedPacket[];
  /** The log the recovered socket goes on with. */
  readonly log: SessionLog | undefined;
}

/**
 * Keeps recoverable sessions. One per server; the Socket.IO layer calls it from its hot
 * path, so {@link holds} and {@link nextOffset} must be cheap.
 *
 * @example
 * ```ts
 * const log = store.open();                        // a client connects
 * const packet = { offset: store.nextOffset(), parts };
 * log?.push(packet);                               // written to it
 * store.keep({ pid, sid, nsp: '/', rooms: ['lobby'], data }, log); // its transport is cut
 * store.append({ nsp: '/', to: ['lobby'] }, next); // a broadcast meanwhile
 * await store.take(pid, '/', packet.offset);       // { sid, rooms, data, missed: [next], … }
 * ```
 */
export interface SessionStore {
  /** The offset the next kept packet carries (unique, and increasing within a process). */
  nextOffset(): string;
  /** The log of a session that has just connected, or undefined when the store needs none. */
  open(): SessionLog | undefined;
  /** Whether a kept session of `nsp` may be reached by a packet (false: skip {@link append}). */
  holds(nsp: string): boolean;
  /** A packet this process sent to `route`: appended to every kept session it reaches. */
  append(route: PacketRoute, packet: LoggedPacket): void;
  /** Keeps the session of a client that lost its connection, with its log. */
  keep(state: SessionState, log: SessionLog | undefined): void;
  /**
   * Gives a kept session back (and forgets it) when its client presents its `pid` within the
   * time, on the same namespace, and every packet after its `offset` is still there;
   * otherwise undefined, and the client connects fresh.
   */
  take(
    pid: string,
    nsp: string,
    offset: string | undefined,
  ): RestoredSession | undefined | Promise<RestoredSession | undefined>;
  /** How many sessions are kept now. */
  readonly size: number;
  /**
   * Stops the store: the memory store forgets its sessions; a shared store waits (a few
   * seconds at most) until the sessions kept at shutdown are written, then lets go of its
   * connection. Resolves whether every session was written.
   */
  close(): Promise<boolean>;
}
