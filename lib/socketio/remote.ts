/**
 * Handlers in worker threads (the worker-pool mode), seen from both sides:
 * the main thread turns an invocation into plain data and applies the effects
 * that come back; the pool thread runs the handler with context functions that
 * post those effects.
 */
import {
  AcksTimeoutError,
  ConnectionRefusedError,
  SocketIOActorsError,
  UsageError,
} from '../errors.js';
import { postEffect, requestEffect } from '../../schedulers/worker-runtime.js';
import type { JobRunner } from '../../schedulers/worker-runtime.js';
import { runJob } from '../../schedulers/primitives.js';
import { Args, isArgs } from './args.js';
import { contextStorage } from './context.js';
import type { HandlerContext, HubOps, SocketView } from './context.js';
import type { AcksRequest, CallRequest, EmitRequest } from './emitter.js';
import type { BoundHandler, HandlerRegistry } from './registry.js';
import { mapEntries, newSession, setOwn } from './packets.js';
import type { HandshakeRequest, RequestInfo } from './socket.js';
import type { SocketSnapshot, SocketsTarget } from './sockets.js';

/**
 * Which kind of handler a job runs: a registered handler, an error handler, or a
 * namespace's connection (`use`) or event (`before`) middleware chain.
 */
export type RemoteKind = 'event' | 'connect' | 'disconnect' | 'error' | 'use' | 'before';

/** The route key a pool thread reports for what runs a job of this kind. */
export function routeKey(kind: RemoteKind, nsp: string, event: string): string {
  switch (kind) {
    case 'error':
      return `${nsp}\0!error`;
    case 'use':
      return `${nsp}\0!use`;
    case 'before':
      return `${nsp}\0!before`;
    default:
      return `${nsp}\0${event}`;
  }
}

/** An error as plain data. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly data?: unknown;
  readonly stack?: string;
  /** An `AcksTimeoutError`'s parts, so that its `responses` cross the thread too. */
  readonly acks?: ConstructorParameters<typeof AcksTimeoutError>;
}

/**
 * The parts of a client's handshake that never change, as plain data: every job of the
 * client shares them, so they cross to a pool thread once (the job's shared part, keyed
 * per socket) instead of with each job.
 */
export interface WireHandshake {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: RequestInfo['headers'];
  readonly query: RequestInfo['query'];
  readonly remoteAddress: string;
}

/** A handshake's HTTP login state as plain data: it may change, so each job carries it. */
export interface WireLogin {
  readonly session: unknown;
  readonly user: unknown;
}

/** One handler invocation as plain data (its handshake travels as its shared part). */
export interface RemoteRequest {
  readonly kind: RemoteKind;
  readonly nsp: string;
  /** Where the handlers are registered: `nsp`, or a dynamic namespace's pattern key. */
  readonly scope: string;
  readonly event: string;
  readonly args: unknown[];
  readonly sid: string;
  readonly auth: Record<string, unknown> | undefined;
  readonly recovered: boolean;
  /** Absent when the handshake has neither an HTTP session nor a user. */
  readonly login?: WireLogin;
  readonly session: Record<string, unknown>;
  readonly rooms: string[];
  readonly error?: WireError;
}

/** Pool thread: what `request()` gives a handler, from the job's handshake and login state. */
function requestInfoOf(
  handshake: WireHandshake | undefined,
  login: WireLogin | undefined,
): RequestInfo {
  const headers = handshake?.headers ?? {};
  return {
    http: {
      method: handshake?.method,
      url: handshake?.url,
      headers,
      session: login?.session,
      user: login?.user,
    } as HandshakeRequest,
    headers,
    query: handshake?.query ?? {},
    remoteAddress: handshake?.remoteAddress ?? '',
  };
}

/** What the pool thread answers. */
export type RemoteOutcome =
  | {
      readonly type: 'value';
      readonly value: unknown;
      readonly many: boolean;
      readonly session: Record<string, unknown>;
    }
  | { readonly type: 'throw'; readonly error: WireError; readonly session: Record<string, unknown> }
  | { readonly type: 'missing' };

