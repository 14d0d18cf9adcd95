/**
 * Starts an {@link EngineServer} on 127.0.0.1, port 0, for one spec, with the
 * peers the spec opens tracked so they can be closed afterwards; checks that no
 * session outlives its clients.
 */
import { createServer } from 'node:http';
import type { OutgoingHttpHeaders, RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Socket } from 'engine.io-client';
import type { SocketOptions } from 'engine.io-client';
import { EngineConnection, EngineServer } from '../../lib/index.js';
import type { EngineOptions, Phase } from '../../lib/index.js';
import { Inbox, RawPolling, RawWs, waitFor } from './raw-engine.js';
import { WireWs } from './wire-ws.js';
import type { DeflateOffer } from './wire-ws.js';

/** An official `engine.io-client` socket with its events recorded. */
export class EioClient {
  readonly socket: Socket;
  readonly messages = new Inbox<unknown>();
  /** Resolves on `open`; rejects on an error or close before it. */
  readonly opened: Promise<void>;
  /** Resolves with the client's close reason. */
  readonly closed: Promise<string>;
  pings = 0;

  constructor(uri: string, options: Partial<SocketOptions>) {
    this.socket = new Socket(uri, options);
    this.socket.on('message', (data: unknown) => this.messages.push(data));
    this.socket.on('ping', () => this.pings++);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', (error) =>
        reject(error instanceof Error ? error : new Error(error)),
      );
      this.socket.once('close', (reason) => reject(new Error(`closed before open: ${reason}`)));
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => this.socket.once('close', (reason) => resolve(reason)));
  }

  get isClosed(): boolean {
    return this.socket.readyState === 'closed';
  }
}

/** How the HTTP server around the engine is set up. */
export interface StartOptions {
  /** Listener for requests outside the engine's path. */
  readonly fallback?: RequestListener;
  /** An existing HTTP server (with its own listeners) to attach to. */
  readonly server?: Server;
  /** Echo every message back to its sender. Default true. */
  readonly echo?: boolean;
}

/** One engine on a real HTTP server, plus the peers a spec opened against it. */
export class EngineHarness {
  /** Server-side connections, in the order they were made. */
  readonly connections = new Inbox<EngineConnection>();
  readonly #closers: (() => Promise<void>)[] = [];

  private constructor(
    readonly engine: EngineServer,
    readonly http: Server,
    readonly port: number,
  ) {}

  /** Starts an engine on 127.0.0.1 with an OS-chosen port. */
  static async start(
    options: EngineOptions = {},
    start: StartOptions = {},
  ): Promise<EngineHarness> {
    const engine = new EngineServer(options);
    const http = engine.attach(start.server ?? createServer(), start.fallback);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const harness = new EngineHarness(engine, http, (http.address() as AddressInfo).port);
    engine.on('connection', (conn) => {
      harness.connections.push(conn);
      if (start.echo ?? true) conn.on('message', (data) => conn.send(data));
    });
    return harness;
  }

  /** `http://127.0.0.1:<port>` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:<port>/<path>/` */
  get base(): string {
    return `${this.origin}/${this.engine.options.path}/`;
  }

  /** A WebSocket URL for the engine with the given query (EIO=4 and transport=websocket first). */
  wsUrl(query = ''): string {
    return `ws://127.0.0.1:${this.port}/${this.engine.options.path}/?EIO=4&transport=websocket${query}`;
  }

