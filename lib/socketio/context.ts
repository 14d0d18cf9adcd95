/**
 * The request context of a handler (AsyncLocalStorage, so it follows `await`)
 * and the context functions of Flask-SocketIO: `emit`, `send`, `joinRoom`,
 * `leaveRoom`, `closeRoom`, `rooms`, `disconnect`, `call`, `request`, `session`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ContextError, UsageError } from '../errors.js';
import { checkOptionNames } from '../option-names.js';
import { toArgs } from './args.js';
import type { AcksRequest, CallRequest, EmitRequest } from './emitter.js';
import type {
  CallResult,
  DeclaredServerToClient,
  EventNames,
  EventNamesWithAck,
  FlaskEmitRest,
  Session,
} from './event-maps.js';
import type { SocketOps, SocketSnapshot, SocketsTarget } from './sockets.js';
import { namespaceName } from './names.js';
import { handshakeOf } from './socket.js';
import type { HandshakeRequest, RequestInfo } from './socket.js';

/**
 * The operations context functions need: the main thread's Hub does them
 * directly; in a worker thread (worker-pool mode) they travel back as effects.
 */
export interface HubOps extends SocketOps {
  emit(request: EmitRequest): void;
  emitWithAck(request: AcksRequest): Promise<unknown[]>;
  call(request: CallRequest): Promise<unknown[]>;
  enterRoom(sid: string, room: string, nsp: string): void;
  leaveRoom(sid: string, room: string, nsp: string): void;
  closeRoom(room: string, nsp: string, ignoreQueue?: boolean): void;
  roomsOf(sid: string, nsp: string): string[];
  disconnect(sid: string, nsp: string, close?: boolean): void;
  fetchSockets(target: SocketsTarget): Promise<SocketSnapshot[]>;
  socketsOp(
    target: SocketsTarget,
    op: 'join' | 'leave' | 'disconnect',
    rooms: readonly string[],
    close?: boolean,
  ): Promise<void>;
  /**
   * A server-side event to the other processes; with `ack`, resolves with their answers
   * (within `timeoutSeconds`, or the queue's `requestTimeout`).
   */
  serverSideEmit(
    event: string,
    args: readonly unknown[],
    ack: boolean,
    timeoutSeconds?: number,
  ): Promise<unknown[]>;
  /** Runs an ack callback where callbacks run; its errors are logged, never thrown. */
  runCallback(label: string, run: () => unknown): void;
}

/** What a handler sees of its client. */
export interface SocketView {
  readonly sid: string;
  readonly nsp: string;
  readonly auth: Record<string, unknown> | undefined;
  readonly request: RequestInfo;
  readonly session: Record<string, unknown>;
  /** Whether it took back the session it had before losing its connection. */
  readonly recovered: boolean;
}

/** What a handler runs inside. */
export interface HandlerContext {
  readonly hub: HubOps;
  readonly socket: SocketView;
  readonly event: { readonly message: string; readonly args: readonly unknown[] };
}

/** @internal */
export const contextStorage = new AsyncLocalStorage<HandlerContext>();

function current(fn: string): HandlerContext {
  const ctx = contextStorage.getStore();
  if (ctx === undefined) throw new ContextError(fn);
  return ctx;
}

/** The namespace of the client whose event is being handled, if code runs inside a handler. */
export function currentNamespace(): string | undefined {
  return contextStorage.getStore()?.socket.nsp;
}

/** The sid of the client whose event is being handled, if code runs inside a handler. */
export function currentSid(): string | undefined {
  return contextStorage.getStore()?.socket.sid;
}

/** Whether code runs inside a handler's context. */
export function inHandler(): boolean {
  return contextStorage.getStore() !== undefined;
}

/**
 * Options of the context {@link emit}.
 *
 * @group Context functions
 */
export interface EmitOptions {
  /** Namespace to emit on; default the handler's. */
  namespace?: string;
  /**
   * Called with the client's ack arguments (an emit to the sender or to one sid). With
   * `timeout` it is called socket.io's way instead: `(err, ...ackArgs)` for the sender, and
   * `(err, responses)` with every addressed client's ack for `broadcast` / `to`.
   */
  // A method signature, so that a callback typed for its shape (`(err, responses) => …`) fits.
  callback?(...args: unknown[]): unknown;
  /**
   * Seconds to wait for the acks; then the callback gets an error first (`AcksTimeoutError`
   * with the `responses` that came, or `CallTimeoutError` for the sender). Needs `callback`.
   */
  timeout?: number;
  /** Send to every client of the namespace. */
  broadcast?: boolean;
  /** A room or rooms (a sid is a room); implies broadcast. */
  to?: string | readonly string[];
  /** Same as `to`. */
  room?: string | readonly string[];
  /** With a broadcast, include the sender (default true). */
  includeSelf?: boolean;
  /** A sid or sids not to send to. */
  skipSid?: string | readonly string[];
  /** Do not publish on the message queue (local clients only). */
  ignoreQueue?: boolean;
  /** False: never compressed (socket.io's `socket.compress(false)`). Default true. */
  compress?: boolean;
}