/** An emit's event and targets as plain data. */
interface WireEmit {
  readonly nsp: string;
  readonly event: string;
  readonly args: unknown[];
  readonly to: string[] | null;
  readonly skip: string[];
  readonly except: string[] | null;
  readonly local: boolean;
  /** False: `compress(false)`. */
  readonly compress: boolean;
}

/** An effect a handler in a pool thread asks the main thread to apply. */
export type Effect =
  | (WireEmit & { readonly type: 'emit'; readonly volatile: boolean; readonly ack: boolean })
  | (WireEmit & { readonly type: 'emitWithAck'; readonly timeout: number })
  | {
      readonly type: 'call';
      readonly nsp: string;
      readonly event: string;
      readonly args: unknown[];
      readonly sid: string;
      readonly timeout: number;
    }
  | {
      readonly type: 'enterRoom' | 'leaveRoom';
      readonly sid: string;
      readonly room: string;
      readonly nsp: string;
    }
  | { readonly type: 'closeRoom'; readonly room: string; readonly nsp: string }
  | {
      readonly type: 'disconnect';
      readonly sid: string;
      readonly nsp: string;
      readonly close: boolean;
    }
  | {
      readonly type: 'fetchSockets';
      readonly nsp: string;
      readonly to: string[] | null;
      readonly except: string[] | null;
      readonly local: boolean;
    }
  | {
      readonly type: 'sockets';
      readonly nsp: string;
      readonly to: string[] | null;
      readonly except: string[] | null;
      readonly local: boolean;
      readonly op: 'join' | 'leave' | 'disconnect';
      readonly rooms: string[];
      readonly close: boolean;
    }
  | {
      readonly type: 'serverSide';
      readonly event: string;
      readonly args: unknown[];
      readonly ack: boolean;
      readonly timeout: number | null;
    };

/** Structured clone turns Buffers into Uint8Arrays: turn them back. */
export function revive<T>(value: T, depth = 0): T {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength) as T;
  }
  if (depth > 64 || value === null || typeof value !== 'object' || Buffer.isBuffer(value))
    return value;
  if (Array.isArray(value)) return value.map((v: unknown) => revive(v, depth + 1)) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return mapEntries(value, (v) => revive(v, depth + 1)) as T;
}

/** An error as plain data (no prototype survives a thread boundary). */
export function wireError(error: unknown): WireError {
  if (error instanceof ConnectionRefusedError) {
    return {
      name: 'ConnectionRefusedError',
      message: error.message,
      code: error.code,
      data: error.data,
    };
  }
  if (error instanceof AcksTimeoutError) {
    const { event, seconds, responses, expected, disconnected } = error;
    const acks = [event, seconds, responses, expected, disconnected] as const;
    return { name: error.name, message: error.message, code: error.code, acks: [...acks] };
  }
  if (error instanceof Error) {
    const code = error instanceof SocketIOActorsError ? error.code : undefined;
    return { name: error.name, message: error.message, code, stack: error.stack };
  }
  return { name: 'Error', message: String(error) };
}

/** Rebuilds an error from plain data; a ConnectionRefusedError stays one. */
export function reviveError(wire: WireError): Error {
  if (wire.name === 'ConnectionRefusedError')
    return new ConnectionRefusedError(wire.message, revive(wire.data));
  if (wire.acks !== undefined) {
    const [event, seconds, responses, expected, disconnected] = wire.acks;
    return new AcksTimeoutError(event, seconds, revive(responses), expected, disconnected);
  }
  const error =
    wire.code !== undefined
      ? new SocketIOActorsError(wire.code, wire.message)
      : new Error(wire.message);
  error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}

/** Replaces a session's contents with what the handler left (own keys only). */
function replaceSession(target: Record<string, unknown>, incoming: Record<string, unknown>): void {
  for (const key of Object.keys(target)) delete target[key];
  for (const [key, value] of Object.entries(revive(incoming))) setOwn(target, key, value);
}

