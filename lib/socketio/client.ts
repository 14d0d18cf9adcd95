/**
 * The Socket.IO side of one Engine.IO connection: decodes its packets, keeps
 * its namespace sockets, and runs its events in arrival order (the mailbox).
 */
import type { TimerHandle } from '../../schedulers/scheduler.js';
import { Fifo } from '../../schedulers/fifo.js';
import type { EngineSendOptions } from '../engine/connection.js';
import { ConnectionRefusedError, ProtocolError } from '../errors.js';
import type { Hub } from './hub.js';
import { ackArgs, newSocketSid, NO_ACK } from './hub.js';
import { parserRefusal } from './codec.js';
import { newSession } from './packets.js';
import type { EncodedParts, InboundDecoder, InboundPacket, PacketSink } from './packets.js';
import type { BoundHandler } from './registry.js';
import { readResume } from './recovery.js';
import type { ResumeRequest } from './recovery.js';
import { NamespaceSocket, traffic } from './socket.js';
import type { RequestInfo, SocketLink } from './socket.js';

/** What an emit with `compress(false)` passes to the engine: one object for every send. */
const UNCOMPRESSED: EngineSendOptions = Object.freeze({ compress: false });

/** The engine connection as the Socket.IO layer sees it. */
export interface EngineLink {
  readonly id: string;
  readonly request: RequestInfo;
  send(data: string | Buffer, options?: EngineSendOptions): boolean;
  /** Whether a message sent now would leave without waiting (for `volatile` emits). */
  canTakeNow(): boolean;
  close(reason?: 'forced close' | 'parse error'): void;
}

/** A mailbox job: synchronous work returns at once, asynchronous work returns its promise. */
type Job = () => Promise<unknown> | undefined;

/**
 * One client connection. The server feeds it with `onMessage` and `onClose`.
 *
 * @example
 * ```ts
 * const client = new SioClient(hub, link);
 * conn.on('message', (m) => client.onMessage(m));
 * conn.on('close', (r) => client.onClose(r));
 * ```
 */
export class SioClient implements SocketLink, PacketSink {
  /** One per namespace (a short list: a Map costs about 190 bytes per client). */
  #sockets: NamespaceSocket[] = [];
  readonly #decoder: InboundDecoder;
  #sharedSession: Record<string, unknown> | undefined;
  /** Jobs waiting their turn. */
  #mailbox = new Fifo<Job>();
  #draining = false;
  #inflight = 0;
  #idleWaiters: (() => void)[] | undefined;
  #connectTimer: TimerHandle | null;
  #closed = false;