/**
 * Options of the context {@link send}.
 *
 * @group Context functions
 */
export interface SendOptions extends EmitOptions {
  /** Send as a `json` event instead of `message`. */
  json?: boolean;
}

/**
 * Target options naming a client and namespace.
 *
 * @group Context functions
 */
export interface TargetOptions {
  sid?: string;
  namespace?: string;
}

/** The option names of emit() (context and server). */
export const EMIT_OPTIONS: ReadonlySet<string> = new Set([
  'namespace',
  'callback',
  'timeout',
  'broadcast',
  'to',
  'room',
  'includeSelf',
  'skipSid',
  'ignoreQueue',
  'compress',
]);
/** The option names of send() (context and server). */
export const SEND_OPTIONS: ReadonlySet<string> = new Set([...EMIT_OPTIONS, 'json']);
const TARGET_OPTIONS = new Set(['sid', 'namespace']);
/** The option names of closeRoom() (context and server). */
export const CLOSE_ROOM_OPTIONS: ReadonlySet<string> = new Set(['namespace', 'ignoreQueue']);
/** The option names of call() (context and server). */
export const CALL_OPTIONS: ReadonlySet<string> = new Set(['to', 'namespace', 'timeout']);

function asList(value: string | readonly string[] | undefined): readonly string[] | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : value;
}

/**
 * Emits an event from inside a handler: to the client that sent the event, or
 * with `broadcast` / `to` to many. Several arguments: `args(...)`. The event and its data are
 * checked against {@link ServerToClientEvents} once an app declares it.
 *
 * @example
 * ```ts
 * io.on('chat', (msg: string) => { emit('chat', msg, { to: 'lobby', includeSelf: false }); });
 * ```
 *
 * @group Context functions
 */
export function emit<E extends EventNames<DeclaredServerToClient>>(
  event: E,
  ...rest: FlaskEmitRest<DeclaredServerToClient, E, EmitOptions>
): void;
export function emit(event: string, data?: unknown, options: EmitOptions = {}): void {
  emitAs('emit', event, data, options);
}

/** @internal The context `emit` for any event name (a Namespace's, `send`'s). */
export function emitAs(fn: string, event: string, data: unknown, options: EmitOptions): void {
  const ctx = current(fn);
  checkOptionNames(`${fn}()`, options, EMIT_OPTIONS);
  const nsp = options.namespace === undefined ? ctx.socket.nsp : namespaceName(options.namespace);
  const rooms = asList(options.to ?? options.room);
  const broadcast = options.broadcast === true || rooms !== undefined;
  const skip = new Set(asList(options.skipSid) ?? []);
  if (broadcast && options.includeSelf === false) skip.add(ctx.socket.sid);
  const request: EmitRequest = {
    nsp,
    event,
    args: toArgs(data),
    to: broadcast ? rooms : [ctx.socket.sid],
    skip,
    ignoreQueue: options.ignoreQueue === true,
    compress: options.compress,
  };
  if (options.timeout !== undefined)
    return emitWithTimeout(
      ctx.hub,
      request,
      options,
      broadcast ? undefined : ctx.socket.sid,
      `${fn}()`,
    );
  // Without a timeout a callback needs one client: the sender, or `to` naming a single sid.
  if (options.callback !== undefined && (options.broadcast === true || (rooms?.length ?? 1) > 1))
    throw new UsageError(
      `${fn}(): a callback on a broadcast needs { timeout: seconds }; it is then called once with (err, responses)`,
    );
  ctx.hub.emit({ ...request, callback: options.callback?.bind(options) });
}

/** socket.io's callback for the acks of many clients. */
export type AcksCallback = (error: Error | null, responses: unknown[]) => unknown;

/**
 * `emit(…, { timeout, callback })` (context and server): to one client (`sid`) the callback
 * gets `(err, ...ackArgs)`, else `(err, responses)` once every addressed client answered.
 */
