/**
 * One client in one namespace: its Socket.IO sid, session, and the
 * acknowledgements it owes the server.
 */
import type { IncomingMessage } from 'node:http';
import { standInRequest } from '../engine/stand-in.js';
import { isHttpSession, sessionData, SharedHttpSession } from './http-session.js';
import type { EncodedParts } from './packets.js';
import type { LoggedPacket, SessionLog } from '../queues/sessions.js';

/** Packets in (from clients) and out (to clients) since the process started, for the status page. */
export const traffic = { in: 0, out: 0 };

/** Waits for one acknowledgement from the client. */
export interface AckWaiter {
  onAck(args: unknown[]): void;
  onDisconnect(reason: string): void;
}

/** What a namespace socket needs from the connection it lives on. */
export interface SocketLink {
  /** Writes a packet's parts; `compress` false: never compressed (socket.io's `compress(false)`). */
  write(parts: EncodedParts, compress?: boolean): void;
  /** Whether a packet written now would leave without waiting (for `volatile` emits). */
  canTakeNow(): boolean;
  /** Closes the whole connection (every namespace of it). */
  closeConnection(): void;
  /** The id of the first ack the server awaits (the parser's: 0 for JSON, 1 for msgpack). */
  readonly firstAckId: number;
  /** The session every namespace of the connection shares (`manageSession: false`). */
  sharedSession(): Record<string, unknown>;
}

/**
 * The handshake's HTTP request as the `io.engine.use()` middlewares left it:
 * express-session's `session`, passport's `user`. In a worker-pool thread it is a
 * plain copy with `method`, `url`, `headers`, `session` and `user`.
 *
 * @group Application API
 */
export type HandshakeRequest = IncomingMessage & {
  readonly session?: unknown;
  readonly user?: unknown;
};

/** A socket's connection state recovery: its private id and log, and whether it recovered. */
interface RecoveryState {
  readonly pid: string;
  readonly log: SessionLog | undefined;
  readonly recovered: boolean;
}

/** The request data a handler can read with `request()`. */
export interface RequestInfo {
  /**
   * The handshake's HTTP request, when the engine kept it: it does when `io.engine.use()`
   * middlewares ran on it (keeping it costs 1 to 2.6 KB per connection).
   */
  readonly http?: HandshakeRequest;
  /** The handshake's path and query. */
  readonly url?: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly query: Readonly<Record<string, string>>;
  readonly remoteAddress: string;
}

/** Stand-ins for handshakes the engine did not keep, made when a handler first asks. */
const standIns = new WeakMap<RequestInfo, HandshakeRequest>();

/**
 * The handshake request of a connection: the one the engine kept, else a stand-in
 * with its method, URL and headers (made once, on first use).
 *
 * @example
 * ```ts
 * handshakeOf(socket.request).headers.cookie;
 * ```
 */
export function handshakeOf(request: RequestInfo): HandshakeRequest {
  if (request.http !== undefined) return request.http;
  let standIn = standIns.get(request);
  if (standIn === undefined) {
    standIn = standInRequest(request.url ?? '/', request.headers);
    standIns.set(request, standIn);
  }
  return standIn;
}

/**
 * A namespace socket (`connecting` until its connect handler accepts it).
 *
 * @example
 * ```ts
 * const socket = new NamespaceSocket('sid', '/chat', link, { token: 'x' }, request, true);
 * ```
 */
export class NamespaceSocket {
  #sid: string;
  #phase: 'connecting' | 'connected' | 'disconnected' = 'connecting';
  /** When the client asked to join (ms since the epoch): `handshake.issued` of fetchSockets(). */
  readonly created = Date.now();
  #nextAckId: number;
  /** Created on the first emit that waits for an ack (most clients never need one). */
  #acks: Map<number, AckWaiter> | undefined;
  /** Created on first use: an empty session costs about 200 bytes and most apps never use one. */
  #session: Record<string, unknown> | undefined;
  /**
   * What was written while `connecting` (its connect handler emitting, broadcasts reaching
   * it): held until the CONNECT reply has gone out, because the protocol puts that reply
   * first; dropped if the connection is refused.
   */
  #held: { readonly parts: EncodedParts; readonly compress: boolean }[] | undefined;
  /** `manageSession: false` with an HTTP session: handlers share it through this. */
  readonly shared: SharedHttpSession | undefined;
  /** Set while connecting when the server has connection state recovery on. */
  #recovery: RecoveryState | undefined;

  constructor(
    sid: string,
    readonly nsp: string,
    readonly link: SocketLink,
    readonly auth: Record<string, unknown> | undefined,
    readonly request: RequestInfo,
    /**
     * A session of its own, forked from the HTTP session (`manageSession`, the default);
     * else the HTTP session itself, or without one the connection's shared session.
     */
    private readonly ownSession: boolean,
  ) {
    this.#sid = sid;
    this.#nextAckId = link.firstAckId;
    this.shared =
      !ownSession && isHttpSession(handshakeOf(request).session)
        ? new SharedHttpSession(() => handshakeOf(request).session)
        : undefined;
  }

  /** The Socket.IO sid (a recovered socket takes its old one back while connecting). */
  get sid(): string {
    return this.#sid;
  }

