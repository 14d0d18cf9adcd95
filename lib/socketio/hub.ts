/**
 * The shared state of one server (rooms, sockets, handlers, scheduler) and the
 * operations every entry point uses: run a handler, emit, rooms, disconnect.
 */
import { randomToken } from '../random.js';
import {
  AcksTimeoutError,
  ClusterTimeoutError,
  ConnectionRefusedError,
  UsageError,
} from '../errors.js';
import type { Scheduler } from '../../schedulers/scheduler.js';
import { isArgs } from './args.js';
import { contextStorage } from './context.js';
import type { HandlerContext, HubOps } from './context.js';
import { callWaiter, checkEventName, deliver, deliverWithAcks, resolveTargets } from './emitter.js';
import type { AcksRequest, CallRequest, EmitRequest } from './emitter.js';
import { codecFor } from './codec.js';
import type { PacketCodec, ParserName } from './codec.js';
import { newSession, setOwn } from './packets.js';
import type { DecodeLimits, EncodedParts } from './packets.js';
import type {
  AcksAnswer,
  ClusterRequest,
  LocalServer,
  PubSub,
  WireTarget,
} from '../queues/pubsub.js';
import { HandlerRegistry } from './registry.js';
import type { BoundHandler } from './registry.js';
import type { ResolvedSocketIOOptions } from './options.js';
import { RoomRegistry } from '../rooms.js';
import { jsonOf, sessionData } from './http-session.js';
import type { SharedHttpSession } from './http-session.js';
import { handshakeOf } from './socket.js';
import type { SocketSnapshot, SocketsTarget } from './sockets.js';
import type { HandshakeRequest, NamespaceSocket, RequestInfo } from './socket.js';
import { routeKey, settleOutcome, wireError } from './remote.js';
import type { HandedOver, Recovery } from './recovery.js';
import type { LoggedPacket } from '../queues/sessions.js';
import type {
  RemoteKind,
  RemoteOutcome,
  RemoteRequest,
  WireHandshake,
  WireLogin,
} from './remote.js';

/** Returned by a handler run that failed with no error handler: no ack is sent. */
export const NO_ACK: unique symbol = Symbol('no ack');

/** A new Socket.IO sid (different from the Engine.IO sid). */
export function newSocketSid(): string {
  return randomToken(15);
}

/** What a pool thread's handler sees of the handshake request's login state, if it has any. */
function wireLogin(http: HandshakeRequest): WireLogin | undefined {
  if (http.session === undefined && http.user === undefined) return undefined;
  const user = jsonOf(http.user);
  return {
    session: http.session === undefined ? undefined : sessionData(http.session),
    user: user === undefined ? undefined : (JSON.parse(user) as unknown),
  };
}

/**
 * Each socket's key for its shared part (its handshake, kept by pool threads): its own, not
 * its sid, so a recovered socket (the gone one's sid back, with a handshake of its own)
 * never meets the gone one's.
 */
const shareKeys = new WeakMap<NamespaceSocket, string>();
let lastShareKey = 0;

function shareKeyOf(socket: NamespaceSocket): string {
  let key = shareKeys.get(socket);
  if (key === undefined) {
    key = String(++lastShareKey);
    shareKeys.set(socket, key);
  }
  return key;
}

/** The handshake parts a pool thread keeps per client, made once per request. */
const wireHandshakes = new WeakMap<RequestInfo, WireHandshake>();

function wireHandshake(request: RequestInfo): WireHandshake {
  let wire = wireHandshakes.get(request);
  if (wire === undefined) {
    const http = handshakeOf(request);
    wire = {
      method: http.method,
      url: http.url,
      headers: request.headers,
      query: request.query,
      remoteAddress: request.remoteAddress,
    };
    wireHandshakes.set(request, wire);
  }
  return wire;
}

/** The ack arguments for a handler's return value. */
export function ackArgs(value: unknown): unknown[] {
  if (value === undefined) return [];
  if (isArgs(value)) return [...value.values];
  return [value];
}

/**
 * One server's state and operations; not part of the public API.
 */
