/**
 * Several processes sharing one set of clients through a message queue, in
 * python-socketio's pub/sub message format, so Python processes (Flask-SocketIO,
 * Celery workers) can share the channel:
 *
 *   { method: 'emit', event, data, namespace, room, skip_sid, callback, host_id }
 *   { method: 'callback', host_id, sid, namespace, id, args }
 *   { method: 'disconnect' | 'enter_room' | 'leave_room', sid, namespace, room? }
 *   { method: 'close_room', room, namespace }
 *
 * This server publishes JSON and reads JSON or pickles. Its own emits also carry
 * `parts`, the Socket.IO packet already encoded: a receiving process with no
 * target client stops after routing, one with targets writes the parts as they
 * are (a broadcast is encoded once for the whole cluster). Parts a msgpack server
 * encoded say so (`parser: 'msgpack'`; JSON parts carry no such key, so the JSON
 * messages are unchanged); a receiving process with the other parser reads the event
 * back from them and encodes it with its own (both parsers carry the same packet).
 *
 * Cluster queries and server-side events are this server's own methods, which
 * python-socketio skips (it ignores methods it does not know):
 *
 *   { method: 'sa_query', host_id, id, request, expires }  answered by every other server
 *                                                      process until `expires` (ms since 1970)
 *   { method: 'sa_answer', host_id, to, id, value }  one process's answer to query `id` of `to`
 *   { method: 'sa_event', host_id, request }          a serverSideEmit without acknowledgement
 *
 * With room-aware routing (`messageQueueOptions.routing: 'rooms'`), an emit to one
 * room (no ack, a room not named like a sid) goes on that room's route, which only the
 * processes with members in the room listen to (they start when the room gains its
 * first member here and stop when it loses its last); everything else stays on the
 * channel. Python processes listen to the channel only: they miss routed emits.
 */
import { createHash } from 'node:crypto';
import type { Scheduler, TimerHandle } from '../../schedulers/scheduler.js';
import {
  CallTimeoutError,
  ConnectionClosedError,
  DisconnectedError,
  NotDeliveredError,
} from '../errors.js';
import type { CallRequest, EmitRequest } from '../emit-requests.js';
import { PARSER_NAMES, containsBinary } from '../encoded-parts.js';
import type { EncodedParts, ParserName } from '../encoded-parts.js';
import type { Logger } from '../log.js';
import { mapEntries } from '../own-keys.js';
import { binaryReplacer, binaryReviver, isBinary } from './binary-json.js';
import { Deliveries } from './deliveries.js';
import { Queries } from './queries.js';
import { PyTuple, unpickle } from './pickle.js';
import { fulfilledWithin } from './queue.js';
import type { MessageQueue, QueueStats } from './queue.js';

/** What the bus needs from the local server (the Hub implements it). */
export interface LocalServer {
  /**
   * Writes pre-encoded parts (of `parser`'s format, re-encoded when the local server's
   * differs) to the local clients an emit reaches; returns how many.
   */
  writeParts(
    nsp: string,
    to: readonly string[] | undefined,
    skip: ReadonlySet<string>,
    parts: EncodedParts,
    parser: ParserName,
    except?: readonly string[],
    origin?: string,
  ): number;
  /** Emits to local clients only (never published again). */
  emitLocal(request: EmitRequest): number;
  isLocal(sid: string, nsp: string): boolean;
  enterRoom(sid: string, room: string, nsp: string): void;
  leaveRoom(sid: string, room: string, nsp: string): void;
  closeRoom(room: string, nsp: string, ignoreQueue?: boolean): void;
  disconnect(sid: string, nsp: string, close?: boolean): void;
  /** Answers another process's cluster query about this one (a value or a promise of one). */
  answer(request: ClusterRequest): unknown;
}

/** Which clients a cluster operation reaches, as it travels between processes. */
export interface WireTarget {
  readonly nsp: string;
  readonly to: readonly string[] | null;
  readonly except: readonly string[] | null;
}

