/**
 * The in-process test client (Flask-SocketIO's `test_client`): talks to the
 * server through the same packet handling and scheduler, without a network.
 */
import { PacketType } from 'socket.io-parser';
import { UsageError } from '../errors.js';
import { toArgs } from './args.js';
import { SioClient } from './client.js';
import { standInRequest } from '../engine/stand-in.js';
import type { EngineLink } from './client.js';
import type { ClientSide, WirePacket } from './codec.js';
import type { HttpSession } from './http-session.js';
import { setOwn } from './packets.js';
import type { HandshakeRequest } from './socket.js';
import type { Hub } from './hub.js';
import { namespaceName } from './registry.js';

/**
 * Options of `io.testClient()` and `client.connect()`.
 *
 * @group Test client
 */
export interface TestClientOptions {
  namespace?: string;
  auth?: Record<string, unknown>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /**
   * What the handshake request carries for `request().http`, as HTTP middlewares would
   * have left it: `{ session, user }`. The session is what `session()` forks from
   * (`manageSession`) or shares (`manageSession: false`: the object passed plays the
   * session store, so handlers' saved writes show up in it).
   */
  http?: { session?: Record<string, unknown>; user?: unknown };
}

/**
 * A web session for a test client, with the store semantics `manageSession: false`
 * relies on: the object the test passed is the store (`reload` reads it, `save`
 * writes it back), so a test sees what handlers saved.
 */
class TestHttpSession implements HttpSession {
  [key: string]: unknown;
  constructor(private readonly store: Record<string, unknown>) {
    Object.defineProperty(this, 'store', { enumerable: false });
    this.#copy(store, this);
  }

  reload(callback: (error?: unknown) => void): void {
    this.#copy(this.store, this);
    callback();
  }

  save(callback: (error?: unknown) => void): void {
    this.#copy(this, this.store);
    callback();
  }

  #copy(from: object, to: object): void {
    for (const key of Object.keys(to)) delete (to as Record<string, unknown>)[key];
    for (const [key, value] of Object.entries(from))
      setOwn(to as Record<string, unknown>, key, value);
  }
}

/** A handshake request for a client that has no HTTP connection. */
function fakeHandshake(options: TestClientOptions): HandshakeRequest {
  const http = standInRequest('/socket.io/?EIO=4&transport=test', options.headers ?? {});
  const { session, user } = options.http ?? {};
  return Object.assign(http, {
    user,
    session: session === undefined ? undefined : new TestHttpSession(session),
  });
}

/**
 * One event the test client received.
 *
 * @group Test client
 */
export interface ReceivedEvent {
  readonly name: string;
  readonly args: unknown[];
  readonly namespace: string;
}

let nextLinkId = 0;

/**
 * An in-process client.
 *
 * @example
 * ```ts
 * const client = await io.testClient({ auth: { token: 'x' } });
 * const [reply] = (await client.emit('question', 'why?', { callback: true })) ?? [];
 * client.getReceived(); // [{ name: 'welcome', args: [...], namespace: '/' }]
 * ```
 *
 * @group Test client
 */
export class TestClient {
  readonly #hub: Hub;
  /** Speaks the server's parser, as a real client of it would. */
  readonly #wire: ClientSide;
  #client: SioClient | undefined;
  #received: ReceivedEvent[] = [];
  readonly #sids = new Map<string, string>();
  readonly #errors = new Map<string, unknown>();
  readonly #acks = new Map<number, (args: unknown[]) => void>();
  #nextAckId = 0;

  /** @internal Use `io.testClient()`. */
  constructor(hub: Hub) {
    this.#hub = hub;
    this.#wire = hub.codec.client((packet) => this.#onPacket(packet));
  }

  #link(options: TestClientOptions): SioClient {
    if (this.#client !== undefined) return this.#client;
    const link: EngineLink = {
      id: `test-${++nextLinkId}`,
      request: {
        http: fakeHandshake(options),
        headers: options.headers ?? {},
        query: options.query ?? {},
        remoteAddress: '127.0.0.1',
      },
      send: (data) => {
        this.#wire.add(data);
        return true;
      },
      canTakeNow: () => true,
      close: (reason) => {
        this.#sids.clear();
        this.#client?.onClose(reason ?? 'forced close');
        this.#client = undefined;
      },
    };
    this.#client = new SioClient(this.#hub, link);
    return this.#client;
  }