export function emitWithTimeout(
  ops: HubOps,
  request: EmitRequest,
  options: Pick<EmitOptions, 'timeout' | 'callback'>,
  sid: string | undefined,
  fn = 'emit()',
): void {
  const { timeout: timeoutSeconds, callback } = options;
  if (typeof timeoutSeconds !== 'number' || !(timeoutSeconds > 0))
    throw new UsageError(
      `${fn}: timeout is a positive number of seconds, got ${String(timeoutSeconds)}`,
    );
  if (callback === undefined)
    throw new UsageError(
      `${fn}: { timeout } waits for acks, so it needs a callback to give them to`,
    );
  const run = callback.bind(options);
  if (sid === undefined) {
    settleAcks(ops, request.event, ops.emitWithAck({ ...request, timeoutSeconds }), run);
    return;
  }
  const label = `callback of ${request.event}`;
  ops.call({ ...request, sid, timeoutSeconds }).then(
    (args) =>
      ops.runCallback(
        label,
        inContext(() => run(null, ...args)),
      ),
    (error: unknown) =>
      ops.runCallback(
        label,
        inContext(() => run(asError(error))),
      ),
  );
}

/**
 * Calls `callback(err, responses)` once the acks settle (on a timeout, `err` is the
 * `AcksTimeoutError` and `responses` those that came), in the caller's handler context.
 */
export function settleAcks(
  ops: HubOps,
  event: string,
  acks: Promise<unknown[]>,
  callback: AcksCallback,
): void {
  const label = `callback of ${event}`;
  acks.then(
    (responses) =>
      ops.runCallback(
        label,
        inContext(() => callback(null, responses)),
      ),
    (error: unknown) => {
      const responses = (error as { responses?: unknown[] }).responses ?? [];
      ops.runCallback(
        label,
        inContext(() => callback(asError(error), responses)),
      );
    },
  );
}

/**
 * `fn`, bound to the handler context current now (a promise continuation still has it; a
 * scheduler's run queue would not), so that `emit()` works inside an ack callback.
 */