/** What one process asks the others (each answers for its own clients). */
export type ClusterRequest =
  /** Its clients a target reaches, as socket snapshots. */
  | { readonly kind: 'fetch'; readonly target: WireTarget }
  /** socketsJoin / socketsLeave / disconnectSockets on its clients; answers how many. */
  | {
      readonly kind: 'sockets';
      readonly target: WireTarget;
      readonly op: 'join' | 'leave' | 'disconnect';
      readonly rooms: readonly string[];
      readonly close: boolean;
    }
  /** An emit that waits for every client's ack; answers `{ responses, expected }`. */
  | {
      readonly kind: 'acks';
      readonly target: WireTarget;
      readonly event: string;
      readonly args: readonly unknown[];
      readonly timeoutSeconds: number;
    }
  /** A server-side event for `io.onServerSide` handlers; answers the handler's value. */
  | { readonly kind: 'serverSide'; readonly event: string; readonly args: readonly unknown[] }
  /**
   * Connection state recovery: the session `pid` of namespace `nsp`, with what it missed after
   * `offset`; the process that keeps it answers with it (and forgets it), the others `null`.
   */
  | {
      readonly kind: 'recover';
      readonly pid: string;
      readonly nsp: string;
      readonly offset: string | null;
    };

/**
 * A queue's counters (see {@link QueueStats}) and the bus's own.
 *
 * @group Queues
 */
export interface BusStats extends QueueStats {
  /** Messages received that reached no local client (nor kept session). */
  readonly skipped: number;
  /** Whether the broker connections are up. */
  readonly connected: boolean;
  /** The other server processes on the channel, from their heartbeats. */
  readonly peers: number;
  /** Room routes this process listens to (0 without room-aware routing). */
  readonly routes: number;
}

/** A process's answer to an `acks` query. */
export interface AcksAnswer {
  readonly responses: unknown[];
  readonly expected: number;
}

/**
 * How long after its deadline a cluster query is still applied: the processes' clocks may
 * differ that much.
 */
const EXPIRY_SLACK_MS = 1000;

/** How long `flush()` (and so `stop()`) waits for the broker to take what was published. */
export const FLUSH_BOUND_SECONDS = 5;

/** A queue message as received (fields checked before use). */
interface Incoming {
  readonly method?: unknown;
  readonly event?: unknown;
  readonly data?: unknown;
  readonly namespace?: unknown;
  readonly room?: unknown;
  readonly skip_sid?: unknown;
  readonly callback?: unknown;
  readonly host_id?: unknown;
  readonly sid?: unknown;
  readonly id?: unknown;
  readonly args?: unknown;
  readonly parts?: unknown;
  readonly parser?: unknown;
  readonly close?: unknown;
  readonly except?: unknown;
  readonly origin?: unknown;
  readonly to?: unknown;
  readonly request?: unknown;
  readonly value?: unknown;
  readonly expires?: unknown;
}

/**
 * A room named like a sid (20 base64url characters, as socket.io, python-socketio and this
 * server make them) is never routed: a process would listen to a route per client. An emit to
 * it, or to an app's room that happens to look like one, goes on the channel.
 */
const SID_LIKE = /^[A-Za-z0-9_-]{20}$/;

const isRoutable = (room: string): boolean => !SID_LIKE.test(room);

/** A route's longest name (AMQP routing keys hold 255 bytes); longer ones are hashed. */
const MAX_ROUTE_BYTES = 200;

/** The route of a room: `<nsp>#<room>`, or a hash of it when that is too long for a broker. */
function routeOf(nsp: string, room: string): string {
  const route = `${nsp}#${room}`;
  if (Buffer.byteLength(route) <= MAX_ROUTE_BYTES) return route;
  return `#sha1:${createHash('sha1').update(route).digest('hex')}`;
}

/**
 * Python ints past 2^53 arrive as BigInts; on the wire they are JSON numbers, which a
 * client reads as the nearest double anyway: send that.
 */
function jsonNumbers(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (depth > 64 || value === null || typeof value !== 'object' || isBinary(value)) return value;
  if (value instanceof PyTuple) return PyTuple.from(value.map((v) => jsonNumbers(v, depth + 1)));
  if (Array.isArray(value)) return value.map((v: unknown) => jsonNumbers(v, depth + 1));
  return mapEntries(value, (v) => jsonNumbers(v, depth + 1));
}