export class Hub implements HubOps, LocalServer {
  readonly rooms = new RoomRegistry();
  readonly sockets = new Map<string, NamespaceSocket>();
  readonly registry = new HandlerRegistry();
  /** Live sids per namespace (each socket is implicitly in the room named after its sid). */
  readonly #byNamespace = new Map<string, Map<string, NamespaceSocket>>();
  /** The message queue bridge, when several processes share the clients. */
  bus: PubSub | undefined;
  /** Connection state recovery, when on. */
  recovery: Recovery | undefined;
  /** Volatile packets dropped because a client's transport could not take them at once. */
  volatileDropped = 0;
  /** Called when a socket is removed (lets owners of per-socket state clean up). */
  onSocketGone: ((socket: NamespaceSocket, reason: string) => void) | undefined;
  /** `io.onServerSide` handlers, by event: each answers another process's server-side event. */
  readonly serverSideHandlers = new Map<string, (...args: unknown[]) => unknown>();

  /** The decoders' limits, one object for every client. */
  readonly decodeLimits: DecodeLimits;
  /** The packet format every client of this server speaks (the `parser` option). */
  readonly codec: PacketCodec;

  constructor(
    readonly scheduler: Scheduler,
    readonly options: ResolvedSocketIOOptions,
  ) {
    this.decodeLimits = {
      maxAttachments: options.maxAttachments,
      maxEventNameLength: options.maxEventNameLength,
      maxDepth: options.maxArgumentDepth,
    };
    this.codec = codecFor(options.parser, options.json);
  }

