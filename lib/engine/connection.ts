/**
 * One Engine.IO connection: the lifecycle actor (lifecycle.ts runs connection-machine.ts)
 * plus its outbox and transports. Lifecycle events go through the actor; data
 * packets take a direct path guarded by the cached phase.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Clock, TimerHandle } from '../../schedulers/scheduler.js';
import { TIMER_EVENTS } from './connection-machine.js';
import type {
  CloseReason,
  ConnectionEvent,
  ConnectionHost,
  ConnectionTimer,
  Phase,
} from './connection-machine.js';
import { Lifecycle } from './lifecycle.js';
import type { Packet } from './packets.js';
import type { ResolvedEngineOptions, TransportName } from './options.js';
import type { Transport, TransportSink } from './transport.js';

type TransportCloseReason = Parameters<TransportSink['onTransportClose']>[0];

/**
 * What is known about the request that opened a connection.
 *
 * @group Engine
 */
export interface ConnectionRequest {
  /**
   * The handshake's HTTP request as the `use()` middlewares left it (express-session's
   * `session`, passport's `user`); kept only when middlewares ran on it.
   */
  readonly http: IncomingMessage | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly query: Readonly<Record<string, string>>;
  readonly remoteAddress: string;
  readonly url: string;
}

/**
 * Options of {@link EngineConnection.send} (engine.io's `socket.send(data, options)`).
 *
 * @example
 * ```ts
 * conn.send(bigJson, { compress: false }); // never deflated or gzipped
 * ```
 *
 * @group Engine
 */
export interface EngineSendOptions {
  /**
   * False: the message is never compressed. Default true: compressed when the server's
   * `perMessageDeflate` (WebSocket) or `httpCompression` (polling) and their thresholds say so.
   */
  readonly compress?: boolean;
}

/**
 * Events of an {@link EngineConnection}.
 *
 * @group Engine
 */
export interface EngineConnectionEvents {
  /** A message packet's payload: a string, or a Buffer for binary. */
  message: [data: string | Buffer];
  /** The connection moved to another transport (polling to websocket). */
  upgrade: [transport: TransportName];
  /** The connection closed; no event follows. */
  close: [reason: CloseReason];
}

/** Callbacks from a connection to the server that owns it. */
export interface ConnectionOwner {
  /** The connection closed (called before its `close` event). */
  closed(connection: EngineConnection, reason: CloseReason): void;
  /** The connection no longer needs its session id (closed and drained). */
  release(connection: EngineConnection): void;
  /** An error thrown by an application listener. */
  listenerError(error: unknown, connection: EngineConnection): void;
}

function packetBytes(packet: Packet): number {
  return 1 + (packet.data === undefined ? 0 : packet.data.length);
}

/**
 * A client connection. Listen for `message` and `close`; call `send` and `close`.
 *
 * @example
 * ```ts
 * engine.on('connection', (conn) => {
 *   conn.on('message', (data) => conn.send(data)); // echo
 *   conn.on('close', (reason) => console.log(conn.id, reason));
 * });
 * ```
 *
 * @group Engine
 */
