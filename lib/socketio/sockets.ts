/**
 * Sockets as objects (`io.fetchSockets()`): what a client looks like from outside its
 * handlers (id, rooms, session, handshake) and what can be done to it (emit, join,
 * leave, disconnect, wait for its ack).
 */
import type { CallRequest, EmitRequest } from '../emit-requests.js';
import type {
  AckValue,
  DeclaredServerToClient,
  EventArgs,
  EventNames,
  EventNamesWithAck,
  EventsMap,
  Session,
} from './event-maps.js';

/**
 * What a fetched socket asks of the server: the Hub on the main thread, effects in a
 * worker-pool thread (the context functions' operations include these).
 */
export interface SocketOps {
  emit(request: EmitRequest): unknown;
  call(request: CallRequest): Promise<unknown[]>;
  enterRoom(sid: string, room: string, nsp: string): void;
  leaveRoom(sid: string, room: string, nsp: string): void;
  disconnect(sid: string, nsp: string, close?: boolean): void;
}

/**
 * The handshake of a fetched socket, as socket.io describes it.
 *
 * @group Application API
 */
export interface SocketHandshake {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly query: Readonly<Record<string, string>>;
  /** The CONNECT packet's payload (the client's `auth` option). */
  readonly auth: Record<string, unknown> | undefined;
  /** The client's address. */
  readonly address: string;
  /** When it joined the namespace, as a date string. */
  readonly time: string;
  /** When it joined the namespace, in ms since the epoch. */
  readonly issued: number;
  /** The handshake's path and query. */
  readonly url: string;
}

/**
 * One client in one namespace as plain data (it crosses thread boundaries as it is).
 *
 * @group Application API
 */
export interface SocketSnapshot<SessionData extends object = Record<string, unknown>> {
  readonly id: string;
  readonly namespace: string;
  readonly rooms: string[];
  /** The session: the live object on the main thread, a copy in a worker-pool thread. */
  readonly data: SessionData;
  /** Whether it took back its session after losing its connection (connection state recovery). */
  readonly recovered: boolean;
  readonly handshake: SocketHandshake;
}

/** Which clients an operation on sockets reaches. */
export interface SocketsTarget {
  readonly nsp: string;
  readonly to: readonly string[] | undefined;
  readonly except: readonly string[] | undefined;
  /** This process's clients only (`io.local`); otherwise every process's, with a message queue. */
  readonly local?: boolean;
}

/**
 * A client as `io.fetchSockets()` returns it. Its `rooms` and `data` are as they were when
 * fetched; its methods act on the client as it is now (a client that left is skipped). Typed by
 * its server's `ServerToClient` events (`emit`, `emitWithAck`) and `SessionData` (`data`).
 *
 * @example
 * ```ts
 * for (const socket of await io.fetchSockets({ room: 'lobby' })) {
 *   if (socket.data.idle === true) socket.disconnect();
 *   else socket.join('active');
 * }
 * ```
 *
 * @group Application API
 */
export class FetchedSocket<
  ServerToClient extends EventsMap<ServerToClient> = DeclaredServerToClient,
  SessionData extends object = Session,
> implements SocketSnapshot<SessionData> {
  readonly id: string;
  readonly namespace: string;
  readonly rooms: string[];
  readonly data: SessionData;
  readonly recovered: boolean;
  readonly handshake: SocketHandshake;

  constructor(
    private readonly ops: () => SocketOps,
    snapshot: SocketSnapshot<object>,
    private readonly timeoutSeconds = 60,
  ) {
    this.id = snapshot.id;
    this.namespace = snapshot.namespace;
    this.rooms = snapshot.rooms;
    // The session as the app keeps it; SessionData is the app's word for its shape.
    this.data = snapshot.data as SessionData;
    this.recovered = snapshot.recovered;
    this.handshake = snapshot.handshake;
  }

  /**
   * Emits an event with its arguments to this client.
   *
   * @example
   * ```ts
   * const [socket] = await io.in(sid).fetchSockets();
   * socket?.emit('welcome', socket.data.user);
   * ```
   */
  emit<E extends EventNames<ServerToClient>>(
    event: E,
    ...args: EventArgs<ServerToClient, E>
  ): true {
    this.ops().emit({ nsp: this.namespace, event, args, to: [this.id] });
    return true;
  }

  /**
   * Adds the client to rooms.
   *
   * @example
   * ```ts
   * for (const socket of await io.fetchSockets()) if (socket.data.admin) socket.join('admins');
   * ```
   */
  join(room: string | readonly string[]): void {
    for (const r of typeof room === 'string' ? [room] : room)
      this.ops().enterRoom(this.id, r, this.namespace);
  }

  /**
   * Removes the client from rooms.
   *
   * @example
   * ```ts
   * socket.leave(['game-7', 'spectators']);
   * ```
   */
  leave(room: string | readonly string[]): void {
    for (const r of typeof room === 'string' ? [room] : room)
      this.ops().leaveRoom(this.id, r, this.namespace);
  }

  /**
   * Disconnects the client from this namespace; with `close`, closes its whole connection.
   *
   * @example
   * ```ts
   * if (socket.handshake.address === banned) socket.disconnect(true);
   * ```
   */
  disconnect(close = false): void {
    this.ops().disconnect(this.id, this.namespace, close);
  }

  /**
   * A view of this client whose {@link emitWithAck} waits `seconds` (60 by default).
   *
   * @example
   * ```ts
   * const answer = await socket.timeout(5).emitWithAck('ready?');
   * ```
   */
  timeout(seconds: number): FetchedSocket<ServerToClient, SessionData> {
    return new FetchedSocket<ServerToClient, SessionData>(this.ops, this, seconds);
  }

  /**
   * Emits and resolves with the client's ack value (its first ack argument).
   *
   * @example
   * ```ts
   * const answer = await socket.emitWithAck('ready?'); // within 60 s
   * ```
   */
  async emitWithAck<E extends EventNamesWithAck<ServerToClient>>(
    event: E,
    ...args: EventArgs<ServerToClient, E>
  ): Promise<AckValue<ServerToClient, E>> {
    // A client of another process answers through the message queue.
    const answer = await this.ops().call({
      nsp: this.namespace,
      event,
      args,
      sid: this.id,
      timeoutSeconds: this.timeoutSeconds,
    });
    // What the client acked, which the event map is the app's word for.
    return answer[0] as AckValue<ServerToClient, E>;
  }
}