  constructor(
    private readonly hub: Hub,
    readonly link: EngineLink,
  ) {
    const { options } = hub;
    this.#decoder = hub.codec.decoder(hub.decodeLimits, this);
    this.#connectTimer = hub.scheduler.clock.setTimeout(() => {
      this.#connectTimer = null;
      // Session ids stay out of info-level logs (they are credentials for polling requests).
      options.logger.info('a client did not connect to a namespace in time; closing it');
      options.logger.debug(`connect timeout for engine session ${link.id}`);
      link.close();
    }, options.connectTimeoutMs);
  }

  /** The session the client's namespaces share when `manageSession` is off (made on first use). */
  sharedSession(): Record<string, unknown> {
    return (this.#sharedSession ??= newSession());
  }

  /** Writes encoded parts to the client; `compress` false keeps them from being compressed. */
  write(parts: EncodedParts, compress = true): void {
    const options = compress ? undefined : UNCOMPRESSED;
    for (const part of parts) this.link.send(part, options);
  }

  canTakeNow(): boolean {
    return this.link.canTakeNow();
  }

  closeConnection(): void {
    this.link.close();
  }

  /** One engine message from the client. */
  onMessage(data: string | Buffer): void {
    if (this.#closed) return;
    traffic.in++;
    try {
      this.#decoder.add(data);
    } catch (error) {
      const why = error instanceof ProtocolError ? error.message : 'internal error';
      if (!(error instanceof ProtocolError))
        this.hub.options.logger.error('packet handling failed:', error);
      this.hub.options.logger.info(`closing a client that broke the protocol: ${why}`);
      this.hub.options.logger.debug(`protocol error on engine session ${this.link.id}: ${why}`);
      this.link.close('parse error');
    }
  }

  /** The id of the first ack this server awaits from the client (the codec's). */
  get firstAckId(): number {
    return this.hub.codec.firstAckId;
  }

  /**
   * @internal A message only a client of the other parser sends. A CONNECT gets a
   * CONNECT_ERROR in the client's own format, which the client surfaces as `connect_error`
   * before it closes (socket.io-client hands packets over a tick late, so a close sent
   * with it would reach the client first, as a bare `transport close`); the connect
   * timeout covers a client that stays. Anything else closes the connection. The log
   * names the fix either way.
   */
  onParserMismatch(data: string | Buffer): void {
    const { answer, log } = parserRefusal(this.hub.codec.parser, data);
    this.hub.options.logger.warn(log);
    if (answer === undefined) this.link.close('parse error');
    else this.write(answer);
  }

  /** The engine connection closed: every namespace socket disconnects with its reason. */
  onClose(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearConnectTimer();
    this.#decoder.destroy();
    this.#mailbox.drain();
    for (const socket of this.#sockets) this.#track(this.hub.removeSocket(socket, reason));
    this.#sockets = [];
    this.#checkIdle();
  }

  /** Resolves when no event of this client is queued or running. */
  settled(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => (this.#idleWaiters ??= []).push(resolve));
  }

  /** The client's live namespace sockets. */
  sockets(): NamespaceSocket[] {
    return this.#sockets.filter((s) => s.phase !== 'disconnected');
  }

  /** @internal A checked packet from this client's decoder. */
  onPacket(packet: InboundPacket): void {
    const socket = this.#socketOf(packet.nsp);
    if (packet.type === 'connect') return this.#connect(packet.nsp, packet.auth, socket);
    // A packet for a namespace this client never joined breaks the protocol; one for a
    // namespace the server just left is a race and is dropped.
    if (socket === undefined)
      throw new ProtocolError(
        `packet for namespace ${packet.nsp}, which the client has not joined`,
      );
    if (socket.phase === 'disconnected') return;
    switch (packet.type) {
      case 'disconnect':
        this.#track(this.hub.removeSocket(socket, 'client namespace disconnect'));
        return;
      case 'ack':
        socket.takeAck(packet.id)?.onAck(packet.args);
        return;
      case 'event': {
        const job: Job = () => this.#event(socket, packet.event, packet.args, packet.id);
        if (this.hub.options.asyncHandlers && socket.connected) this.#track(job());
        else this.#enqueue(job);
      }
    }
  }

  #socketOf(nsp: string): NamespaceSocket | undefined {
    for (const socket of this.#sockets) if (socket.nsp === nsp) return socket;
    return undefined;
  }

  #connect(
    nsp: string,
    auth: Record<string, unknown> | undefined,
    existing: NamespaceSocket | undefined,
  ): void {
    if (existing !== undefined && existing.phase !== 'disconnected')
      throw new ProtocolError(`second CONNECT to namespace ${nsp}`);
    const { codec } = this.hub;
    // A dynamic namespace's predicate may answer later: the socket waits, connecting.
    const known = this.hub.registry.matchNamespace(nsp, auth);
    if (known === false) return this.write(codec.encodeConnectError(nsp, 'Invalid namespace'));
    if (this.sockets().length >= this.hub.options.maxNamespacesPerConnection) {
      return this.write(codec.encodeConnectError(nsp, 'Too many namespaces'));
    }
    // With recovery on, socket.io-client puts its session's pid and offset in the auth.
    const resume = this.hub.recovery === undefined ? undefined : readResume(auth);
    const socket = new NamespaceSocket(
      newSocketSid(),
      nsp,
      this,
      resume === undefined ? auth : resume.auth,
      this.link.request,
      this.hub.options.manageSession,
    );
    // A socket that disconnected from this namespace gives its place to the new one.
    // (concat makes an array of the exact size: push would reserve room for 16.)
    this.#sockets = this.#sockets.filter((s) => s.nsp !== nsp).concat(socket);
    if (known === true) return this.#enqueue(() => this.#runConnect(socket, resume));
    this.#enqueue(() =>
      known.then(
        (yes) => (yes ? this.#runConnect(socket, resume) : this.#invalid(socket)),
        (error: unknown) => {
          this.hub.options.logger.error(`the namespace predicate failed for ${nsp}:`, error);
          this.#invalid(socket);
        },
      ),
    );
  }

  /** A dynamic namespace's predicate said no: `Invalid namespace`, as for an unknown name. */
  #invalid(socket: NamespaceSocket): void {
    if (socket.isGone()) return;
    socket.refuse(this.hub.codec.encodeConnectError(socket.nsp, 'Invalid namespace'));
    socket.markDisconnected('server namespace disconnect');
    this.#sockets = this.#sockets.filter((s) => s !== socket);
  }

  async #runConnect(socket: NamespaceSocket, resume: ResumeRequest | undefined): Promise<void> {
    if (socket.phase === 'disconnected') return;
    const { hub } = this;
    const recovery = hub.recovery;
    let restored =
      recovery === undefined || resume === undefined ? undefined : recovery.restore(socket, resume);
    if (restored instanceof Promise) {
      restored = await restored;
      if (socket.isGone()) return;
    }
    // A recovered socket has its old sid back by now.
    const { nsp, sid } = socket;
    hub.addSocket(socket);
    if (restored !== undefined) {
      for (const room of restored.rooms) hub.rooms.join(nsp, sid, room);
      // Held until the CONNECT answer is out, and before anything the connect handler sends.
      for (const packet of restored.missed) socket.write(packet.parts);
      hub.options.logger.debug(
        `client ${sid} recovered on ${nsp}: ${restored.missed.length} missed packets`,
      );
    }
    const accept = (): void => {
      socket.accept(hub.codec.encodeConnect(nsp, sid, socket.pid));
      this.#clearConnectTimer();
      hub.options.logger.info(`client connected to ${nsp}`);
      hub.options.logger.debug(`client ${sid} connected to ${nsp}`);
    };
    // Awaited only when registered: a namespace without them connects in the same tick.
    const skip = restored !== undefined && recovery?.options.skipMiddlewares === true;
    const middlewares = skip ? undefined : hub.registry.middlewareChain(nsp);
    let refused = middlewares && (await this.#runFirst(socket, middlewares, 'use'));
    if (socket.isGone()) return;
    if (refused === undefined) {
      if (hub.options.alwaysConnect) accept();
      const handler = hub.registry.find(nsp, 'connect');
      refused = handler && (await this.#runFirst(socket, handler, 'connect'));
      if (socket.isGone()) return;
    }
    if (refused === undefined) {
      if (!socket.connected) accept();
      return;
    }
    hub.options.logger.info(`client refused on ${nsp}: ${refused.message}`);
    hub.options.logger.debug(`client ${sid} refused on ${nsp}`);
    if (socket.connected) socket.write(hub.codec.encodeDisconnect(nsp));
    else socket.refuse(hub.codec.encodeConnectError(nsp, refused.message, refused.data));
    void hub.removeSocket(socket, 'server namespace disconnect', false);
  }

  /**
   * Runs the namespace's `io.use` middlewares (`kind` 'use') or its connect handler: `false`
   * or a `ConnectionRefusedError` refuses the client with its message; any other error goes
   * to the error handler and refuses it, with the error's message for a middleware (as
   * socket.io does) and a generic one for the connect handler (as Flask-SocketIO does).
   */
  async #runFirst(
    socket: NamespaceSocket,
    body: BoundHandler,
    kind: 'use' | 'connect',
  ): Promise<ConnectionRefusedError | undefined> {
    const args = [socket.auth];
    try {
      const result = await this.hub.dispatch(socket, 'connect', args, body, kind);
      return result === false ? new ConnectionRefusedError() : undefined;
    } catch (error) {
      if (error instanceof ConnectionRefusedError) return error;
      await this.hub.handleError(socket, 'connect', args, error);
      if (kind === 'connect') return new ConnectionRefusedError();
      return new ConnectionRefusedError(error instanceof Error ? error.message : String(error));
    }
  }

  /** Runs an event's handler; a synchronous handler is acked without touching a promise. */
  #event(
    socket: NamespaceSocket,
    event: string,
    args: unknown[],
    id: number | undefined,
  ): Promise<void> | undefined {
    if (!socket.connected) return undefined;
    const before = this.hub.registry.eventMiddlewareChain(socket.nsp);
    if (before !== undefined) return this.#eventAfterMiddlewares(socket, event, args, id, before);
    const handler = this.hub.registry.find(socket.nsp, event);
    if (handler === undefined) {
      this.hub.options.logger.debug(`no handler for "${event}" in ${socket.nsp}`);
      return undefined;
    }
    const result = this.hub.runNow(socket, event, args, handler, 'event');
    if (result instanceof Promise) return result.then((value) => this.#ack(socket, id, value));
    this.#ack(socket, id, result);
    return undefined;
  }

  /**
   * An event through the namespace's `io.beforeEvent` middlewares, then its handler. A
   * middleware's throw goes to the error handler, whose return value is the ack; `false`
   * drops the event.
   */
  async #eventAfterMiddlewares(
    socket: NamespaceSocket,
    event: string,
    args: unknown[],
    id: number | undefined,
    before: BoundHandler,
  ): Promise<void> {
    let passed: unknown;
    try {
      passed = await this.hub.dispatch(socket, event, [event, args], before, 'before');
    } catch (error) {
      return this.#ack(socket, id, await this.hub.handleError(socket, event, args, error));
    }
    if (passed === false || !socket.connected) return;
    const handler = this.hub.registry.find(socket.nsp, event);
    if (handler === undefined) {
      this.hub.options.logger.debug(`no handler for "${event}" in ${socket.nsp}`);
      return;
    }
    const finalArgs = Array.isArray(passed) ? (passed as unknown[]) : args;
    this.#ack(socket, id, await this.hub.run(socket, event, finalArgs, handler, 'event'));
  }

  #ack(socket: NamespaceSocket, id: number | undefined, result: unknown): void {
    if (id !== undefined && result !== NO_ACK && socket.connected) {
      socket.write(this.hub.codec.encodeAck(socket.nsp, id, ackArgs(result)));
    }
  }

  #enqueue(job: Job): void {
    if (this.#draining || this.#mailbox.size > 0) {
      this.#mailbox.push(job);
      return;
    }
    // The mailbox is empty: run now. Only a job that returns a promise makes later ones wait.
    const pending = this.#runJob(job);
    if (pending !== undefined) {
      this.#draining = true;
      this.#track(pending.then(() => this.#drain()));
    }
  }

  #runJob(job: Job): Promise<unknown> | undefined {
    try {
      return job()?.catch((error: unknown) =>
        this.hub.options.logger.error('event handling failed:', error),
      );
    } catch (error) {
      this.hub.options.logger.error('event handling failed:', error);
      return undefined;
    }
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      for (let job = this.#mailbox.shift(); job !== undefined; job = this.#mailbox.shift()) {
        const pending = this.#runJob(job);
        if (pending !== undefined) await pending;
      }
    } finally {
      this.#draining = false;
    }
  }

  #track(work: Promise<unknown> | undefined): void {
    if (work === undefined) return;
    this.#inflight++;
    void work
      .catch((error: unknown) => this.hub.options.logger.error('event handling failed:', error))
      .finally(() => {
        this.#inflight--;
        this.#checkIdle();
      });
  }

  #isIdle(): boolean {
    return this.#inflight === 0 && this.#mailbox.size === 0 && !this.#draining;
  }

  #checkIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters ?? [];
    this.#idleWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer === null) return;
    this.hub.scheduler.clock.clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
  }
}