/** Main thread: the job's final message becomes its result (or its error). */
export function settleOutcome(
  session: Record<string, unknown>,
  outcome: RemoteOutcome,
  runLocally: () => Promise<unknown>,
): unknown {
  if (outcome.type === 'missing') return runLocally();
  replaceSession(session, outcome.session);
  if (outcome.type === 'throw') throw reviveError(outcome.error);
  return outcome.many ? new Args(revive(outcome.value as unknown[])) : revive(outcome.value);
}

/** What the main thread answers an effect that waits for acks: the args, or the error. */
type AckAnswer = { ok: true; args: unknown[] } | { ok: false; error: WireError };

function settled(result: Promise<unknown[]>): Promise<AckAnswer> {
  return result.then(
    (args) => ({ ok: true, args }),
    (error: unknown) => ({ ok: false, error: wireError(error) }),
  );
}

/** The emit an `emit` or `emitWithAck` effect asks for. */
function emitRequestOf(effect: Extract<Effect, { type: 'emit' | 'emitWithAck' }>): EmitRequest {
  return {
    nsp: effect.nsp,
    event: effect.event,
    args: effect.args,
    to: effect.to ?? undefined,
    skip: new Set(effect.skip),
    except: effect.except ?? undefined,
    volatile: effect.type === 'emit' && effect.volatile,
    compress: effect.compress,
    ignoreQueue: effect.local,
  };
}

/** What applies the effects of pool threads: the main thread's Hub (its emit counts the targets). */
export type EffectTarget = Omit<HubOps, 'emit'> & { emit(request: EmitRequest): number };

/** Main thread: applies one effect from a pool thread; returns the answer for those that wait. */
export function applyEffect(hub: EffectTarget, raw: unknown): unknown {
  const effect = raw as Effect;
  switch (effect.type) {
    case 'emit': {
      const request = emitRequestOf(effect);
      if (!effect.ack) return void hub.emit(request);
      return new Promise((resolve) => {
        const callback = (...args: unknown[]): void => resolve(args);
        if (hub.emit({ ...request, callback }) === 0) resolve(null);
      });
    }
    case 'emitWithAck':
      return settled(hub.emitWithAck({ ...emitRequestOf(effect), timeoutSeconds: effect.timeout }));
    case 'call':
      return settled(
        hub.call({
          nsp: effect.nsp,
          event: effect.event,
          args: effect.args,
          sid: effect.sid,
          timeoutSeconds: effect.timeout,
        }),
      );
    case 'enterRoom':
      return hub.enterRoom(effect.sid, effect.room, effect.nsp);
    case 'leaveRoom':
      return hub.leaveRoom(effect.sid, effect.room, effect.nsp);
    case 'closeRoom':
      return hub.closeRoom(effect.room, effect.nsp);
    case 'disconnect':
      return hub.disconnect(effect.sid, effect.nsp, effect.close);
    case 'fetchSockets':
      return hub.fetchSockets(socketsTargetOf(effect));
    case 'sockets':
      return settled(
        hub
          .socketsOp(socketsTargetOf(effect), effect.op, effect.rooms, effect.close)
          .then(() => []),
      );
    case 'serverSide':
      return settled(
        hub.serverSideEmit(effect.event, effect.args, effect.ack, effect.timeout ?? undefined),
      );
  }
}

/** The target a `fetchSockets` or `sockets` effect names. */
function socketsTargetOf(
  effect: Extract<Effect, { type: 'fetchSockets' | 'sockets' }>,
): SocketsTarget {
  return {
    nsp: effect.nsp,
    to: effect.to ?? undefined,
    except: effect.except ?? undefined,
    local: effect.local,
  };
}

