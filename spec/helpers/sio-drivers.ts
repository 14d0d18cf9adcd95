/**
 * Clients for the Socket.IO model-based property, behind one interface: the
 * in-process test client (fast) and the official socket.io-client over a real
 * connection (WebSocket or polling, one Manager for all its namespaces). Each
 * records the broadcast ids (`msg` events) it received per namespace, and the
 * real one counts every ACK packet it got, to prove acks arrive exactly once.
 */
import { Manager } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { args as argList } from '../../lib/index.js';
import type { SocketIO, TestClient } from '../../lib/index.js';
import { waitFor } from './raw-engine.js';

const PROMPT_MS = 3000;

/** A server call (`question`) a client answers when `answer` is true. */
export interface Question {
  readonly n: number;
  readonly answer: boolean;
}

/** How a connect attempt ended. */
export type ConnectOutcome = { ok: true } | { ok: false; message: string };

/** What the property does with a client. */
export interface SioDriver {
  readonly label: string;
  /** Whether the client can acknowledge server calls. */
  readonly answersCalls: boolean;
  connect(nsp: string, auth?: Record<string, unknown>): Promise<ConnectOutcome>;
  /** Leaves a namespace; resolves once the server has processed it. */
  disconnect(nsp: string): Promise<void>;
  /** Emits with an ack; resolves with the ack arguments. */
  emitAck(nsp: string, event: string, ...args: unknown[]): Promise<unknown[]>;
  /** Sends `kick`; resolves once the server's DISCONNECT arrived. */
  kicked(nsp: string): Promise<void>;
  /** Closes the whole connection; resolves once the server has processed it. */
  drop(): Promise<void>;
  /** Resolves once everything the server wrote to this client before has arrived. */
  sync(): Promise<void>;
  /** The Socket.IO sid in a namespace, while connected. */
  sid(nsp: string): string | undefined;
  /** Broadcast ids received in a namespace, in arrival order. */
  received(nsp: string): readonly number[];
  /** ACK packets received per `nsp#id` (real clients only). */
  readonly ackPackets: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** The in-process test client. */
export class TestDriver implements SioDriver {
  readonly answersCalls = false;
  readonly ackPackets = new Map<string, number>();
  #client: TestClient | undefined;
  readonly #received = new Map<string, number[]>();

  constructor(
    readonly label: string,
    private readonly io: SocketIO,
  ) {}

  #collect(): void {
    const client = this.#client;
    if (client === undefined) return;
    for (const [nsp, ids] of this.#received) {
      for (const event of client.getReceived(nsp))
        if (event.name === 'msg') ids.push(event.args[0] as number);
    }
  }