  /**
   * Runs a handler body through the scheduler, inside the socket's context.
   * `kind` says it is a registered handler (not a closure), so a worker-pool
   * thread that has the same handler may run it instead.
   */
  dispatch(
    socket: NamespaceSocket,
    message: string,
    args: readonly unknown[],
    body: BoundHandler,
    kind?: RemoteKind,
    error?: unknown,
  ): Promise<unknown> {
    const shared = socket.shared;
    if (shared !== undefined) {
      return this.#aroundHttpSession(shared, kind, () =>
        this.#dispatch(socket, message, args, body, kind, error),
      );
    }
    return this.#dispatch(socket, message, args, body, kind, error);
  }

  /**
   * `manageSession: false` with an HTTP session: an event sees what HTTP routes wrote (the
   * session is reloaded first; one that is gone, logged out or expired, fails the event),
   * and what a handler changed is saved after it (see SharedHttpSession). A disconnect
   * handler runs even when the session is gone.
   */
  async #aroundHttpSession(
    shared: SharedHttpSession,
    kind: RemoteKind | undefined,
    run: () => Promise<unknown>,
  ): Promise<unknown> {
    if (kind === 'event' || kind === 'before' || kind === 'disconnect')
      await shared.refresh(kind !== 'disconnect');
    try {
      return await run();
    } finally {
      const failed = await shared.commit();
      if (failed !== undefined) this.options.logger.error(failed.message);
    }
  }

  #dispatch(
    socket: NamespaceSocket,
    message: string,
    args: readonly unknown[],
    body: BoundHandler,
    kind?: RemoteKind,
    error?: unknown,
  ): Promise<unknown> {
    const ctx: HandlerContext = { hub: this, socket, event: { message, args } };
    const run = (): unknown => contextStorage.run(ctx, () => body(args));
    const enter = <R>(fn: () => R): R => contextStorage.run(ctx, fn);
    if (kind === undefined || this.scheduler.mode !== 'worker-pool') {
      return this.scheduler.dispatch({ label: `${socket.nsp}#${message}`, run, enter });
    }
    const scope = this.registry.keyOf(socket.nsp);
    const key = routeKey(kind, scope, message);
    const request: RemoteRequest = {
      kind,
      nsp: socket.nsp,
      scope,
      event: message,
      args: [...args],
      sid: socket.sid,
      auth: socket.auth,
      recovered: socket.recovered,
      login: wireLogin(handshakeOf(socket.request)),
      session: socket.session,
      rooms: this.roomsOf(socket.sid, socket.nsp),
      error: kind === 'error' ? wireError(error) : undefined,
    };
    return this.scheduler.dispatch({
      label: `${socket.nsp}#${message}`,
      run,
      enter,
      remote: {
        key,
        request,
        lane: socket.sid,
        shared: { key: shareKeyOf(socket), value: wireHandshake(socket.request) },
        settle: (outcome) =>
          settleOutcome(socket.session, outcome as RemoteOutcome, () =>
            this.scheduler.dispatch({ label: message, run, enter }),
          ),
      },
    });
  }

  /**
   * Like {@link run}, but a synchronous handler on a scheduler that can run it at once
   * (event-loop) gives its value directly: no promise, no microtask hop.
   */
  runNow(
    socket: NamespaceSocket,
    message: string,
    args: readonly unknown[],
    body: BoundHandler,
    kind?: RemoteKind,
  ): unknown {
    const scheduler = this.scheduler;
    if (scheduler.dispatchNow === undefined || socket.shared !== undefined)
      return this.run(socket, message, args, body, kind);
    const ctx: HandlerContext = { hub: this, socket, event: { message, args } };
    let result: unknown;
    try {
      result = scheduler.dispatchNow({
        // A plain property: with an object literal holding a getter here, built per event, V8
        // promoted about 10x more bytes to the old generation (GC time 2.7x, p99 latency 1.7x).
        label: `${socket.nsp}#${message}`,
        run: () => contextStorage.run(ctx, () => body(args)),
        enter: <R>(fn: () => R): R => contextStorage.run(ctx, fn),
      });
    } catch (error) {
      return this.handleError(socket, message, args, error);
    }
    if (result instanceof Promise) {
      return result.catch((error: unknown) => this.handleError(socket, message, args, error));
    }
    return result;
  }

  /**
   * Runs a handler; a throw goes to the namespace's error handler (whose return
   * value is then the result) or is logged with the event name and gives NO_ACK.
   */
  async run(
    socket: NamespaceSocket,
    message: string,
    args: readonly unknown[],
    body: BoundHandler,
    kind?: RemoteKind,
  ): Promise<unknown> {
    try {
      return await this.dispatch(socket, message, args, body, kind);
    } catch (error) {
      return this.handleError(socket, message, args, error);
    }
  }

  /** Routes a handler error to the error handler, or logs it. */
  async handleError(
    socket: NamespaceSocket,
    message: string,
    args: readonly unknown[],
    error: unknown,
  ): Promise<unknown> {
    const handler = this.registry.errorHandler(socket.nsp);
    if (handler === undefined) {
      this.options.logger.error(
        `handler for "${message}" in namespace ${socket.nsp} failed:`,
        error,
      );
      return NO_ACK;
    }
    try {
      return await this.dispatch(socket, message, args, () => handler(error), 'error', error);
    } catch (second) {
      this.options.logger.error(
        `error handler for namespace ${socket.nsp} failed while handling "${message}":`,
        second,
      );
      return NO_ACK;
    }
  }

  /**
   * Emits to the clients a request reaches: the local ones directly, the others
   * through the message queue (unless `ignoreQueue`). The packet is encoded once.
   * Returns how many local clients it was written to.
   */
  emit(original: EmitRequest): number {
    checkEventName(original.event);
    const request = this.#withExcept(original);
    const bus = request.ignoreQueue === true ? undefined : this.bus;
    const callback = request.callback;
    const sid = request.to?.length === 1 ? request.to[0] : undefined;
    if (callback !== undefined && sid !== undefined) {
      const socket = this.sockets.get(sid);
      if (socket !== undefined && socket.nsp === request.nsp && !socket.isGone()) {
        const waiter = {
          onAck: (args: unknown[]) =>
            void this.run(socket, 'callback', args, (a) => callback(...a)),
          onDisconnect: () => undefined,
        };
        return deliver([socket], request, waiter, this.codec);
      }
      if (bus !== undefined && this.members(request.nsp, request.to).size === 0) {
        // A client of another process: its ack comes back through the queue.
        bus.publishEmit(request, undefined, (args) =>
          this.runCallback(`callback of ${request.event}`, () => callback(...args)),
        );
        return 0;
      }
    }
    const targets = this.#targets(request);
    if (this.recovery !== undefined && request.volatile !== true)
      return this.recovery.emit(request, targets, bus);
    if (targets.length === 0 && bus === undefined) return 0;
    const parts = this.codec.encodeEvent(request.nsp, request.event, request.args);
    const compress = request.compress !== false;
    if (request.volatile === true) {
      for (const socket of targets)
        if (!socket.writeVolatile(parts, compress)) this.volatileDropped++;
    } else for (const socket of targets) socket.write(parts, compress);
    bus?.publishEmit(request, parts);
    return targets.length;
  }

  /** `except` rooms become skipped sids (the members this process knows of). */
  #withExcept<R extends EmitRequest>(request: R): R {
    if (request.except === undefined || request.except.length === 0) return request;
    const skip = new Set(request.skip);
    for (const sid of this.members(request.nsp, request.except)) skip.add(sid);
    return { ...request, skip };
  }

  /**
   * Emits to the clients a request reaches and resolves with each one's ack (see
   * {@link deliverWithAcks}); with a message queue (unless `ignoreQueue`), the other processes
   * do the same for theirs and answer with what they collected.
   */
  emitWithAck(original: AcksRequest): Promise<unknown[]> {
    checkEventName(original.event);
    if (!(original.timeoutSeconds > 0))
      return Promise.reject(
        new UsageError('emitWithAck(): timeout must be a positive number of seconds'),
      );
    const request = this.#withExcept(original);
    const targets = this.#targets(request);
    const mine = deliverWithAcks(targets, request, this.scheduler.clock, this.codec);
    if (this.bus === undefined || original.ignoreQueue === true) return mine;
    const theirs = this.bus.ask(
      {
        kind: 'acks',
        target: wireTarget(original),
        event: original.event,
        args: original.args,
        timeoutSeconds: original.timeoutSeconds,
      },
      `emitWithAck("${original.event}")`,
      // Each process answers by the ack timeout at the latest; the margin is the trip back.
      original.timeoutSeconds * 1000 + ACKS_ANSWER_MARGIN_MS,
    );
    return clusterAcks(original, targets.length, mine, theirs);
  }

  /** Runs an ack callback through the scheduler; what it throws is logged. */
  runCallback(label: string, run: () => unknown): void {
    this.scheduler
      .dispatch({ label, run })
      .catch((error: unknown) => this.options.logger.error(`${label} failed:`, error));
  }

  /** Emits to local clients only (what a queue message asks for). */
  emitLocal(request: EmitRequest): number {
    return this.emit({ ...request, ignoreQueue: true });
  }

  /**
   * Writes pre-encoded parts (from the queue) to the local clients an emit reaches. Parts
   * from a process with the other parser are read back and encoded with this one's.
   */
  writeParts(
    nsp: string,
    to: readonly string[] | undefined,
    skip: ReadonlySet<string>,
    parts: EncodedParts,
    parser: ParserName,
    except?: readonly string[],
    origin?: string,
  ): number {
    const route = this.#withExcept({ nsp, to, skip, except, event: '', args: [] });
    const targets = this.#targets(route);
    const recovery = this.recovery;
    if (targets.length === 0 && recovery?.keeps(nsp) !== true) return 0;
    let own = parts;
    if (parser !== this.codec.parser) {
      const sent = codecFor(parser, undefined).readEvent(parts);
      if (sent === undefined) {
        this.options.logger.warn(`message queue: unreadable ${parser} packet parts; dropped`);
        return 0;
      }
      own = this.codec.encodeEvent(nsp, sent.event, sent.args);
    }
    if (recovery !== undefined) return recovery.writeParts(route, own, targets, origin);
    for (const socket of targets) socket.write(own);
    return targets.length;
  }

  /** Registers a socket (its own sid room is implicit, not stored). */
  addSocket(socket: NamespaceSocket): void {
    this.sockets.set(socket.sid, socket);
    let members = this.#byNamespace.get(socket.nsp);
    if (members === undefined)
      this.#byNamespace.set(socket.nsp, (members = new Map<string, NamespaceSocket>()));
    members.set(socket.sid, socket);
  }

  /**
   * The live sockets a request reaches, minus the skipped ones. A broadcast to the whole
   * namespace walks its sockets as they are (no copy of the member set, no lookup per sid).
   */
  #targets(request: Pick<EmitRequest, 'nsp' | 'to' | 'skip'>): NamespaceSocket[] {
    if (request.to !== undefined)
      return resolveTargets(this.members(request.nsp, request.to), this.sockets, request);
    const out: NamespaceSocket[] = [];
    const members = this.#byNamespace.get(request.nsp);
    if (members === undefined) return out;
    const skip = request.skip;
    for (const socket of members.values())
      if (socket.phase !== 'disconnected' && skip?.has(socket.sid) !== true) out.push(socket);
    return out;
  }

  /** The sids in any of `rooms` (a sid counts as its own room), or the whole namespace. */
  members(nsp: string, rooms: readonly string[] | undefined): Set<string> {
    if (rooms === undefined) return new Set(this.#byNamespace.get(nsp)?.keys());
    const out = this.rooms.members(nsp, rooms);
    for (const room of rooms) if (this.sockets.get(room)?.nsp === nsp) out.add(room);
    return out;
  }

  /** How many clients a namespace has. */
  namespaceSize(nsp: string): number {
    return this.#byNamespace.get(nsp)?.size ?? 0;
  }

  /** Whether a sid is a live client of this process in a namespace. */
  isLocal(sid: string, nsp: string): boolean {
    return this.#socket(sid, nsp, 'isLocal') !== undefined;
  }

  /** Emits to one client and waits for its ack (through the queue for another process's client). */
  call(request: CallRequest): Promise<unknown[]> {
    checkEventName(request.event);
    if (typeof request.timeoutSeconds !== 'number' || !(request.timeoutSeconds > 0)) {
      return Promise.reject(new UsageError('call(): timeout must be a positive number of seconds'));
    }
    const socket = this.#socket(request.sid, request.nsp, 'call');
    if (socket === undefined) {
      if (this.bus !== undefined) return this.bus.call(request);
      return Promise.reject(
        new UsageError(`call(): no client ${request.sid} in namespace ${request.nsp}`),
      );
    }
    const { waiter, result } = callWaiter(this.scheduler.clock, request);
    deliver([socket], request, waiter, this.codec);
    return result;
  }

  #socket(sid: string, nsp: string, fn: string): NamespaceSocket | undefined {
    if (typeof sid !== 'string') throw new UsageError(`${fn}(): sid must be a string`);
    const socket = this.sockets.get(sid);
    return socket !== undefined && socket.nsp === nsp && socket.phase !== 'disconnected'
      ? socket
      : undefined;
  }

  enterRoom(sid: string, room: string, nsp: string): void {
    if (typeof room !== 'string' || room === '')
      throw new UsageError('joinRoom(): room must be a non-empty string');
    if (this.#socket(sid, nsp, 'joinRoom') !== undefined) this.rooms.join(nsp, sid, room);
    else this.bus?.publishRoom('enter_room', sid, room, nsp);
  }

  leaveRoom(sid: string, room: string, nsp: string): void {
    if (this.#socket(sid, nsp, 'leaveRoom') !== undefined) this.rooms.leave(nsp, sid, room);
    else this.bus?.publishRoom('leave_room', sid, room, nsp);
  }

  closeRoom(room: string, nsp: string, ignoreQueue = false): void {
    this.rooms.close(nsp, room);
    if (!ignoreQueue) this.bus?.publishCloseRoom(room, nsp);
  }

  roomsOf(sid: string, nsp: string): string[] {
    const own = this.#socket(sid, nsp, 'rooms') === undefined ? [] : [sid];
    return [...own, ...this.rooms.roomsOf(nsp, sid)];
  }

  /** Server-side disconnect of one namespace socket: DISCONNECT packet, then cleanup. */
  disconnect(sid: string, nsp: string, close = false): void {
    const socket = this.#socket(sid, nsp, 'disconnect');
    if (socket === undefined) return void this.bus?.publishDisconnect(sid, nsp, close);
    // Still in its connect handler: the client has had no CONNECT reply, so it is refused.
    if (socket.connected) socket.write(this.codec.encodeDisconnect(nsp));
    else socket.refuse(this.codec.encodeConnectError(nsp, new ConnectionRefusedError().message));
    void this.removeSocket(socket, 'server namespace disconnect');
    if (close) socket.link.closeConnection();
  }

  /**
   * The live clients a target reaches, as snapshots: this process's (whose `data` is the live
   * session), then, with a message queue and not `local`, every other process's (copies).
   */
  async fetchSockets(target: SocketsTarget): Promise<SocketSnapshot[]> {
    const mine = this.#snapshots(target);
    if (this.bus === undefined || target.local === true) return mine;
    const answers = await this.bus.ask(
      { kind: 'fetch', target: wireTarget(target) },
      'fetchSockets()',
    );
    return mine.concat(answers.flatMap(readSnapshots));
  }

  /**
   * `socketsJoin` (`join`), `socketsLeave` (`leave`) or `disconnectSockets` (`disconnect`, with
   * `close`) on the clients a target reaches; with a message queue and not `local`, resolves
   * once every other process applied it to its clients.
   */
  async socketsOp(
    target: SocketsTarget,
    op: 'join' | 'leave' | 'disconnect',
    rooms: readonly string[],
    close = false,
  ): Promise<void> {
    this.#socketsLocal(target, op, rooms, close);
    if (this.bus === undefined || target.local === true) return;
    const name =
      op === 'join' ? 'socketsJoin' : op === 'leave' ? 'socketsLeave' : 'disconnectSockets';
    try {
      await this.bus.ask(
        { kind: 'sockets', target: wireTarget(target), op, rooms, close },
        `${name}()`,
      );
    } catch (error) {
      // Called without await (as socket.io's return nothing), a failure still shows.
      this.options.logger.warn(`io.${name}() did not reach every process:`, error);
      throw error;
    }
  }

  /** Applies a sockets operation to this process's clients; returns how many it reached. */
  #socketsLocal(
    target: SocketsTarget,
    op: 'join' | 'leave' | 'disconnect',
    rooms: readonly string[],
    close: boolean,
  ): number {
    const targets = this.#targets(this.#withExcept({ ...target, event: '', args: [] }));
    for (const { sid, nsp } of targets) {
      if (op === 'disconnect') this.disconnect(sid, nsp, close);
      else if (op === 'join') for (const room of rooms) this.rooms.join(nsp, sid, room);
      else for (const room of rooms) this.rooms.leave(nsp, sid, room);
    }
    return targets.length;
  }

  /**
   * Sends a server-side event to the other processes' `onServerSide` handlers. With `ack`,
   * resolves with each process's answer (its handler's value) within `timeoutSeconds` (the
   * queue's `requestTimeout` when unset); without, resolves at once with no answers.
   */
  serverSideEmit(
    event: string,
    args: readonly unknown[],
    ack: boolean,
    timeoutSeconds?: number,
  ): Promise<unknown[]> {
    checkEventName(event);
    if (timeoutSeconds !== undefined && !(timeoutSeconds > 0))
      return Promise.reject(
        new UsageError('serverSideEmitWithAck(): timeout must be a positive number of seconds'),
      );
    const bus = this.bus;
    if (bus === undefined) return Promise.resolve([]);
    const request: ClusterRequest = { kind: 'serverSide', event, args };
    if (!ack) {
      try {
        bus.tell(request);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      return Promise.resolve([]);
    }
    const ms = timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000;
    return bus.ask(request, `serverSideEmitWithAck("${event}")`, ms);
  }

  /** Answers another process's cluster query with what concerns this process. */
  answer(request: ClusterRequest): unknown {
    switch (request.kind) {
      case 'fetch':
        return this.#snapshots(targetOf(request.target));
      case 'sockets':
        return this.#socketsLocal(
          targetOf(request.target),
          request.op,
          request.rooms,
          request.close,
        );
      case 'acks': {
        const acks: AcksRequest = {
          ...targetOf(request.target),
          event: request.event,
          args: request.args,
          timeoutSeconds: request.timeoutSeconds,
        };
        const targets = this.#targets(this.#withExcept(acks));
        return deliverWithAcks(targets, acks, this.scheduler.clock, this.codec).then(
          (responses): AcksAnswer => ({ responses, expected: targets.length }),
          (error: unknown): AcksAnswer => {
            if (!(error instanceof AcksTimeoutError)) throw error;
            return { responses: error.responses, expected: error.expected };
          },
        );
      }
      case 'recover':
        return this.recovery?.handOver(request.pid, request.nsp, request.offset ?? undefined);
      case 'serverSide': {
        const handler = this.serverSideHandlers.get(request.event);
        if (handler === undefined) return null;
        return this.scheduler.dispatch({
          label: `server-side ${request.event}`,
          run: () => handler(...request.args),
        });
      }
    }
  }

  /**
   * Asks the other processes for a recoverable session this one does not keep; resolves with
   * the one handed over, or undefined (nobody keeps it, or no answer within the timeout).
   */
  async sessionElsewhere(
    pid: string,
    nsp: string,
    offset: string | undefined,
  ): Promise<HandedOver | undefined> {
    if (this.bus === undefined) return undefined;
    const answers = await this.bus
      .ask({ kind: 'recover', pid, nsp, offset: offset ?? null }, 'connection state recovery')
      .catch((error: unknown) => (error instanceof ClusterTimeoutError ? error.answers : []));
    for (const answer of answers) {
      const session = readHandedOver(answer, pid, nsp);
      if (session !== undefined) return session;
    }
    return undefined;
  }

  /** This process's clients a target reaches, as snapshots whose `data` is the live session. */
  #snapshots(target: SocketsTarget): SocketSnapshot[] {
    const request = this.#withExcept({ ...target, event: '', args: [] });
    const targets = this.#targets(request);
    return targets.map((socket) => ({
      id: socket.sid,
      namespace: socket.nsp,
      rooms: this.roomsOf(socket.sid, socket.nsp),
      data: socket.session,
      recovered: socket.recovered,
      handshake: {
        headers: socket.request.headers,
        query: socket.request.query,
        auth: socket.auth,
        address: socket.request.remoteAddress,
        time: new Date(socket.created).toString(),
        issued: socket.created,
        url: socket.request.url ?? '/socket.io/',
      },
    }));
  }

  /**
   * Forgets a socket: rooms, pending acks, then its disconnect handler (only if
   * it had connected and `runHandler`). Idempotent.
   */
  removeSocket(
    socket: NamespaceSocket,
    reason: string,
    runHandler = true,
  ): Promise<unknown> | undefined {
    const wasConnected = socket.connected && runHandler;
    this.recovery?.gone(socket, this.rooms.roomsOf(socket.nsp, socket.sid), reason);
    if (!socket.markDisconnected(reason)) return undefined;
    this.sockets.delete(socket.sid);
    const members = this.#byNamespace.get(socket.nsp);
    members?.delete(socket.sid);
    if (members?.size === 0) {
      this.#byNamespace.delete(socket.nsp);
      this.registry.forgetChild(socket.nsp);
    }
    this.rooms.leaveAll(socket.nsp, socket.sid);
    if (wasConnected) {
      this.options.logger.info(`client disconnected from ${socket.nsp}: ${reason}`);
      this.options.logger.debug(`client ${socket.sid} disconnected from ${socket.nsp}: ${reason}`);
    }
    this.onSocketGone?.(socket, reason);
    // Pool threads keep its handshake (see #dispatch) until its last job is done.
    const forget = (): void => {
      const key = shareKeys.get(socket);
      if (key !== undefined) this.scheduler.forgetShared?.(key);
    };
    const handler = wasConnected ? this.registry.find(socket.nsp, 'disconnect') : undefined;
    if (handler === undefined) {
      forget();
      return undefined;
    }
    return this.run(socket, 'disconnect', [reason], handler, 'disconnect').finally(forget);
  }
}