export class EngineConnection
  extends EventEmitter<EngineConnectionEvents>
  implements ConnectionHost, TransportSink
{
  #phase: Phase = 'handshake';
  #reason: CloseReason | null = null;
  #closeDetail: string | undefined;
  #transport: Transport;
  #probe: Transport | null = null;
  #outbox: Packet[] = [];
  #outboxBytes = 0;
  #flushQueued = false;
  #lingerTimer: TimerHandle | null = null;
  /** The machine's timers (see connection-machine.ts), by name. */
  #pingTimer: TimerHandle | null = null;
  #pongTimer: TimerHandle | null = null;
  #upgradeTimer: TimerHandle | null = null;
  readonly #lifecycle: Lifecycle = new Lifecycle(this);

  constructor(
    /** The Engine.IO session id. */
    readonly id: string,
    transport: Transport,
    /** The request that opened the connection. */
    readonly request: ConnectionRequest,
    private readonly options: ResolvedEngineOptions,
    private readonly clock: Clock,
    private readonly owner: ConnectionOwner,
  ) {
    super();
    this.#transport = transport;
    // The connection is its transport's sink: an object of three closures would cost
    // about 250 bytes per connection.
    transport.sink = this;
  }

  /** The lifecycle phase: handshake, connected, upgrading or closed. */
  get phase(): Phase {
    return this.#phase;
  }

  /** What exactly went wrong, for a close caused by bad input (e.g. which limit was passed). */
  get closeDetail(): string | undefined {
    return this.#closeDetail;
  }

  /** Why the connection closed, once it has. */
  get closeReason(): CloseReason | null {
    return this.#reason;
  }

  /** The transport in use: `polling` or `websocket`. */
  get transportName(): TransportName {
    return this.#transport.name;
  }

  /** The current transport (the server routes polling requests to it). */
  get transport(): Transport {
    return this.#transport;
  }

  /** Bytes queued for the client and not yet written. */
  get outboxBytes(): number {
    return this.#outboxBytes;
  }

  /** Starts the actor and sends the open packet. Called once by the server. */
  open(): void {
    this.#lifecycle.start();
    const upgrades =
      this.#transport.name === 'polling' &&
      this.options.allowUpgrades &&
      this.options.transports.includes('websocket');
    this.#enqueue({
      type: 'open',
      data: JSON.stringify({
        sid: this.id,
        upgrades: upgrades ? ['websocket'] : [],
        pingInterval: this.options.pingIntervalMs,
        pingTimeout: this.options.pingTimeoutMs,
        maxPayload: this.options.maxHttpBufferSize,
      }),
    });
    this.#flush();
    this.#lifecycle.send({ type: 'OPENED' });
  }

  /**
   * Queues a message for the client. Returns false (and sends nothing) once the
   * connection is closed. `{ compress: false }` keeps it from being compressed.
   */
  send(data: string | Buffer, options?: EngineSendOptions): boolean {
    if (this.#phase === 'closed') return false;
    this.#enqueue(
      options?.compress === false
        ? { type: 'message', data, compress: false }
        : { type: 'message', data },
    );
    return true;
  }

  /**
   * Whether a message sent now would leave without waiting (what a `volatile` emit asks):
   * connected, not upgrading, and the transport free: a polling client has a GET waiting; a
   * WebSocket has nothing queued that the OS has not taken (this tick's earlier frames count,
   * as in socket.io, where the transport is not writable until its last send completed).
   */
  canTakeNow(): boolean {
    if (this.#phase !== 'connected' || !this.#transport.writable) return false;
    return this.#transport.name !== 'websocket' || this.#transport.bufferedBytes() === 0;
  }

  /**
   * Closes the connection from the server side: `forced close` (default) and
   * `server shutdown` deliver what is queued and a close packet; `parse error`
   * (a protocol violation found by a higher layer) drops the queue.
   */
  close(reason: 'forced close' | 'server shutdown' | 'parse error' = 'forced close'): void {
    this.#closeWith(reason);
  }

  /**
   * Offers a second transport for an upgrade. Returns false, closing it, when
   * no upgrade is possible now.
   */
  attachProbe(probe: Transport): boolean {
    if (
      this.#phase !== 'connected' ||
      this.#probe !== null ||
      this.#transport.name === probe.name ||
      !this.options.allowUpgrades
    ) {
      probe.close();
      return false;
    }
    this.#probe = probe;
    // Made per probe: most connections never upgrade, and each sink costs about 200 bytes.
    probe.sink = {
      onPacket: (packet) => this.#onProbePacket(packet),
      onTransportClose: () => this.#dropProbe(),
      onWritable: () => undefined,
    };
    return true;
  }

  #closeWith(reason: CloseReason): void {
    this.#signal({ type: 'CLOSE', reason });
  }

  /** Sends a lifecycle event to the actor; a closed actor takes none. */
  #signal(event: ConnectionEvent): void {
    if (this.#phase !== 'closed') this.#lifecycle.send(event);
  }

  #enqueue(packet: Packet): void {
    // The direct path: a connected WebSocket with nothing queued writes at once. The mark is
    // checked after the write, on the bytes as framed.
    if (
      this.#phase === 'connected' &&
      this.#outbox.length === 0 &&
      this.#transport.name === 'websocket' &&
      this.#transport.writable
    ) {
      this.#transport.writeOne(packet);
      if (this.#overflowing()) this.#closeWith('outbox overflow');
      return;
    }
    this.#outbox.push(packet);
    this.#outboxBytes += packetBytes(packet);
    if (this.#overflowing()) {
      this.#closeWith('outbox overflow');
      return;
    }
    if (this.#transport.name === 'websocket') this.#flush();
    else if (!this.#flushQueued) {
      // One polling response carries everything queued in this tick.
      this.#flushQueued = true;
      queueMicrotask(() => {
        this.#flushQueued = false;
        this.#flush();
      });
    }
  }

  /**
   * Whether what is queued for the client passes outboxHighWaterMark: the outbox, and what
   * the transport holds (corked in this tick, in `ws`, in the socket). Checked on every
   * message, so a burst within one tick is caught like one spread over many. Before it
   * says yes, this tick's corked frames go to the OS: a client that reads takes them, and
   * only what it leaves counts (the check stays a few loads until the mark is reached).
   */
  #overflowing(): boolean {
    const room = this.options.outboxHighWaterMark - this.#outboxBytes;
    return this.#transport.bufferedBytes() > room && this.#transport.flushNow() > room;
  }

  #flush(): void {
    if (this.#phase === 'closed') return;
    // During an upgrade, data waits for the new transport; every GET is released with a noop.
    if (this.#phase === 'upgrading') return this.#transport.releaseWithNoop();
    if (this.#outbox.length === 0 || !this.#transport.writable) return;
    const packets = this.#outbox;
    this.#outbox = [];
    this.#outboxBytes = 0;
    this.#transport.write(packets);
  }

  #onPacket(packet: Packet): void {
    // A POST that lands while the session lingers after its close delivers nothing.
    if (this.#phase === 'closed') return;
    switch (packet.type) {
      case 'message':
        this.#emitSafely('message', packet.data ?? '');
        return;
      case 'pong':
        this.#signal({ type: 'PONG' });
        return;
      case 'close':
        this.#closeWith('transport close');
        return;
      case 'noop':
      case 'ping':
        return;
      default:
        this.#closeWith('parse error');
    }
  }

  #onProbePacket(packet: Packet): void {
    const probe = this.#probe;
    if (probe === null) return;
    if (packet.type === 'ping' && packet.data === 'probe' && this.#phase === 'connected') {
      probe.write([{ type: 'pong', data: 'probe' }]);
      this.#signal({ type: 'PROBE' });
    } else if (packet.type === 'upgrade' && this.#phase === 'upgrading') {
      this.#signal({ type: 'UPGRADE' });
    } else {
      this.#dropProbe();
    }
  }

  /** A probe that died or misbehaved: abort the upgrade, or just forget it before one began. */
  #dropProbe(): void {
    if (this.#phase === 'upgrading') return this.#signal({ type: 'UPGRADE_FAILED' });
    const probe = this.#probe;
    this.#probe = null;
    probe?.close();
  }

  #emitSafely<K extends keyof EngineConnectionEvents>(
    event: K,
    ...args: EngineConnectionEvents[K]
  ): void {
    try {
      (this.emit as (e: K, ...a: EngineConnectionEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.owner.listenerError(error, this);
    }
  }

  // TransportSink: called by the transport in use.

  /** @internal */
  onPacket(packet: Packet): void {
    this.#onPacket(packet);
  }

  /** @internal */
  onTransportClose(reason: TransportCloseReason, detail?: string): void {
    this.#closeDetail = detail;
    this.#closeWith(reason);
  }

  /** @internal */
  onWritable(): void {
    this.#flush();
  }

  // ConnectionHost: called by the machine's actions.

  /** @internal */
  enterPhase(phase: Phase): void {
    this.#phase = phase;
    if (phase === 'upgrading') this.#transport.releaseWithNoop();
    // Transition actions run before entry actions: what completeUpgrade/abortUpgrade
    // could not flush (the phase still said upgrading) goes out now.
    if (phase === 'connected') this.#flush();
  }

  /** @internal */
  sendPing(): void {
    this.#enqueue({ type: 'ping' });
  }

  /** @internal */
  startTimer(timer: ConnectionTimer): void {
    this.stopTimer(timer);
    const ms =
      timer === 'pingInterval'
        ? this.options.pingIntervalMs
        : timer === 'pingTimeout'
          ? this.options.pingTimeoutMs
          : this.options.upgradeTimeoutMs;
    this.#setTimer(
      timer,
      this.clock.setTimeout(() => {
        this.#setTimer(timer, null);
        this.#signal(TIMER_EVENTS[timer]);
      }, ms),
    );
  }

  /** @internal */
  stopTimer(timer: ConnectionTimer): void {
    const handle =
      timer === 'pingInterval'
        ? this.#pingTimer
        : timer === 'pingTimeout'
          ? this.#pongTimer
          : this.#upgradeTimer;
    if (handle === null) return;
    this.clock.clearTimeout(handle);
    this.#setTimer(timer, null);
  }

  #setTimer(timer: ConnectionTimer, handle: TimerHandle | null): void {
    if (timer === 'pingInterval') this.#pingTimer = handle;
    else if (timer === 'pingTimeout') this.#pongTimer = handle;
    else this.#upgradeTimer = handle;
  }

  /** @internal */
  completeUpgrade(): void {
    const probe = this.#probe;
    if (probe === null) return;
    const old = this.#transport;
    this.#probe = null;
    this.#transport = probe;
    probe.sink = this;
    // Packets of a POST still in flight on the old transport are delivered in order.
    old.close();
    this.#emitSafely('upgrade', probe.name);
    this.#flush();
  }

  /** @internal */
  abortUpgrade(): void {
    const probe = this.#probe;
    this.#probe = null;
    probe?.close();
    this.#flush();
  }

  /** @internal */
  closed(reason: CloseReason): void {
    this.#reason = reason;
    // A client that stopped reading gets nothing more: what its transport holds is dropped.
    if (reason === 'outbox overflow') this.#transport.drop();
    // At shutdown nobody is left to serve a later GET: deliver only what can go now.
    const graceful =
      reason === 'forced close' || (reason === 'server shutdown' && this.#transport.writable);
    const clientLeft = reason === 'transport close' && this.#transport.name === 'polling';
    // A graceful close delivers the queue and a close packet, waiting for the client's next
    // GET if need be. After an error only a transport that can take it now gets a close
    // packet (nothing lingers for a client presumed gone); a client that sent `close` over
    // polling gets its pending GET released with a noop.
    const final: Packet[] = graceful
      ? [...this.#outbox, { type: 'close' }]
      : clientLeft || !this.#transport.writable
        ? []
        : [{ type: 'close' }];
    this.#outbox = [];
    this.#outboxBytes = 0;
    this.#probe?.close();
    this.#probe = null;
    // A server's forced close (a kick) must read as such on the client: see PollingTransport.
    this.#transport.close(final, () => this.#release(), reason === 'forced close');
    if (this.#transport.lingering) {
      this.#lingerTimer = this.clock.setTimeout(() => {
        this.#lingerTimer = null;
        this.#transport.discard();
        this.#release();
      }, this.options.pingTimeoutMs);
    } else {
      this.#release();
    }
    // The machine reached its final state; its exit actions stopped every timer.
    this.owner.closed(this, reason);
    this.#emitSafely('close', reason);
  }

  #release(): void {
    if (this.#lingerTimer !== null) {
      this.clock.clearTimeout(this.#lingerTimer);
      this.#lingerTimer = null;
    }
    this.owner.release(this);
  }
}