function list(rooms: unknown): string[] | undefined {
  if (typeof rooms === 'string') return [rooms];
  if (Array.isArray(rooms) && rooms.every((r) => typeof r === 'string')) return rooms;
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function readTarget(value: unknown): WireTarget | undefined {
  if (!isObject(value) || typeof value.nsp !== 'string') return undefined;
  const to = value.to === null ? null : list(value.to);
  const except = value.except === null ? null : list(value.except);
  if (to === undefined || except === undefined) return undefined;
  return { nsp: value.nsp, to, except };
}

/** A cluster request as received, checked field by field (undefined when malformed). */
function readRequest(value: unknown): ClusterRequest | undefined {
  if (!isObject(value)) return undefined;
  const args = Array.isArray(value.args) ? (jsonNumbers(value.args) as unknown[]) : undefined;
  switch (value.kind) {
    case 'fetch': {
      const target = readTarget(value.target);
      return target && { kind: 'fetch', target };
    }
    case 'sockets': {
      const target = readTarget(value.target);
      const rooms = list(value.rooms);
      const op = value.op;
      if (target === undefined || rooms === undefined) return undefined;
      if (op !== 'join' && op !== 'leave' && op !== 'disconnect') return undefined;
      return { kind: 'sockets', target, op, rooms, close: value.close === true };
    }
    case 'acks': {
      const target = readTarget(value.target);
      const seconds = value.timeoutSeconds;
      if (target === undefined || typeof value.event !== 'string' || args === undefined)
        return undefined;
      if (typeof seconds !== 'number' || !(seconds > 0)) return undefined;
      return { kind: 'acks', target, event: value.event, args, timeoutSeconds: seconds };
    }
    case 'serverSide':
      if (typeof value.event !== 'string' || args === undefined) return undefined;
      return { kind: 'serverSide', event: value.event, args };
    case 'recover': {
      const { pid, nsp, offset } = value;
      if (typeof pid !== 'string' || typeof nsp !== 'string') return undefined;
      if (offset !== null && typeof offset !== 'string') return undefined;
      return { kind: 'recover', pid, nsp, offset };
    }
    default:
      return undefined;
  }
}

/**
 * The bridge between one server and the queue.
 *
 * @example
 * ```ts
 * const bus = new PubSub(queue, scheduler, logger);
 * bus.attach(hub);
 * await bus.listen();
 * ```
 */
export class PubSub {
  /** Identifies this process on the channel (python-socketio's host_id). */
  readonly hostId: string;
  #local: LocalServer | undefined;
  readonly #callbacks = new Map<
    number,
    { resolve(args: unknown[]): void; reject?: (error: Error) => void; timer?: TimerHandle }
  >();
  #nextCallbackId = 1;
  #listening: Promise<void> | undefined;
  readonly #deliveries: Deliveries;
  readonly #queries: Queries;
  #closed = false;
  /** Messages received that had no local target (routed, never decoded further). */
  skipped = 0;
  /** With routing: the routes listened to, with how many rooms hold each. */
  readonly #held = new Map<string, number>();
  /** Route changes the broker has not confirmed yet (see {@link flush}). */
  readonly #subscribing = new Set<Promise<void>>();

  constructor(
    private readonly queue: MessageQueue,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    /** The format of the parts this process publishes (the server's `parser`). */
    private readonly parser: ParserName = 'json',
    /** How long a cluster query waits for answers unless it says otherwise. */
    readonly requestTimeoutMs = 5000,
    /** Room-aware routing: see the file's comment. */
    readonly routing = false,
  ) {
    this.#deliveries = new Deliveries(scheduler.clock);
    this.#queries = new Queries(scheduler.clock);
    this.hostId = queue.id;
    queue.onPeerGone((id) => this.#queries.gone(id));
  }

  /** How many other server processes share the channel (from their heartbeats). */
  get peers(): number {
    return this.queue.peers().length;
  }

  /**
   * Asks every other live server process; resolves with their answers (one each, in arrival
   * order) once all answered or left, rejects with `ClusterTimeoutError` after `timeoutMs`.
   * `operation` names the call in that error. A process that only listens since after the
   * query began is not waited for; with none to ask, it resolves with `[]` and sends nothing.
   * Never throws: a request that cannot be sent (not JSON-serializable) rejects.
   */
  ask(
    request: ClusterRequest,
    operation: string,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<unknown[]> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError('server shutdown'));
    return this.#queries.ask(operation, this.queue.peers(), timeoutMs, (id) =>
      // Its deadline (wall clock): a process that reads it later (RabbitMQ keeps it in the queue
      // of a process that was away) does not apply what nobody waits for any more.
      this.#publish(
        { method: 'sa_query', id, request, expires: Date.now() + timeoutMs },
        binaryReplacer,
      ),
    );
  }

  /** Tells every other server process, waiting for no answer (`serverSideEmit`); throws what cannot be sent. */
  tell(request: ClusterRequest): void {
    this.#publish({ method: 'sa_event', request }, binaryReplacer);
  }

  /**
   * A room of this process gained its first member (`present`) or lost its last: with
   * routing, its route is listened to while some room holds it. (The rooms of connected
   * clients and those of sessions kept for recovery both count.)
   */
  roomChanged(nsp: string, room: string, present: boolean): void {
    if (!this.routing || !isRoutable(room)) return;
    const route = routeOf(nsp, room);
    const holders = (this.#held.get(route) ?? 0) + (present ? 1 : -1);
    if (holders > 0) this.#held.set(route, holders);
    else this.#held.delete(route);
    if (present ? holders !== 1 : holders !== 0) return;
    const change = this.queue.listenTo(route, present);
    this.#subscribing.add(change);
    void change.finally(() => this.#subscribing.delete(change));
  }

  /** The local server that received messages apply to. */
  attach(local: LocalServer): void {
    this.#local = local;
  }

  /** Subscribes (once); until then this process only publishes (an external emitter). */
  listen(): Promise<void> {
    this.#listening ??= this.queue.subscribe((payload) => this.#receive(payload));
    return this.#listening;
  }

  get stats(): BusStats {
    return {
      ...this.queue.stats,
      skipped: this.skipped,
      connected: this.queue.connected,
      peers: this.peers,
      routes: this.#held.size,
    };
  }

  #publish(
    message: Record<string, unknown>,
    replacer?: (this: unknown, key: string, value: unknown) => unknown,
    route?: string,
  ): void {
    this.#send(this.#encode(message, replacer), route);
  }

  /** A message as JSON, with this process's host_id unless it names another; throws what JSON cannot hold. */
  #encode(
    message: Record<string, unknown>,
    replacer?: (this: unknown, key: string, value: unknown) => unknown,
  ): string {
    return JSON.stringify({ ...message, host_id: message.host_id ?? this.hostId }, replacer);
  }

  #send(payload: string, route?: string): void {
    // A loss is counted and logged by the queue (once per outage, not once per message).
    this.#deliveries.track(
      route === undefined ? this.queue.publish(payload) : this.queue.publishTo(route, payload),
    );
  }

  /**
   * Resolves once the broker took everything published before the call, and (with routing)
   * has every route this process listens to; rejects with {@link NotDeliveredError} counting
   * what it did not take, within FLUSH_BOUND_SECONDS.
   */
  async flush(): Promise<void> {
    const bound = FLUSH_BOUND_SECONDS * 1000;
    const [, undelivered] = await Promise.all([
      this.#subscribing.size === 0 ||
        fulfilledWithin(this.scheduler.clock, Promise.all(this.#subscribing), bound),
      this.#deliveries.flush(bound),
    ]);
    if (undelivered > 0) throw new NotDeliveredError(undelivered, FLUSH_BOUND_SECONDS);
  }

  /** Publishes an emit. With `onAck`, the emit names one client and its ack comes back here. */
  publishEmit(
    request: EmitRequest,
    parts: EncodedParts | undefined,
    onAck?: (args: unknown[]) => void,
    timer?: TimerHandle,
    onClose?: (error: Error) => void,
  ): number | undefined {
    const args = request.args;
    const binary = args.some((a) => containsBinary(a));
    let callback: [string, string, number] | null = null;
    let id: number | undefined;
    if (onAck !== undefined && request.to?.length === 1) {
      id = this.#nextCallbackId++;
      callback = [request.to[0] as string, request.nsp, id];
      this.#callbacks.set(id, { resolve: onAck, timer, reject: onClose });
    }
    const room = request.to?.length === 1 ? request.to[0] : undefined;
    const route =
      this.routing && callback === null && room !== undefined && isRoutable(room)
        ? routeOf(request.nsp, room)
        : undefined;
    this.#publish(
      {
        method: 'emit',
        event: request.event,
        // What a Python server hands its clients: one argument as is, several as one list.
        data: binary ? null : args.length === 1 ? args[0] : args,
        namespace: request.nsp,
        room:
          request.to === undefined
            ? null
            : request.to.length === 1
              ? request.to[0]
              : [...request.to],
        skip_sid: request.skip === undefined || request.skip.size === 0 ? null : [...request.skip],
        // Rooms whose members every process skips (`except`); python-socketio ignores the key.
        except:
          request.except === undefined || request.except.length === 0
            ? undefined
            : [...request.except],
        callback,
        parts: parts?.map((p) => (typeof p === 'string' ? p : p.toString('base64'))),
        parser: parts === undefined || this.parser === 'json' ? undefined : this.parser,
        args: callback !== null || parts === undefined ? args : undefined,
        origin: request.origin,
      },
      binaryReplacer,
      route,
    );
    return id;
  }

  /** Publishes an emit to one client elsewhere and waits for its ack (rejects after the timeout). */
  call(request: CallRequest): Promise<unknown[]> {
    return new Promise<unknown[]>((resolve, reject) => {
      const pending: { id?: number } = {};
      const timer = this.scheduler.clock.setTimeout(() => {
        if (pending.id !== undefined) this.#callbacks.delete(pending.id);
        reject(new CallTimeoutError(request.event, request.timeoutSeconds));
      }, request.timeoutSeconds * 1000);
      pending.id = this.publishEmit(
        { nsp: request.nsp, event: request.event, args: request.args, to: [request.sid] },
        undefined,
        resolve,
        timer,
        reject,
      );
    });
  }

  publishDisconnect(sid: string, nsp: string, close = false): void {
    // `close` (the whole connection) is this server's addition; python-socketio ignores it.
    this.#publish({ method: 'disconnect', sid, namespace: nsp, ...(close ? { close } : {}) });
  }

  publishRoom(method: 'enter_room' | 'leave_room', sid: string, room: string, nsp: string): void {
    this.#publish({ method, sid, room, namespace: nsp });
  }

  publishCloseRoom(room: string, nsp: string): void {
    this.#publish({ method: 'close_room', room, namespace: nsp });
  }

  #decode(payload: Buffer): Incoming | undefined {
    try {
      const value =
        payload[0] === 0x80
          ? unpickle(payload)
          : (JSON.parse(payload.toString('utf8'), binaryReviver) as unknown);
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? value
        : undefined;
    } catch (error) {
      this.logger.debug('ignored an unreadable queue message:', error);
      return undefined;
    }
  }

  #receive(payload: Buffer): void {
    const local = this.#local;
    const message = this.#decode(payload);
    if (local === undefined || message === undefined) return;
    const nsp = typeof message.namespace === 'string' ? message.namespace : '/';
    const fromHere = message.host_id === this.hostId;
    try {
      switch (message.method) {
        case 'emit':
          if (!fromHere) this.#receiveEmit(local, message, nsp);
          return;
        case 'callback':
          if (fromHere) this.#receiveCallback(message);
          return;
        case 'disconnect':
          if (typeof message.sid === 'string' && local.isLocal(message.sid, nsp))
            local.disconnect(message.sid, nsp, message.close === true);
          return;
        case 'enter_room':
        case 'leave_room':
          if (
            typeof message.sid !== 'string' ||
            typeof message.room !== 'string' ||
            !local.isLocal(message.sid, nsp)
          )
            return;
          if (message.method === 'enter_room') local.enterRoom(message.sid, message.room, nsp);
          else local.leaveRoom(message.sid, message.room, nsp);
          return;
        case 'close_room':
          if (!fromHere && typeof message.room === 'string')
            local.closeRoom(message.room, nsp, true);
          return;
        case 'sa_query':
        case 'sa_event':
          if (!fromHere) this.#receiveRequest(local, message);
          return;
        case 'sa_answer':
          if (
            message.to === this.hostId &&
            typeof message.id === 'number' &&
            typeof message.host_id === 'string'
          )
            this.#queries.answer(message.id, message.host_id, message.value);
          return;
      }
    } catch (error) {
      this.logger.warn(`a "${String(message.method)}" queue message could not be applied:`, error);
    }
  }

  /** Another process's query or server-side event: answered (a query) once it is applied. */
  #receiveRequest(local: LocalServer, message: Incoming): void {
    const request = readRequest(message.request);
    if (request === undefined) {
      this.logger.debug(`ignored a malformed "${String(message.method)}" queue message`);
      return;
    }
    const origin = message.host_id;
    const id = message.id;
    if (typeof message.expires === 'number' && Date.now() > message.expires + EXPIRY_SLACK_MS) {
      this.logger.debug(
        `ignored a cluster ${request.kind} request from host ${String(origin)} that expired before it arrived`,
      );
      return;
    }
    const answering =
      message.method === 'sa_query' && typeof origin === 'string' && typeof id === 'number';
    const reply = (value: unknown): void => {
      if (!answering) return;
      const answer = { method: 'sa_answer', to: origin, id };
      try {
        this.#publish({ ...answer, value: value ?? null }, binaryReplacer);
      } catch (error) {
        // Not JSON (a BigInt, a cycle): the asker gets null rather than waiting for its timeout.
        this.logger.error(
          `the answer to a cluster ${request.kind} request from host ${String(origin)} cannot be sent:`,
          error,
        );
        this.#publish({ ...answer, value: null });
      }
    };
    const failed = (error: unknown): void => {
      this.logger.error(
        `a cluster ${request.kind} request from host ${String(origin)} failed:`,
        error,
      );
      reply(null);
    };
    let value: unknown;
    try {
      value = local.answer(request);
    } catch (error) {
      return failed(error);
    }
    if (value instanceof Promise) value.then(reply, failed);
    else reply(value);
  }

  #receiveEmit(local: LocalServer, message: Incoming, nsp: string): void {
    if (typeof message.event !== 'string') return;
    const to = list(message.room);
    const skip = new Set(list(message.skip_sid) ?? []);
    const except = list(message.except);
    const callback = message.callback;
    if (Array.isArray(callback) && callback.length === 3) {
      const [sid, , id] = callback as [unknown, unknown, unknown];
      if (typeof sid !== 'string' || typeof id !== 'number' || !local.isLocal(sid, nsp))
        return void this.skipped++;
      const origin = message.host_id;
      local.emitLocal({
        nsp,
        event: message.event,
        args: this.#args(message),
        to: [sid],
        callback: (...args: unknown[]) =>
          this.#publish(
            { method: 'callback', host_id: origin, sid, namespace: nsp, id, args },
            binaryReplacer,
          ),
      });
      return;
    }
    const parts = message.parts;
    const parser = message.parser ?? 'json';
    if (
      Array.isArray(parts) &&
      parts.length > 0 &&
      parts.every((p) => typeof p === 'string') &&
      (PARSER_NAMES as readonly unknown[]).includes(parser)
    ) {
      // JSON parts are the packet's text, then its attachments; msgpack parts are all binary.
      const firstBinary = parser === 'json' ? 1 : 0;
      const encoded = parts.map((p, i) => (i < firstBinary ? p : Buffer.from(p, 'base64')));
      const origin = typeof message.origin === 'string' ? message.origin : undefined;
      if (local.writeParts(nsp, to, skip, encoded, parser as ParserName, except, origin) === 0)
        this.skipped++;
      return;
    }
    const args = this.#args(message);
    if (local.emitLocal({ nsp, event: message.event, args, to, skip, except }) === 0)
      this.skipped++;
  }

  #args(message: Incoming): unknown[] {
    if (Array.isArray(message.args)) return jsonNumbers(message.args) as unknown[];
    const data = jsonNumbers(message.data);
    // A Python tuple is several arguments; anything else is one.
    if (data instanceof PyTuple) return [...data];
    return data === undefined || data === null ? [] : [data];
  }

  #receiveCallback(message: Incoming): void {
    if (typeof message.id !== 'number') return;
    const waiter = this.#callbacks.get(message.id);
    if (waiter === undefined) return;
    this.#callbacks.delete(message.id);
    if (waiter.timer !== undefined) this.scheduler.clock.clearTimeout(waiter.timer);
    const args = message.args;
    waiter.resolve(Array.isArray(args) ? [...(jsonNumbers(args) as unknown[])] : []);
  }

  /**
   * Rejects pending cross-process calls, flushes, then closes the broker connections (also
   * when the flush rejects, with its error).
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queries.close('server shutdown');
    for (const waiter of this.#callbacks.values()) {
      if (waiter.timer !== undefined) this.scheduler.clock.clearTimeout(waiter.timer);
      waiter.reject?.(new DisconnectedError('server shutdown'));
    }
    this.#callbacks.clear();
    try {
      await this.flush();
    } finally {
      await this.queue.close();
    }
  }
}
