/**
 * Runs a {@link SocketIO} server on 127.0.0.1, port 0, for one spec, with the
 * official `socket.io-client` 4.x peers (over each client transport) and raw
 * WebSocket peers that speak Socket.IO packets by hand; everything the spec
 * opened is closed when it ends.
 */
import { modeOptions } from './modes.js';
import { io as connect, Manager } from 'socket.io-client';
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client';
import { SocketIO } from '../../lib/index.js';
import type { AsyncMode, Logger, SocketIOOptions } from '../../lib/index.js';
import { Inbox, RawWs, delay, parseOpenPacket } from './raw-engine.js';
import type { OpenPacket } from './raw-engine.js';

/** Options of the official client. */
export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** One way the official client reaches the server. */
export interface ClientTransport {
  readonly name: string;
  readonly options: ClientOptions;
}

/** WebSocket only, polling only, and polling upgraded to WebSocket (the client's default). */
export const CLIENT_TRANSPORTS: readonly ClientTransport[] = [
  { name: 'websocket', options: { transports: ['websocket'] } },
  { name: 'polling', options: { transports: ['polling'] } },
  { name: 'polling with upgrade', options: {} },
];

/** An event name the harness answers on '/' with an ack, to prove delivery order. */
export const SYNC_EVENT = '__sync';

/** How long a spec waits for something that should happen promptly. */
export const PROMPT_MS = 5000;

/** The client's `connect_error` argument. */
export type ConnectError = Error & { data?: unknown };

/** One event a peer received. */
export interface PeerEvent {
  readonly event: string;
  readonly args: unknown[];
}

/** A promise with its settle functions, for values produced inside server handlers. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A new {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Rejects when `promise` does not settle within `ms` milliseconds. */
export function within<T>(promise: Promise<T>, label: string, ms = PROMPT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** The bytes of a binary value (Buffer, ArrayBuffer or typed array); throws for anything else. */
export function bytesOf(value: unknown): number[] {
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value))
    return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  throw new Error(`expected binary data, got ${JSON.stringify(value)}`);
}

/** An official client socket with everything it receives recorded. */
export class SioPeer {
  /** Every event, in arrival order. */
  readonly events = new Inbox<PeerEvent>();
  readonly connectErrors = new Inbox<ConnectError>();
  /** Client-side disconnect reasons (`io server disconnect`, ...). */
  readonly disconnects = new Inbox<string>();
  /** `connect`, `connect_error: <message>` and `disconnect: <reason>`, in order. */
  readonly lifecycle: string[] = [];
  /** Resolves on the first `connect`; rejects with the first `connect_error`. */
  readonly opened: Promise<void>;
  readonly #byName = new Map<string, Inbox<unknown[]>>();

  constructor(readonly socket: Socket) {
    socket.onAny((event: string, ...args: unknown[]) => {
      this.events.push({ event, args });
      this.inbox(event).push(args);
    });
    socket.on('connect', () => this.lifecycle.push('connect'));
    socket.on('connect_error', (error: ConnectError) => {
      this.lifecycle.push(`connect_error: ${error.message}`);
      this.connectErrors.push(error);
    });
    socket.on('disconnect', (reason: string) => {
      this.lifecycle.push(`disconnect: ${reason}`);
      this.disconnects.push(reason);
    });
    this.opened = new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error: ConnectError) => reject(error));
    });
    this.opened.catch(() => undefined);
  }

  /** The `connect_error` of a peer that must be refused; fails if it is let in. */
  async refusal(): Promise<ConnectError> {
    try {
      await within(this.opened, 'the refusal');
    } catch (error) {
      return error as ConnectError;
    }
    throw new Error('the client was let in');
  }

  /** The Socket.IO sid (throws when not connected). */
  get id(): string {
    const id = this.socket.id;
    if (id === undefined) throw new Error('the client is not connected');
    return id;
  }

  /** The arguments of every `event` received so far, read or not. */
  inbox(event: string): Inbox<unknown[]> {
    let inbox = this.#byName.get(event);
    if (inbox === undefined) this.#byName.set(event, (inbox = new Inbox<unknown[]>()));
    return inbox;
  }

  /** The arguments of the next `event` not read yet. */
  next(event: string, ms = PROMPT_MS): Promise<unknown[]> {
    return this.inbox(event).next(`event "${event}"`, ms);
  }

  /** Emits with an ack callback; resolves with the ack arguments. */
  emitAck(event: string, ...args: unknown[]): Promise<unknown[]> {
    return new Promise<unknown[]>((resolve, reject) => {
      this.socket
        .timeout(PROMPT_MS)
        .emit(event, ...args, (error: Error | null, ...response: unknown[]) => {
          if (error !== null) reject(new Error(`no ack for "${event}": ${error.message}`));
          else resolve(response);
        });
    });
  }

  /**
   * A round trip through the harness's sync handler on '/': whatever the server
   * wrote to this client before it read the sync event has arrived when this resolves.
   */
  async sync(): Promise<void> {
    const response = await this.emitAck(SYNC_EVENT);
    if (response[0] !== true) throw new Error(`unexpected sync ack ${JSON.stringify(response)}`);
  }
}