/** A target as an effect carries it. */
function wireSocketsTarget(
  target: SocketsTarget,
): Pick<Extract<Effect, { type: 'fetchSockets' }>, 'nsp' | 'to' | 'except' | 'local'> {
  return {
    nsp: target.nsp,
    to: target.to === undefined ? null : [...target.to],
    except: target.except === undefined ? null : [...target.except],
    local: target.local === true,
  };
}

/** Runs a post, turning a structured-clone failure into an error that names the fix. */
function cloneable<T>(post: () => T, what: string): T {
  const explain = (error: unknown): Error =>
    !(error instanceof Error)
      ? new Error(String(error))
      : error.name === 'DataCloneError'
        ? new UsageError(
            `${what} must survive structured clone to leave a worker thread (${error.message})`,
          )
        : error;
  try {
    const result = post();
    if (result instanceof Promise)
      return result.catch((error: unknown) => Promise.reject(explain(error))) as T;
    return result;
  } catch (error) {
    throw explain(error);
  }
}

/** The targets of an emit, and whether it may be compressed, as plain data. */
function targetsOf(
  request: EmitRequest,
): Pick<WireEmit, 'to' | 'skip' | 'except' | 'local' | 'compress'> {
  return {
    to: request.to === undefined ? null : [...request.to],
    skip: [...(request.skip ?? [])],
    except: request.except === undefined ? null : [...request.except],
    local: request.ignoreQueue === true,
    compress: request.compress !== false,
  };
}

/** Pool thread: the ack arguments the main thread answered, or the error it sent. */
function answerOf(raw: unknown): unknown[] {
  const answer = raw as AckAnswer;
  if (!answer.ok) throw reviveError(answer.error);
  return revive(answer.args);
}

/** Pool thread: context functions that post effects to the main thread. */
export class RemoteOps implements HubOps {
  constructor(
    private readonly own?: {
      readonly sid: string;
      readonly nsp: string;
      readonly rooms: Set<string>;
    },
    private readonly onCallbackError: (error: unknown) => void = () => undefined,
  ) {}

  emit(request: EmitRequest): void {
    const callback = request.callback;
    const ack = callback !== undefined && request.to?.length === 1;
    const effect: Effect = {
      type: 'emit',
      nsp: request.nsp,
      event: request.event,
      args: [...request.args],
      ...targetsOf(request),
      volatile: request.volatile === true,
      ack,
    };
    if (!ack) return cloneable(() => postEffect(effect), 'emit arguments');
    void cloneable(() => requestEffect(effect), 'emit arguments').then((args) => {
      if (Array.isArray(args) && callback !== undefined)
        this.runCallback('callback', () => callback(...revive(args as unknown[])));
    }, this.onCallbackError);
  }

  runCallback(_label: string, run: () => unknown): void {
    try {
      Promise.resolve(run()).catch(this.onCallbackError);
    } catch (error) {
      this.onCallbackError(error);
    }
  }

  async emitWithAck(request: AcksRequest): Promise<unknown[]> {
    const effect: Effect = {
      type: 'emitWithAck',
      nsp: request.nsp,
      event: request.event,
      args: [...request.args],
      ...targetsOf(request),
      timeout: request.timeoutSeconds,
    };
    return answerOf(await cloneable(() => requestEffect(effect), 'emitWithAck() arguments'));
  }

  async call(request: CallRequest): Promise<unknown[]> {
    const effect: Effect = {
      type: 'call',
      nsp: request.nsp,
      event: request.event,
      args: [...request.args],
      sid: request.sid,
      timeout: request.timeoutSeconds,
    };
    return answerOf(await cloneable(() => requestEffect(effect), 'call() arguments'));
  }

  enterRoom(sid: string, room: string, nsp: string): void {
    if (typeof room !== 'string' || room === '')
      throw new UsageError('joinRoom(): room must be a non-empty string');
    if (this.own?.sid === sid && this.own.nsp === nsp) this.own.rooms.add(room);
    postEffect({ type: 'enterRoom', sid, room, nsp } satisfies Effect);
  }