  #ids(nsp: string): number[] {
    let ids = this.#received.get(nsp);
    if (ids === undefined) this.#received.set(nsp, (ids = []));
    return ids;
  }

  async connect(nsp: string, auth?: Record<string, unknown>): Promise<ConnectOutcome> {
    this.#ids(nsp);
    if (this.#client === undefined)
      this.#client = await this.io.testClient({ namespace: nsp, auth });
    else await this.#client.connect(nsp, { auth });
    if (this.#client.isConnected(nsp)) return { ok: true };
    const error = this.#client.connectError(nsp) as { message?: unknown } | undefined;
    return { ok: false, message: String(error?.message) };
  }

  async disconnect(nsp: string): Promise<void> {
    this.#collect();
    await this.#client?.disconnect(nsp);
  }

  async emitAck(nsp: string, event: string, ...args: unknown[]): Promise<unknown[]> {
    const client = this.#client;
    if (client === undefined) throw new Error(`${this.label} never connected`);
    const data = args.length === 1 ? args[0] : argList(...args);
    const acked = await client.emit(event, data, { callback: true, namespace: nsp });
    this.#collect();
    return acked ?? [];
  }

  async kicked(nsp: string): Promise<void> {
    await this.#client?.emit('kick', undefined, { namespace: nsp });
    this.#collect();
  }

  drop(): Promise<void> {
    throw new Error('a test client has no connection to drop');
  }

  sync(): Promise<void> {
    this.#collect();
    return Promise.resolve();
  }

  sid(nsp: string): string | undefined {
    return this.#client?.sid(nsp);
  }

  received(nsp: string): readonly number[] {
    this.#collect();
    return this.#ids(nsp);
  }

  async close(): Promise<void> {
    const client = this.#client;
    if (client === undefined) return;
    this.#collect();
    for (const nsp of this.#received.keys())
      if (client.isConnected(nsp)) await client.disconnect(nsp);
  }
}

/** The official client over a real connection. */
export class RealDriver implements SioDriver {
  readonly answersCalls = true;
  readonly ackPackets = new Map<string, number>();
  readonly manager: Manager;
  readonly #sockets = new Map<string, Socket>();
  readonly #received = new Map<string, number[]>();

  constructor(
    readonly label: string,
    private readonly io: SocketIO,
    origin: string,
    transport: 'websocket' | 'polling',
  ) {
    this.manager = new Manager(origin, {
      transports: [transport],
      reconnection: false,
      autoConnect: false,
      forceNew: true,
    });
    this.manager.on('packet', (packet: { type: number; nsp: string; id?: number }) => {
      if (packet.type !== 3) return;
      const key = `${packet.nsp}#${String(packet.id)}`;
      this.ackPackets.set(key, (this.ackPackets.get(key) ?? 0) + 1);
    });
  }

  #socket(nsp: string): Socket {
    let socket = this.#sockets.get(nsp);
    if (socket === undefined) {
      socket = this.manager.socket(nsp);
      const ids: number[] = [];
      this.#received.set(nsp, ids);
      socket.on('msg', (id: number) => ids.push(id));
      socket.on('question', (q: Question, answer: (value: number) => void) => {
        if (q.answer) answer(q.n + 1);
      });
      this.#sockets.set(nsp, socket);
    }
    return socket;
  }

  #connected(): Socket[] {
    return [...this.#sockets.values()].filter((s) => s.connected);
  }

  /** The server-side engine connection is gone (or closed). */
  async #engineGone(id: string | undefined): Promise<void> {
    if (id === undefined) return;
    const gone = await waitFor(() => {
      const conn = this.io.engine.connection(id);
      return conn === undefined || conn.phase === 'closed';
    }, PROMPT_MS);
    if (!gone) throw new Error(`${this.label}: the server kept its connection`);
  }

  connect(nsp: string, auth?: Record<string, unknown>): Promise<ConnectOutcome> {
    const socket = this.#socket(nsp);
    socket.auth = auth ?? {};
    return new Promise<ConnectOutcome>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.label}: no answer to CONNECT ${nsp}`)),
        PROMPT_MS,
      );
      const done = (outcome: ConnectOutcome): void => {
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('connect_error', onError);
        resolve(outcome);
      };
      const onConnect = (): void => done({ ok: true });
      const onError = (error: Error): void => done({ ok: false, message: error.message });
      socket.once('connect', onConnect);
      socket.once('connect_error', onError);
      socket.connect();
    });
  }

  async disconnect(nsp: string): Promise<void> {
    const socket = this.#socket(nsp);
    const engineId = this.manager.engine?.id;
    socket.disconnect();
    // With another namespace still connected the DISCONNECT is ordered before a round trip
    // there; without one the Manager closes the connection.
    const other = this.#connected()[0];
    if (other !== undefined) await other.timeout(PROMPT_MS).emitWithAck('__sync');
    else await this.#engineGone(engineId);
  }

  async emitAck(nsp: string, event: string, ...args: unknown[]): Promise<unknown[]> {
    const socket = this.#socket(nsp);
    const response: unknown = await socket.timeout(PROMPT_MS).emitWithAck(event, ...args);
    return [response];
  }

  async kicked(nsp: string): Promise<void> {
    const socket = this.#socket(nsp);
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    socket.emit('kick');
    const reason = await Promise.race([
      disconnected,
      new Promise<string>((resolve) => setTimeout(() => resolve('nothing'), PROMPT_MS)),
    ]);
    if (reason !== 'io server disconnect') throw new Error(`${this.label}: kicked, got ${reason}`);
  }

  async drop(): Promise<void> {
    const engineId = this.manager.engine?.id;
    this.manager.engine?.close();
    await this.#engineGone(engineId);
    await waitFor(() => this.#connected().length === 0, PROMPT_MS);
    // Sockets stay subscribed to their Manager and would reconnect with it: make them idle,
    // so that a later connect() reconnects only its own namespace.
    for (const socket of this.#sockets.values()) socket.disconnect();
  }

  async sync(): Promise<void> {
    const socket = this.#connected()[0];
    if (socket !== undefined) await socket.timeout(PROMPT_MS).emitWithAck('__sync');
  }

  sid(nsp: string): string | undefined {
    const socket = this.#sockets.get(nsp);
    return socket?.connected === true ? socket.id : undefined;
  }

  received(nsp: string): readonly number[] {
    return this.#received.get(nsp) ?? [];
  }

  async close(): Promise<void> {
    const engineId = this.manager.engine?.id;
    for (const socket of this.#sockets.values()) socket.disconnect();
    this.manager._close();
    await this.#engineGone(engineId);
  }
}