function inContext(fn: () => unknown): () => unknown {
  const store = contextStorage.getStore();
  return store === undefined ? fn : () => contextStorage.run(store, fn);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Sends an unnamed message (`message` event, or `json` with `{ json: true }`).
 *
 * @example
 * ```ts
 * io.on('message', (text: string) => send(`echo: ${text}`));
 * ```
 *
 * @group Context functions
 */
export function send(message: unknown, options: SendOptions = {}): void {
  current('send');
  checkOptionNames('send()', options, SEND_OPTIONS);
  const { json, ...rest } = options;
  emitAs('emit', json === true ? 'json' : 'message', message, rest);
}

/**
 * Puts a client (default: the current one) in a room.
 *
 * @example
 * ```ts
 * io.on('join', (room: string) => joinRoom(room));
 * ```
 *
 * @group Context functions
 */
export function joinRoom(room: string, options: TargetOptions = {}): void {
  const ctx = current('joinRoom');
  checkOptionNames('joinRoom()', options, TARGET_OPTIONS);
  ctx.hub.enterRoom(
    options.sid ?? ctx.socket.sid,
    room,
    namespaceName(options.namespace ?? ctx.socket.nsp),
  );
}

/**
 * Takes a client (default: the current one) out of a room.
 *
 * @example
 * ```ts
 * io.on('leave', (room: string) => leaveRoom(room));
 * ```
 *
 * @group Context functions
 */
export function leaveRoom(room: string, options: TargetOptions = {}): void {
  const ctx = current('leaveRoom');
  checkOptionNames('leaveRoom()', options, TARGET_OPTIONS);
  ctx.hub.leaveRoom(
    options.sid ?? ctx.socket.sid,
    room,
    namespaceName(options.namespace ?? ctx.socket.nsp),
  );
}

/**
 * Removes every client from a room.
 *
 * @example
 * ```ts
 * io.on('end game', (room: string) => closeRoom(room));
 * ```
 *
 * @group Context functions
 */
export function closeRoom(
  room: string,
  options: { namespace?: string; ignoreQueue?: boolean } = {},
): void {
  const ctx = current('closeRoom');
  checkOptionNames('closeRoom()', options, CLOSE_ROOM_OPTIONS);
  ctx.hub.closeRoom(
    room,
    namespaceName(options.namespace ?? ctx.socket.nsp),
    options.ignoreQueue === true,
  );
}

/**
 * The rooms a client (default: the current one) is in, its own sid room included.
 *
 * @example
 * ```ts
 * io.on('where', () => rooms()); // acks with the list
 * ```
 *
 * @group Context functions
 */
export function rooms(options: TargetOptions = {}): string[] {
  const ctx = current('rooms');
  checkOptionNames('rooms()', options, TARGET_OPTIONS);
  return ctx.hub.roomsOf(
    options.sid ?? ctx.socket.sid,
    namespaceName(options.namespace ?? ctx.socket.nsp),
  );
}

/**
 * Disconnects a client (default: the current one) from a namespace.
 *
 * @example
 * ```ts
 * io.on('bye', () => disconnect());
 * ```
 *
 * @group Context functions
 */
export function disconnect(options: TargetOptions = {}): void {
  const ctx = current('disconnect');
  checkOptionNames('disconnect()', options, TARGET_OPTIONS);
  ctx.hub.disconnect(
    options.sid ?? ctx.socket.sid,
    namespaceName(options.namespace ?? ctx.socket.nsp),
  );
}

/**
 * Options of the context {@link call}.
 *
 * @group Context functions
 */
export interface CallOptions {
  /** The client's sid (default: the one whose event is handled). */
  to?: string;
  namespace?: string;
  /** Seconds to wait for the ack (default 60). */
  timeout?: number;
}

/**
 * Emits to one client and waits for its acknowledgement; resolves with the ack
 * arguments, rejects on timeout (seconds, default 60) or disconnect. Typed by
 * {@link ServerToClientEvents} once an app declares it.
 *
 * @example
 * ```ts
 * io.on('ready', async () => { const [answer] = await call('question', 'why?'); });
 * ```
 *
 * @group Context functions
 */
export function call<E extends EventNamesWithAck<DeclaredServerToClient>>(
  event: E,
  ...rest: FlaskEmitRest<DeclaredServerToClient, E, CallOptions>
): Promise<CallResult<DeclaredServerToClient, E>>;
export function call(event: string, data?: unknown, options: CallOptions = {}): Promise<unknown[]> {
  return callAs(event, data, options);
}

/** @internal The context `call` for any event name (a Namespace's). */
export function callAs(event: string, data: unknown, options: CallOptions): Promise<unknown[]> {
  const ctx = current('call');
  checkOptionNames('call()', options, CALL_OPTIONS);
  return ctx.hub.call({
    nsp: namespaceName(options.namespace ?? ctx.socket.nsp),
    event,
    args: toArgs(data),
    sid: options.to ?? ctx.socket.sid,
    timeoutSeconds: options.timeout ?? 60,
  });
}

/**
 * What `request()` returns.
 *
 * @group Context functions
 */
export interface RequestSnapshot {
  readonly sid: string;
  readonly namespace: string;
  readonly event: { readonly message: string; readonly args: readonly unknown[] };
  readonly auth: Record<string, unknown> | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly query: Readonly<Record<string, string>>;
  readonly remoteAddress: string;
  /**
   * The handshake's HTTP request as the `io.engine.use()` middlewares left it:
   * `request().http.session` (express-session), `request().http.user` (passport).
   */
  readonly http: HandshakeRequest;
  /**
   * True when the client came back within `connectionStateRecovery`'s window and took its
   * session back: the same sid, its rooms, its `session()`, and the packets it missed were
   * sent. False for a fresh connection (socket.io's `socket.recovered`).
   */
  readonly recovered: boolean;
}

/**
 * The current event and the client that sent it.
 *
 * @example
 * ```ts
 * io.on('chat', () => console.log(request().sid, request().event.message));
 * io.on('connect', () => {
 *   if (!request().recovered) emit('welcome'); // a recovered client had it already
 * });
 * ```
 *
 * @group Context functions
 */
export function request(): RequestSnapshot {
  const { socket, event } = current('request');
  return {
    sid: socket.sid,
    namespace: socket.nsp,
    event,
    auth: socket.auth,
    headers: socket.request.headers,
    query: socket.request.query,
    remoteAddress: socket.request.remoteAddress,
    http: handshakeOf(socket.request),
    recovered: socket.recovered,
  };
}

/**
 * The client's session for this namespace: a plain object kept across its events. Its type is
 * {@link SessionData} once an app declares it, else `Record<string, unknown>`.
 *
 * @example
 * ```ts
 * io.on('login', (name: string) => { session().name = name; });
 * io.on('whoami', () => session().name);
 * ```
 *
 * @group Context functions
 */
export function session(): Session {
  // The session is whatever the app keeps in it; SessionData is the app's word for its shape.
  const data: object = current('session').socket.session;
  return data as Session;
}