  leaveRoom(sid: string, room: string, nsp: string): void {
    if (this.own?.sid === sid && this.own.nsp === nsp) this.own.rooms.delete(room);
    postEffect({ type: 'leaveRoom', sid, room, nsp } satisfies Effect);
  }

  closeRoom(room: string, nsp: string): void {
    if (this.own?.nsp === nsp) this.own.rooms.delete(room);
    postEffect({ type: 'closeRoom', room, nsp } satisfies Effect);
  }

  roomsOf(sid: string, nsp: string): string[] {
    if (this.own?.sid === sid && this.own.nsp === nsp) return [...this.own.rooms];
    throw new UsageError(
      "rooms(): in worker-pool mode a handler can list only its own client's rooms in its own namespace",
    );
  }

  disconnect(sid: string, nsp: string, close = false): void {
    postEffect({ type: 'disconnect', sid, nsp, close } satisfies Effect);
  }

  async fetchSockets(target: SocketsTarget): Promise<SocketSnapshot[]> {
    const effect: Effect = { type: 'fetchSockets', ...wireSocketsTarget(target) };
    return revive((await requestEffect(effect)) as SocketSnapshot[]);
  }

  async socketsOp(
    target: SocketsTarget,
    op: 'join' | 'leave' | 'disconnect',
    rooms: readonly string[],
    close = false,
  ): Promise<void> {
    const effect: Effect = {
      type: 'sockets',
      ...wireSocketsTarget(target),
      op,
      rooms: [...rooms],
      close,
    };
    answerOf(await requestEffect(effect));
  }

  async serverSideEmit(
    event: string,
    args: readonly unknown[],
    ack: boolean,
    timeoutSeconds?: number,
  ): Promise<unknown[]> {
    const effect: Effect = {
      type: 'serverSide',
      event,
      args: [...args],
      ack,
      timeout: timeoutSeconds ?? null,
    };
    return answerOf(await cloneable(() => requestEffect(effect), 'serverSideEmit() arguments'));
  }
}

/** Pool thread: runs the jobs the main thread sends, with this thread's handlers. */
export function createRemoteRunner(
  registry: HandlerRegistry,
  onCallbackError: (error: unknown) => void,
): JobRunner {
  return {
    keys: () => registry.routeKeys(),
    async run(raw: unknown, shared: unknown): Promise<RemoteOutcome> {
      const request = raw as RemoteRequest;
      const args = revive(request.args);
      let body: BoundHandler | undefined;
      if (request.kind === 'error') {
        const handler = registry.errorHandler(request.scope);
        const error = reviveError(request.error ?? { name: 'Error', message: 'unknown error' });
        body = handler === undefined ? undefined : () => handler(error);
      } else if (request.kind === 'use') {
        body = registry.middlewareChain(request.scope);
      } else if (request.kind === 'before') {
        body = registry.eventMiddlewareChain(request.scope);
      } else {
        body = registry.find(request.scope, request.event);
      }
      if (body === undefined) return { type: 'missing' };
      // A session without a prototype, as on the main thread.
      const session = newSession();
      replaceSession(session, request.session);
      const socket: SocketView = {
        sid: request.sid,
        nsp: request.nsp,
        auth: revive(request.auth),
        request: requestInfoOf(shared as WireHandshake | undefined, request.login),
        session,
        recovered: request.recovered,
      };
      const ops = new RemoteOps(
        { sid: request.sid, nsp: request.nsp, rooms: new Set(request.rooms) },
        onCallbackError,
      );
      const ctx: HandlerContext = { hub: ops, socket, event: { message: request.event, args } };
      const run = body;
      try {
        const value = await runJob(
          () => contextStorage.run(ctx, () => run(args)),
          (fn) => contextStorage.run(ctx, fn),
          () => new Promise((resolve) => setImmediate(resolve)),
        );
        if (isArgs(value)) return { type: 'value', value: [...value.values], many: true, session };
        return { type: 'value', value, many: false, session };
      } catch (error) {
        return { type: 'throw', error: wireError(error), session };
      }
    },
  };
}
