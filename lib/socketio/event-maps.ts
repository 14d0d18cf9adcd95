/**
 * Typed events: socket.io's event maps (an interface from event names to listener signatures)
 * turned into the types of handlers, emits and acks; and the interfaces an app augments to
 * type the context functions (`emit`, `call`, `session()`), which see no server's generics.
 *
 * A listener signature is socket.io's: `(a: A, b: B, ack: (res: R) => void) => void`. The
 * trailing function parameter is the ack callback; a handler here returns the ack value
 * instead of calling it (`R | Promise<R>`; several ack arguments: `Args<[R1, R2]>` from
 * `ack(r1, r2)`).
 */
import type { Args } from './args.js';

/**
 * The events a client sends, for the context functions and for `new SocketIO()` without type
 * arguments. Empty (any event name, any arguments) until an app augments it.
 *
 * @example
 * ```ts
 * declare module 'socketio-actors' {
 *   interface ClientToServerEvents {
 *     chat: (text: string) => void;
 *     add: (a: number, b: number, ack: (sum: number) => void) => void;
 *   }
 * }
 * ```
 *
 * @group Typed events
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- apps augment it
export interface ClientToServerEvents {}

/**
 * The events the server sends, for the context functions (`emit`, `call`) and for
 * `new SocketIO()` without type arguments. Empty (any event, any arguments) until augmented.
 *
 * @example
 * ```ts
 * declare module 'socketio-actors' {
 *   interface ServerToClientEvents {
 *     chat: (text: string, from: string) => void;
 *   }
 * }
 * ```
 *
 * @group Typed events
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- apps augment it
export interface ServerToClientEvents {}

/**
 * The events servers send one another (socket.io's `serverSideEmit`). Not used yet: the
 * cross-process calls that need it come in a later version; `SocketIO`'s third type argument
 * is kept in socket.io's place for them.
 *
 * @group Typed events
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- apps augment it
export interface ServerSideEvents {}

/**
 * What `session()` holds, for the context function `session()` and for `new SocketIO()`
 * without type arguments. Until augmented, the session is a `Record<string, unknown>`. Declare a
 * key optional unless a middleware or the connect handler always sets it: a session starts
 * empty (or as a copy of the web session's data).
 *
 * @example
 * ```ts
 * declare module 'socketio-actors' {
 *   interface SessionData {
 *     user?: string;
 *     count?: number;
 *   }
 * }
 * ```
 *
 * @group Typed events
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- apps augment it
export interface SessionData {}

/**
 * The event map of an untyped server: any event name, any arguments (socket.io's
 * `DefaultEventsMap`). Handlers take whatever parameters they declare.
 *
 * @example
 * ```ts
 * // Only the server's emits typed: any event from clients, their handlers annotated.
 * const io = new SocketIO<DefaultEventsMap, ServerToClient>();
 * ```
 *
 * @group Typed events
 */
export interface DefaultEventsMap {
  [event: string]: (...args: unknown[]) => unknown;
}

/**
 * A listener signature of an event map.
 *
 * @group Typed events
 */
export type Listener = (...args: never[]) => unknown;

/**
 * An event map: event names to listener signatures (see {@link ClientToServerEvents}).
 *
 * @group Typed events
 */
export type EventsMap<M> = { [E in keyof M]: Listener };

/** An augmentable interface as it is, or `Fallback` while nothing was declared in it. */
type Declared<T, Fallback> = [keyof T] extends [never] ? Fallback : T;

/**
 * The client's events of an untyped `SocketIO`: {@link ClientToServerEvents}, if declared.
 *
 * @group Typed events
 */
export type DeclaredClientToServer = Declared<ClientToServerEvents, DefaultEventsMap>;
/**
 * The server's events of an untyped `SocketIO`: {@link ServerToClientEvents}, if declared.
 *
 * @group Typed events
 */
export type DeclaredServerToClient = Declared<ServerToClientEvents, DefaultEventsMap>;
/**
 * The servers' events of an untyped `SocketIO`: {@link ServerSideEvents}, if declared.
 *
 * @group Typed events
 */
export type DeclaredServerSide = Declared<ServerSideEvents, DefaultEventsMap>;
/**
 * The session of an untyped `SocketIO` and of `session()`: {@link SessionData}, if declared.
 *
 * @group Typed events
 */
export type Session = Declared<SessionData, Record<string, unknown>>;

/** Whether a map names its events (false for {@link DefaultEventsMap}: any name goes). */
type Typed<M> = string extends keyof M ? false : true;

/**
 * The event names of a map (any string for an untyped one).
 *
 * @group Typed events
 */
export type EventNames<M> = Typed<M> extends true ? keyof M & string : string;

/** The parameters of event `E`'s listener. */
type Params<M, E> = E extends keyof M
  ? M[E] extends (...args: infer P) => unknown
    ? P
    : never
  : never;

/** A tuple split before its last element when that is a function (the ack callback). */
type SplitLast<P> = P extends [...infer A, (...answer: infer R) => unknown]
  ? { args: A; ack: R }
  : undefined;

/** The event's arguments and its ack callback's (`never`: no ack); the callback may be optional. */
type SplitAck<P extends unknown[]> =
  SplitLast<P> extends { args: infer A extends unknown[]; ack: infer R extends unknown[] }
    ? { args: A; ack: R }
    : SplitLast<Required<P>> extends {
          args: infer A extends unknown[];
          ack: infer R extends unknown[];
        }
      ? { args: A; ack: R }
      : { args: P; ack: never };

