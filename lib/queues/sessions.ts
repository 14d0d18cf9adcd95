/**
 * Connection state recovery, the storage side: where the sessions of clients that lost
 * their connection are kept, with the packets sent to them meanwhile, until they come
 * back or their time runs out. The Socket.IO side (offsets on the wire, the CONNECT
 * handshake, which disconnects keep a session) is lib/socketio/recovery.ts; a store
 * knows sids, rooms and encoded packets, never sockets.
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
   * Where it came from, for a packet another process emitted: the offset it had there. (A
   * session handed over between processes is told from what the new one caught meanwhile by
   * it.) Undefined for a packet this process emitted: its offset is its origin.
   */
  readonly origin?: string;
}

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
  /** Forgets every kept session and stops the store's timers. */
  close(): void;
}