/**
 * Proves delivery across clients: each sender's round trip shows the server has
 * handled the events it sent before (one client's events run in order), then
 * each receiver's round trip shows what those handlers wrote to it has arrived.
 */
export async function syncAfter(
  senders: readonly SioPeer[],
  receivers: readonly SioPeer[],
): Promise<void> {
  for (const sender of senders) await sender.sync();
  await Promise.all(receivers.map((receiver) => receiver.sync()));
}

/** A raw WebSocket speaking Socket.IO packets as Engine.IO messages (`4` + packet). */
export class RawSio {
  private constructor(
    readonly ws: RawWs,
    /** The Engine.IO open packet. */
    readonly handshake: OpenPacket,
  ) {}

  /** Opens the WebSocket and reads the open packet `0{...}`. */
  static async open(url: string): Promise<RawSio> {
    const ws = new RawWs(url);
    await ws.opened;
    const first = await ws.messages.next('the open packet');
    if (typeof first !== 'string') throw new Error('the first frame was binary');
    return new RawSio(ws, parseOpenPacket(first));
  }

  /** Sends one Socket.IO packet (as the Engine.IO message `4<packet>`). */
  send(packet: string): void {
    this.ws.send(`4${packet}`);
  }

  /** Sends a binary attachment frame. */
  sendBinary(data: Buffer): void {
    this.ws.send(data);
  }

  /** The next Socket.IO packet (text, without the `4`) or binary attachment; answers pings. */
  async next(label = 'a packet', ms = PROMPT_MS): Promise<string | Buffer> {
    for (;;) {
      const message = await this.ws.messages.next(label, ms);
      if (Buffer.isBuffer(message)) return message;
      if (message === '2') {
        this.ws.send('3');
        continue;
      }
      if (message.startsWith('4')) return message.slice(1);
      throw new Error(`expected ${label}, got the Engine.IO packet ${JSON.stringify(message)}`);
    }
  }

  /** The next text packet. */
  async nextText(label = 'a packet', ms = PROMPT_MS): Promise<string> {
    const packet = await this.next(label, ms);
    if (typeof packet !== 'string') throw new Error(`expected ${label}, got a binary frame`);
    return packet;
  }

  /** CONNECT to a namespace; resolves with the sid of the answer (throws on anything else). */
  async connect(nsp = '/', auth?: unknown): Promise<string> {
    const prefix = nsp === '/' ? '' : `${nsp},`;
    this.send(`0${prefix}${auth === undefined ? '' : JSON.stringify(auth)}`);
    const answer = await this.nextText(`the CONNECT answer for ${nsp}`);
    if (!answer.startsWith(`0${prefix}`)) throw new Error(`CONNECT answered ${answer}`);
    const body = JSON.parse(answer.slice(1 + prefix.length)) as { sid?: unknown };
    if (typeof body.sid !== 'string') throw new Error(`CONNECT answered ${answer}`);
    return body.sid;
  }

  /** Whether the server has closed the WebSocket, waiting up to `ms` milliseconds. */
  async closedWithin(ms = PROMPT_MS): Promise<boolean> {
    const closed = await Promise.race([
      this.ws.closed.then(() => true),
      delay(ms).then(() => false),
    ]);
    return closed;
  }
}

