/**
 * Sockets as objects (`io.fetchSockets()`): what a client looks like from outside its
 * handlers (id, rooms, session, handshake) and what can be done to it (emit, join,
 * leave, disconnect, wait for its ack).
 */
import { DisconnectedError } from '../errors.js';
import type { HubOps } from './context.js';

/** The handshake of a fetched socket, as socket.io describes it. */
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

/** One client in one namespace as plain data (it crosses thread boundaries as it is). */
export interface SocketSnapshot {
  readonly id: string;
  readonly namespace: string;
  readonly rooms: string[];
  /** The session: the live object on the main thread, a copy in a worker-pool thread. */
  readonly data: Record<string, unknown>;
  /** Whether it took back its session after losing its connection (connection state recovery). */
  readonly recovered: boolean;
  readonly handshake: SocketHandshake;
}

/** Which clients an operation on sockets reaches. */
export interface SocketsTarget {
  readonly nsp: string;
  readonly to: readonly string[] | undefined;
  readonly except: readonly string[] | undefined;
}

/**
 * A client as `io.fetchSockets()` returns it. Its `rooms` and `data` are as they were when
 * fetched; its methods act on the client as it is now (a client that left is skipped).
 *
 * @example
 * ```ts
 * for (const socket of await io.fetchSockets({ room: 'lobby' })) {
 *   if (socket.data.idle === true) socket.disconnect();
 *   else socket.join('active');
 * }
 * ```
 */
export class FetchedSocket implements SocketSnapshot {
  readonly id: string;
  readonly namespace: string;
  readonly rooms: string[];
  readonly data: Record<string, unknown>;
  readonly recovered: boolean;
  readonly handshake: SocketHandshake;

  constructor(
    private readonly ops: () => HubOps,
    snapshot: SocketSnapshot,
    private readonly timeoutSeconds = 60,
  ) {
    this.id = snapshot.id;
    this.namespace = snapshot.namespace;
    this.rooms = snapshot.rooms;
    this.data = snapshot.data;
    this.recovered = snapshot.recovered;
    this.handshake = snapshot.handshake;
  }

  /** Emits an event with its arguments to this client. */
  emit(event: string, ...args: unknown[]): true {
    this.ops().emit({ nsp: this.namespace, event, args, to: [this.id] });
    return true;
  }

  /** Adds the client to rooms. */
  join(room: string | readonly string[]): void {
    for (const r of typeof room === 'string' ? [room] : room)
      this.ops().enterRoom(this.id, r, this.namespace);
  }

  /** Removes the client from rooms. */
  leave(room: string | readonly string[]): void {
    for (const r of typeof room === 'string' ? [room] : room)
      this.ops().leaveRoom(this.id, r, this.namespace);
  }

  /** Disconnects the client from this namespace; with `close`, closes its whole connection. */
  disconnect(close = false): void {
    this.ops().disconnect(this.id, this.namespace, close);
  }

  /** A view of this client whose {@link emitWithAck} waits `seconds` (60 by default). */
  timeout(seconds: number): FetchedSocket {
    return new FetchedSocket(this.ops, this, seconds);
  }

  /** Emits and resolves with the client's ack value (its first ack argument). */
  async emitWithAck(event: string, ...args: unknown[]): Promise<unknown> {
    const answers = await this.ops().emitWithAck({
      nsp: this.namespace,
      event,
      args,
      to: [this.id],
      timeoutSeconds: this.timeoutSeconds,
      ignoreQueue: true,
    });
    if (answers.length === 0) throw new DisconnectedError('the client is gone');
    return answers[0];
  }
}