  #onPacket(packet: WirePacket): void {
    const data: unknown = packet.data;
    switch (packet.type) {
      case PacketType.CONNECT:
        this.#sids.set(packet.nsp, (data as { sid: string }).sid);
        this.#errors.delete(packet.nsp);
        return;
      case PacketType.CONNECT_ERROR:
        this.#errors.set(packet.nsp, data);
        return;
      case PacketType.DISCONNECT:
        this.#sids.delete(packet.nsp);
        return;
      case PacketType.EVENT: {
        const [name, ...args] = data as [string, ...unknown[]];
        this.#received.push({ name, args, namespace: packet.nsp });
        return;
      }
      case PacketType.ACK: {
        const resolve = packet.id === undefined ? undefined : this.#acks.get(packet.id);
        if (packet.id !== undefined) this.#acks.delete(packet.id);
        resolve?.(data as unknown[]);
        return;
      }
    }
  }

  async #send(packet: WirePacket): Promise<void> {
    const client = this.#client;
    if (client === undefined)
      throw new UsageError('the test client is disconnected; call connect() first');
    for (const part of this.#wire.encode(packet)) client.onMessage(part);
    await client.settled();
  }

  /** Connects to a namespace; resolves once its connect handler has run. */
  async connect(namespace?: string, options: TestClientOptions = {}): Promise<void> {
    const nsp = namespaceName(namespace ?? options.namespace);
    this.#link(options);
    await this.#send({ type: PacketType.CONNECT, nsp, data: options.auth });
  }

  /** Leaves a namespace; resolves once its disconnect handler has run. */
  async disconnect(namespace?: string): Promise<void> {
    const nsp = namespaceName(namespace);
    if (!this.#sids.has(nsp)) return;
    this.#sids.delete(nsp);
    await this.#send({ type: PacketType.DISCONNECT, nsp });
  }

  /** Whether the server accepted the connection to a namespace (and has not dropped it). */
  isConnected(namespace?: string): boolean {
    return this.#sids.has(namespaceName(namespace));
  }

  /** The Socket.IO sid the server gave this client in a namespace. */
  sid(namespace?: string): string | undefined {
    return this.#sids.get(namespaceName(namespace));
  }

  /** The CONNECT_ERROR payload of a refused connection, if any. */
  connectError(namespace?: string): unknown {
    return this.#errors.get(namespaceName(namespace));
  }

  /**
   * Emits an event; resolves once the server has handled it. With
   * `callback: true`, resolves with the server's ack arguments.
   */
  async emit(
    event: string,
    data?: unknown,
    options: { callback?: boolean; namespace?: string } = {},
  ): Promise<unknown[] | undefined> {
    const nsp = namespaceName(options.namespace);
    if (!this.#sids.has(nsp)) throw new UsageError(`the test client is not connected to ${nsp}`);
    const packet: WirePacket = { type: PacketType.EVENT, nsp, data: [event, ...toArgs(data)] };
    if (options.callback !== true) {
      await this.#send(packet);
      return undefined;
    }
    const id = this.#nextAckId++;
    let acked: unknown[] | undefined;
    this.#acks.set(id, (args) => (acked = args));
    await this.#send({ ...packet, id });
    this.#acks.delete(id);
    if (acked === undefined)
      throw new UsageError(
        `the server sent no acknowledgement for "${event}" (its handler failed or the client left)`,
      );
    return acked;
  }

  /** Sends an unnamed message (`json` event with `{ json: true }`). */
  send(
    data: unknown,
    options: { json?: boolean; callback?: boolean; namespace?: string } = {},
  ): Promise<unknown[] | undefined> {
    return this.emit(options.json === true ? 'json' : 'message', data, options);
  }

  /** Events received in a namespace since the last call (and forgets them). */
  getReceived(namespace?: string): ReceivedEvent[] {
    const nsp = namespaceName(namespace);
    const mine = this.#received.filter((e) => e.namespace === nsp);
    this.#received = this.#received.filter((e) => e.namespace !== nsp);
    return mine;
  }
}