  /** An official client, closed when the spec ends. */
  client(options: Partial<SocketOptions> = {}): EioClient {
    const client = new EioClient(this.origin, {
      path: `/${this.engine.options.path}/`,
      ...options,
    });
    this.#closers.push(async () => {
      if (client.isClosed) return;
      client.socket.close();
      await client.closed;
    });
    return client;
  }

  /** An official client that has completed its handshake. */
  async openClient(options: Partial<SocketOptions> = {}): Promise<EioClient> {
    const client = this.client(options);
    await client.opened;
    return client;
  }

  /** A hand-driven polling session, closed (POST `1`, drained) when the spec ends. */
  async rawPolling(headers: OutgoingHttpHeaders = {}): Promise<RawPolling> {
    const polling = await RawPolling.open(this.base, headers);
    this.#closers.push(async () => {
      const conn = this.engine.connection(polling.sid);
      if (conn === undefined) return;
      if (conn.phase !== 'closed') await polling.post('1').catch(() => undefined);
      // A session closed by the server holds its close packet for one more GET.
      if (this.engine.connection(polling.sid) !== undefined)
        await polling.get().catch(() => undefined);
    });
    return polling;
  }

  /** A hand-driven WebSocket to `url`, closed when the spec ends. */
  rawWs(url: string, headers: Record<string, string> = {}): RawWs {
    const ws = new RawWs(url, headers);
    this.#closers.push(() => ws.close());
    return ws;
  }

  /** A WebSocket read frame by frame, offering `offer` (see WireWs), closed when the spec ends. */
  async wireWs(offer?: DeflateOffer): Promise<WireWs> {
    const ws = await WireWs.open(this.wsUrl(), offer);
    this.#closers.push(() => Promise.resolve(ws.close()));
    return ws;
  }

  /** Whether every session is gone within `ms` milliseconds. */
  drained(ms = 1000): Promise<boolean> {
    return waitFor(() => this.engine.clientsCount === 0, ms);
  }

  /** Closes every peer the spec opened, in reverse order. */
  async closePeers(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) await close();
  }

  /** Proves the engine still serves: an echo round trip over polling and over WebSocket. */
  async expectHealthy(): Promise<void> {
    const clients = [
      await this.openClient({ transports: ['polling'] }),
      await this.openClient({ transports: ['websocket'] }),
    ];
    for (const [i, client] of clients.entries()) {
      client.socket.send(`still serving ${i}`);
      expect(await client.messages.next('an echo')).to.equal(`still serving ${i}`);
      client.socket.close();
      await client.closed;
    }
  }

  /** Closes the peers, then the engine and the HTTP server. */
  async stop(): Promise<void> {
    await this.closePeers().catch(() => undefined);
    this.engine.close();
    await this.drained(500);
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/**
 * Wraps a spec body: starts an engine, runs the body, closes the body's peers,
 * asserts that no session remains, and always stops the engine.
 *
 * @example
 * ```ts
 * it('echoes', withEngine({ pingInterval: 0.2 }, async (h) => { ... }));
 * ```
 */
export function withEngine(
  options: EngineOptions,
  body: (harness: EngineHarness) => Promise<void>,
  start: StartOptions = {},
): () => Promise<void> {
  return async () => {
    const harness = await EngineHarness.start(options, start);
    try {
      await body(harness);
      await harness.closePeers();
      const drained = await harness.drained();
      expect(drained, `sessions left after the spec: ${harness.engine.clientsCount}`).to.be.true;
    } finally {
      await harness.stop();
    }
  };
}

/**
 * Records every phase each connection enters, by session id, while `body` runs.
 * It observes `EngineConnection#enterPhase`, the single place the lifecycle
 * machine reports a phase change, and calls through unchanged.
 */
export async function tracePhases<T>(
  body: (phases: (sid: string) => Phase[]) => Promise<T>,
): Promise<T> {
  const trace = new Map<string, Phase[]>();
  const prototype = EngineConnection.prototype;
  const original = Object.getOwnPropertyDescriptor(prototype, 'enterPhase');
  if (original === undefined || typeof original.value !== 'function')
    throw new Error('EngineConnection.prototype.enterPhase is not a method');
  const enterPhase = original.value as (this: EngineConnection, phase: Phase) => void;
  Object.defineProperty(prototype, 'enterPhase', {
    ...original,
    value: function (this: EngineConnection, phase: Phase): void {
      const phases = trace.get(this.id) ?? [];
      phases.push(phase);
      trace.set(this.id, phases);
      enterPhase.call(this, phase);
    },
  });
  try {
    return await body((sid) => trace.get(sid) ?? []);
  } finally {
    Object.defineProperty(prototype, 'enterPhase', original);
  }
}

/** Resolves when `conn` closes, with its reason. */
export function closeOf(conn: EngineConnection): Promise<string> {
  if (conn.phase === 'closed') return Promise.resolve(conn.closeReason ?? '');
  return new Promise((resolve) => conn.once('close', resolve));
}