/** A logger that keeps what the server logs at `error` level (the console stays quiet). */
export function recordingLogger(): Logger & { readonly errors: string[] } {
  const errors: string[] = [];
  const text = (value: unknown): string =>
    value instanceof Error ? (value.stack ?? value.message) : String(value);
  return {
    errors,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (...args: unknown[]) => errors.push(args.map(text).join(' ')),
  };
}

/** One server for one spec, plus the peers the spec opened against it. */
export class SioHarness {
  readonly #peers: SioPeer[] = [];
  readonly #managers: Manager[] = [];
  readonly #raws: RawSio[] = [];
  #stopped = false;

  private constructor(
    readonly io: SocketIO,
    readonly port: number,
    readonly transport: ClientTransport,
    /** What the server logged at `error` level (unless the spec passed its own logger). */
    readonly errorLogs: readonly string[],
  ) {}

  /**
   * Starts a server on 127.0.0.1 with an OS-chosen port, a `__sync` handler
   * on '/' answering `true`, and a recording logger unless `options.logger` is set.
   */
  static async start(
    options: SocketIOOptions & { asyncMode: AsyncMode },
    transport: ClientTransport = CLIENT_TRANSPORTS[0] as ClientTransport,
  ): Promise<SioHarness> {
    const logger = recordingLogger();
    const io = new SocketIO({ logger, ...modeOptions(options.asyncMode), ...options });
    io.on(SYNC_EVENT, () => true);
    const { port } = await io.run(undefined, { host: '127.0.0.1', port: 0 });
    return new SioHarness(io, port, transport, logger.errors);
  }

  /**
   * A harness running a fixture app's handlers: on this server and, in worker-pool mode, in
   * every pool thread (its app module registers the same), so they run where handlers run.
   */
  static async withApp(
    asyncMode: AsyncMode,
    transport: ClientTransport,
    app: { readonly poolApp: URL; readonly register: (io: SocketIO) => void },
    options: SocketIOOptions = {},
  ): Promise<SioHarness> {
    const pool = asyncMode === 'worker-pool' ? { appModule: app.poolApp.href } : {};
    const h = await SioHarness.start({ ...options, asyncMode, ...pool }, transport);
    app.register(h.io);
    return h;
  }

  /** `http://127.0.0.1:<port>` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The raw WebSocket URL of the server. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/socket.io/?EIO=4&transport=websocket`;
  }

  /** The client options for this harness's transport (forceNew, no reconnection). */
  clientOptions(options: ClientOptions = {}): ClientOptions {
    return { forceNew: true, reconnection: false, ...this.transport.options, ...options };
  }

  /** An official client on its own connection, connecting to `nsp`. */
  peer(nsp = '/', options: ClientOptions = {}): SioPeer {
    const peer = new SioPeer(connect(`${this.origin}${nsp}`, this.clientOptions(options)));
    this.#peers.push(peer);
    return peer;
  }

  /** An official client that has connected to `nsp`. */
  async connect(nsp = '/', options: ClientOptions = {}): Promise<SioPeer> {
    const peer = this.peer(nsp, options);
    await within(peer.opened, `the connection to ${nsp}`);
    return peer;
  }

  /** A manager: one Engine.IO connection for several namespaces. */
  manager(options: ClientOptions = {}): Manager {
    const manager = new Manager(this.origin, this.clientOptions(options));
    this.#managers.push(manager);
    return manager;
  }

  /** A socket of `manager` for `nsp` (connecting). */
  managedPeer(manager: Manager, nsp: string, options: Partial<SocketOptions> = {}): SioPeer {
    const peer = new SioPeer(manager.socket(nsp, options));
    this.#peers.push(peer);
    return peer;
  }

  /** A raw WebSocket peer that has read the open packet. */
  async raw(): Promise<RawSio> {
    const raw = await RawSio.open(this.wsUrl);
    this.#raws.push(raw);
    return raw;
  }

  /** `io.stop()` with the peers still connected, so they see the shutdown (once). */
  async shutdown(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.io.stop();
  }

  /** Closes what the spec opened, then stops the server (once). */
  async stop(): Promise<void> {
    for (const peer of this.#peers) peer.socket.disconnect();
    for (const manager of this.#managers) manager._close();
    await Promise.all(this.#raws.map((raw) => raw.ws.close()));
    await this.shutdown();
  }
}