/**
 * The arguments of event `E`, without its ack callback (`unknown[]` in an untyped map).
 *
 * @group Typed events
 */
export type EventArgs<M, E> = Typed<M> extends true ? SplitAck<Params<M, E>>['args'] : unknown[];

/**
 * The arguments of event `E`'s ack callback: `never` when the event has none; `unknown[]` in an
 * untyped map.
 *
 * @group Typed events
 */
export type AckArgs<M, E> = Typed<M> extends true ? SplitAck<Params<M, E>>['ack'] : unknown[];

/**
 * The names of the events that have an ack callback (any string for an untyped map).
 *
 * @group Typed events
 */
export type EventNamesWithAck<M> =
  Typed<M> extends true
    ? { [E in keyof M & string]: [AckArgs<M, E>] extends [never] ? never : E }[keyof M & string]
    : string;

/**
 * The first ack argument of event `E` (what `emitWithAck` resolves with, per client).
 *
 * @group Typed events
 */
export type AckValue<M, E> =
  Typed<M> extends true
    ? AckArgs<M, E> extends readonly [infer First, ...unknown[]]
      ? First
      : undefined
    : unknown;

/**
 * What a handler returns to ack event `E`: nothing when it has no ack callback (a value is
 * dropped), its one argument, or `Args` of several (`ack(a, b)`); or a promise of it.
 */
type AckReturn<A> = [A] extends [never]
  ? void
  : A extends readonly []
    ? void
    : A extends readonly [infer One]
      ? One | Args<[One]> | Promise<One | Args<[One]>>
      : A extends readonly unknown[]
        ? Args<A> | Promise<Args<A>>
        : void;

/**
 * What a handler is: it takes the event's arguments and returns its ack.
 *
 * @example
 * ```ts
 * const add: EventHandlerOf<ClientToServer, 'add'> = (a, b) => a + b; // written apart
 * io.on('add', add);
 * ```
 *
 * @group Typed events
 */
export type EventHandlerOf<M, E> = (...args: EventArgs<M, E>) => AckReturn<AckArgs<M, E>>;

/**
 * The handler `io.onServerSide(event, handler)` takes: in a typed `ServerSide` map, the event's
 * arguments, returning its ack (the answer to `serverSideEmitWithAck`); in an untyped one, any
 * function.
 *
 * @group Typed events
 */
export type ServerSideHandler<M, E> = Typed<M> extends true ? EventHandlerOf<M, E> : Listener;

/**
 * What `io.on` registers for: the map's events, the lifecycle events and the catch-all `'*'`.
 *
 * @group Typed events
 */
export type OnEventNames<M> = EventNames<M> | 'connect' | 'disconnect' | '*';

/**
 * The handler `io.on(event, handler)` takes: in a typed map, `connect` gets the client's `auth`,
 * `disconnect` the reason, `'*'` the event name and its arguments, and a map's event its
 * arguments (returning its ack); in an untyped map, any function.
 *
 * @group Typed events
 */
export type OnHandler<M, E> =
  Typed<M> extends true
    ? E extends 'connect'
      ? (auth: Record<string, unknown> | undefined) => unknown
      : E extends 'disconnect'
        ? (reason: string) => unknown
        : E extends '*'
          ? (event: string, ...args: unknown[]) => unknown
          : EventHandlerOf<M, E>
    : Listener;

/**
 * One data argument of a Flask-style emit (`emit(event, data, options)`): nothing, the one
 * argument, or `args(a, b)` for several.
 */
type EmitData<A extends readonly unknown[]> = A extends readonly []
  ? undefined
  : A extends readonly [infer One]
    ? One | Args<A>
    : A extends readonly [(infer One)?]
      ? One | undefined | Args<A>
      : Args<A>;

/**
 * Options whose `callback`, if they have one, takes event `E`'s ack arguments (none without an
 * ack). Without `timeout`: with it the callback would take socket.io's `(err, …)` shapes, which
 * the typed operators give (`io.to(r).timeout(s).emit(event, …args, (err, responses) => …)`).
 */
type WithCallback<O, M, E> = 'callback' extends keyof O
  ? Omit<O, 'callback' | 'timeout'> & {
      callback?: [AckArgs<M, E>] extends [never]
        ? undefined
        : (...answer: AckArgs<M, E>) => unknown;
    }
  : O;

/**
 * The arguments after the event name of a Flask-style emit (`emit(event, data, options)`):
 * optional data when the event takes no arguments or only optional ones.
 *
 * @group Typed events
 */
export type FlaskEmitRest<M, E, O> =
  Typed<M> extends true
    ? [] extends EventArgs<M, E>
      ? [data?: EmitData<EventArgs<M, E>>, options?: WithCallback<O, M, E>]
      : [data: EmitData<EventArgs<M, E>>, options?: WithCallback<O, M, E>]
    : [data?: unknown, options?: O];

/**
 * What a Flask-style call (`call(event, data, options)`) resolves with: the ack's arguments.
 *
 * @group Typed events
 */
export type CallResult<M, E> = Typed<M> extends true ? AckArgs<M, E> : unknown[];

/**
 * The arguments of socket.io's emit (`op.emit(event, ...args)`): the event's arguments, and for
 * an event with an ack a last `(err, responses)` callback if wanted.
 *
 * @group Typed events
 */
export type OperatorEmitArgs<M, E> =
  Typed<M> extends true
    ? [AckArgs<M, E>] extends [never]
      ? EventArgs<M, E>
      : | EventArgs<M, E>
        | [...EventArgs<M, E>, (error: Error | null, responses: AckValue<M, E>[]) => void]
    : unknown[];