/** How much longer than its ack timeout an `emitWithAck` waits for the other processes' answers. */
const ACKS_ANSWER_MARGIN_MS = 1000;

/** A target as it travels between processes. */
function wireTarget(target: Pick<EmitRequest, 'nsp' | 'to' | 'except'>): WireTarget {
  return { nsp: target.nsp, to: target.to ?? null, except: target.except ?? null };
}

/** A target as it arrived from another process: this process's clients only. */
function targetOf(target: WireTarget): SocketsTarget {
  return {
    nsp: target.nsp,
    to: target.to ?? undefined,
    except: target.except ?? undefined,
    local: true,
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The snapshots in another process's `fetch` answer (those that have the fields a socket needs). */
function readSnapshots(answer: unknown): SocketSnapshot[] {
  if (!Array.isArray(answer)) return [];
  return answer
    .filter(
      (s): s is SocketSnapshot =>
        isRecord(s) &&
        typeof s.id === 'string' &&
        typeof s.namespace === 'string' &&
        Array.isArray(s.rooms) &&
        isRecord(s.handshake) &&
        isRecord(s.data),
    )
    .map((s) => ({ ...s, recovered: s.recovered === true }));
}

/** A session another process handed over (undefined unless it has every field, for `pid`). */
function readHandedOver(answer: unknown, pid: string, nsp: string): HandedOver | undefined {
  if (!isRecord(answer) || answer.pid !== pid || answer.nsp !== nsp) return undefined;
  const { sid, rooms, data, missed } = answer;
  if (typeof sid !== 'string' || !Array.isArray(rooms) || !Array.isArray(missed)) return undefined;
  if (data !== undefined && data !== null && !isRecord(data)) return undefined;
  const packets = missed.filter(
    (p): p is LoggedPacket =>
      isRecord(p) &&
      typeof p.offset === 'string' &&
      (p.origin === undefined || typeof p.origin === 'string') &&
      Array.isArray(p.parts) &&
      p.parts.every((part) => typeof part === 'string' || Buffer.isBuffer(part)),
  );
  if (packets.length !== missed.length) return undefined;
  let session: Record<string, unknown> | undefined;
  if (isRecord(data)) {
    // Prototype-free, as every session here: a key like __proto__ stays a plain key.
    session = newSession();
    for (const [key, value] of Object.entries(data)) setOwn(session, key, value);
  }
  return {
    pid,
    sid,
    nsp,
    rooms: rooms.filter((r): r is string => typeof r === 'string'),
    data: session,
    missed: packets,
  };
}

const isAcksAnswer = (v: unknown): v is AcksAnswer =>
  isRecord(v) && Array.isArray(v.responses) && typeof v.expected === 'number';

/**
 * Puts together this process's acks and the other processes' answers: every client's ack, or
 * `AcksTimeoutError` counting the clients that answered of those every process reported (a
 * process that did not answer in time reported none).
 */
async function clusterAcks(
  request: AcksRequest,
  localTargets: number,
  mine: Promise<unknown[]>,
  theirs: Promise<unknown[]>,
): Promise<unknown[]> {
  const [local, remote] = await Promise.allSettled([mine, theirs]);
  const responses: unknown[] = [];
  let expected = localTargets;
  let gone = 0;
  let complete = true;
  if (local.status === 'fulfilled') responses.push(...local.value);
  else if (local.reason instanceof AcksTimeoutError) {
    responses.push(...local.reason.responses);
    gone += local.reason.disconnected;
    complete = false;
  } else throw local.reason;
  let answers: unknown[];
  if (remote.status === 'fulfilled') answers = remote.value;
  else if (remote.reason instanceof ClusterTimeoutError) {
    answers = remote.reason.answers;
    complete = false;
  } else throw remote.reason;
  for (const answer of answers) {
    if (!isAcksAnswer(answer)) continue;
    responses.push(...answer.responses);
    expected += answer.expected;
  }
  if (complete && responses.length === expected) return responses;
  throw new AcksTimeoutError(request.event, request.timeoutSeconds, responses, expected, gone);
}