  /** The private id its client recovers the session with (with connection state recovery). */
  get pid(): string | undefined {
    return this.#recovery?.pid;
  }

  /** The log of what was written to it (with connection state recovery). */
  get log(): SessionLog | undefined {
    return this.#recovery?.log;
  }

  /** Whether it took back the session of a client that had lost its connection. */
  get recovered(): boolean {
    return this.#recovery?.recovered === true;
  }

  /**
   * Connection state recovery, while connecting: a fresh session with a new private id, or
   * the `restored` one (its sid, its session).
   */
  startRecovery(
    pid: string,
    log: SessionLog | undefined,
    restored?: { readonly sid: string; readonly data: Record<string, unknown> | undefined },
  ): void {
    if (this.#phase !== 'connecting') return;
    this.#recovery = { pid, log, recovered: restored !== undefined };
    if (restored === undefined) return;
    this.#sid = restored.sid;
    if (this.ownSession && restored.data !== undefined) this.#session = restored.data;
  }

  /** Its own session, if it has one in use (not the HTTP or connection session it shares). */
  ownSessionData(): Record<string, unknown> | undefined {
    return this.ownSession ? this.#session : undefined;
  }

  /** The user session (`session()` in handlers). */
  get session(): Record<string, unknown> {
    if (!this.ownSession) return this.shared?.view ?? this.link.sharedSession();
    // Flask-SocketIO's manage_session: a copy of the web session's data, forked at first use
    // (the handshake's session object does not change after the connection opened).
    return (this.#session ??= sessionData(handshakeOf(this.request).session));
  }

  get phase(): 'connecting' | 'connected' | 'disconnected' {
    return this.#phase;
  }

  /** True once disconnected (a method, so checks after an `await` are not narrowed away). */
  isGone(): boolean {
    return this.#phase === 'disconnected';
  }

  get connected(): boolean {
    return this.#phase === 'connected';
  }

  /** How many acknowledgements are awaited. */
  get pendingAcks(): number {
    return this.#acks?.size ?? 0;
  }

  /**
   * Accepts the namespace connection: writes the CONNECT reply, then what was held
   * while connecting, in order.
   *
   *   client                     server
   *   40{auth}   ------------>   connect handler runs, emits 42["welcome"] (held)
   *              <------------   40{"sid":...}
   *              <------------   42["welcome"]
   */
  accept(connectReply: EncodedParts): void {
    if (this.#phase !== 'connecting') return;
    this.#phase = 'connected';
    this.#send(connectReply);
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) for (const { parts, compress } of held) this.#send(parts, compress);
  }

  /** Refuses the namespace connection: what was held is dropped, the CONNECT_ERROR goes out. */
  refuse(connectError: EncodedParts): void {
    if (this.#phase !== 'connecting') return;
    this.#held = undefined;
    this.#send(connectError);
  }

  /**
   * Writes a packet to the client (held until the CONNECT reply while connecting); `compress`
   * false: never compressed.
   */
  write(parts: EncodedParts, compress = true): void {
    if (this.#phase === 'connected') return this.#send(parts, compress);
    if (this.#phase === 'connecting') (this.#held ??= []).push({ parts, compress });
  }

  /** Writes a kept packet (connection state recovery) and logs it. */
  writeLogged(packet: LoggedPacket, compress = true): void {
    if (this.#phase === 'disconnected') return;
    this.write(packet.parts, compress);
    this.#recovery?.log?.push(packet);
  }

  /**
   * Writes a `volatile` packet: only when it can leave at once (connected, the transport free);
   * otherwise it is dropped. Returns whether it was written.
   */
  writeVolatile(parts: EncodedParts, compress = true): boolean {
    if (this.#phase !== 'connected' || !this.link.canTakeNow()) return false;
    this.#send(parts, compress);
    return true;
  }

  #send(parts: EncodedParts, compress = true): void {
    this.link.write(parts, compress);
    traffic.out++;
  }

  /** The ack id the next {@link expectAck} would take. */
  get nextAckId(): number {
    return this.#nextAckId;
  }

  /**
   * Registers a waiter; returns the ack id to put in the packet. A broadcast that waits for
   * every client's ack passes one `id` (at least each target's {@link nextAckId}), so its
   * packet is encoded once.
   */
  expectAck(waiter: AckWaiter, id = this.#nextAckId): number {
    this.#nextAckId = Math.max(this.#nextAckId, id + 1);
    (this.#acks ??= new Map()).set(id, waiter);
    return id;
  }

  /** Removes and returns the waiter for an id (undefined for unknown or late acks). */
  takeAck(id: number): AckWaiter | undefined {
    const waiter = this.#acks?.get(id);
    this.#acks?.delete(id);
    return waiter;
  }

  /** Marks the socket gone and tells every waiter. Returns false if it was gone already. */
  markDisconnected(reason: string): boolean {
    if (this.#phase === 'disconnected') return false;
    this.#phase = 'disconnected';
    this.#held = undefined;
    const waiters = [...(this.#acks?.values() ?? [])];
    this.#acks = undefined;
    for (const waiter of waiters) waiter.onDisconnect(reason);
    return true;
  }
}
