/**
 * Class-based namespaces (Flask-SocketIO's `Namespace`): event `E` is handled by
 * method `on_E`, or `onE` with E's first letter upper-cased.
 */
import * as context from './context.js';
import type { CallOptions, EmitOptions, SendOptions } from './context.js';
import type {
  CallResult,
  DeclaredClientToServer,
  DeclaredServerSide,
  DeclaredServerToClient,
  EventNames,
  EventNamesWithAck,
  EventsMap,
  FlaskEmitRest,
  Session,
} from './event-maps.js';
import { UsageError } from '../errors.js';
import { isPattern, namespaceName } from './names.js';
import type { NamespaceOption } from './names.js';

/** What a Namespace needs from its server when called outside a handler. */
export interface NamespaceServer {
  emit(
    event: string,
    data?: unknown,
    options?: {
      namespace?: string;
      to?: string | readonly string[];
      skipSid?: string | readonly string[];
      callback?: (...args: unknown[]) => unknown;
      timeout?: number;
    },
  ): void;
  send(
    data: unknown,
    options?: {
      namespace?: string;
      json?: boolean;
      to?: string | readonly string[];
      skipSid?: string | readonly string[];
    },
  ): void;
  closeRoom(room: string, options?: { namespace?: string }): void;
  call(
    event: string,
    data?: unknown,
    options?: { to?: string; namespace?: string; timeout?: number },
  ): Promise<unknown[]>;
}

type Method = (...args: unknown[]) => unknown;

const LIFECYCLE_METHODS = /^on_?[cC]onnect$|^on_?[dD]isconnect$/;

/**
 * Subclass it and register an instance with `io.onNamespace(new Chat('/chat'))`.
 * Its `emit`, `send`, `joinRoom`... default to its namespace; inside a handler
 * they act like the context functions (emit replies to the current client);
 * outside one, `emit`/`send` broadcast to the namespace.
 *
 * Its type arguments are its server's (see `SocketIO`): `emit` and `call` are checked against
 * `ServerToClient`, and {@link session} is a `SessionData`.
 *
 * @example
 * ```ts
 * class Chat extends Namespace {
 *   onConnect(auth: unknown) { this.emit('welcome'); }
 *   on_message(text: string) { this.send(text, { broadcast: true }); }
 * }
 * io.onNamespace(new Chat('/chat'));
 * // typed by its server's type arguments:
 * class Typed extends Namespace<ClientToServer, ServerToClient, DefaultEventsMap, Data> {}
 * ```
 *
 * @group Namespaces
 */
export class Namespace<
  // Its server's type arguments, all four, so that io.onNamespace can check they are the same.
  ClientToServer extends EventsMap<ClientToServer> = DeclaredClientToServer,
  ServerToClient extends EventsMap<ServerToClient> = DeclaredServerToClient,
  ServerSide extends EventsMap<ServerSide> = DeclaredServerSide,
  SessionData extends object = Session,
> {
  /** What it was registered for: a namespace name, or a pattern of names. */
  readonly pattern: NamespaceOption;
  readonly #name: string | undefined;
  #server: NamespaceServer | undefined;

  /** `namespace`: a name ('/' by default), or a RegExp or predicate for dynamic namespaces. */
  constructor(namespace: NamespaceOption = '/') {
    this.pattern = isPattern(namespace) ? namespace : namespaceName(namespace);
    this.#name = isPattern(namespace) ? undefined : (this.pattern as string);
  }

  /**
   * The namespace its methods default to: the registered name, or for a pattern the current
   * client's namespace (outside a handler, pass `namespace` to the method).
   */
  get namespace(): string {
    if (this.#name !== undefined) return this.#name;
    const nsp = context.currentNamespace();
    if (nsp === undefined)
      throw new UsageError(
        `a Namespace registered for ${String(this.pattern)} has no single namespace outside a handler: pass { namespace: '/…' }`,
      );
    return nsp;
  }

  /** @internal Called by `io.onNamespace`. */
  attachServer(server: NamespaceServer): void {
    this.#server = server;
  }

  #method(event: string): Method | undefined {
    const self = this as unknown as Record<string, unknown>;
    // `onE` only for names that start with a letter: '_join' must not reach on_join.
    const names = /^[A-Za-z]/.test(event)
      ? [`on_${event}`, `on${event.charAt(0).toUpperCase()}${event.slice(1)}`]
      : [`on_${event}`];
    const lifecycle = event === 'connect' || event === 'disconnect';
    for (const name of names) {
      // A client event named "Connect" must not reach onConnect.
      if (!lifecycle && LIFECYCLE_METHODS.test(name)) continue;
      // Only methods of the class, never properties that data could shadow.
      if (Object.prototype.hasOwnProperty.call(Namespace.prototype, name)) continue;
      const fn = self[name];
      if (typeof fn === 'function') return fn as Method;
    }
    return undefined;
  }

  /** Whether some method handles `event`. */
  hasHandler(event: string): boolean {
    return this.#method(event) !== undefined;
  }

  /** Whether a subclass overrides {@link triggerEvent} (then it sees every event). */
  routesAllEvents(): boolean {
    return this.triggerEvent !== Namespace.prototype.triggerEvent;
  }

  /**
   * Calls the method for `event`; override to route events differently.
   * Events with no method are ignored.
   */
  triggerEvent(event: string, ...args: unknown[]): unknown {
    return this.#method(event)?.apply(this, args);
  }

  #server_(): NamespaceServer {
    if (this.#server === undefined)
      throw new Error(
        `Namespace ${String(this.pattern)} is not registered: call io.onNamespace(instance) first`,
      );
    return this.#server;
  }

  /** Emits on this namespace (see the class notes). */
  emit<E extends EventNames<ServerToClient>>(
    event: E,
    ...rest: FlaskEmitRest<ServerToClient, E, EmitOptions>
  ): void;
  emit(event: string, data?: unknown, options: EmitOptions = {}): void {
    const opts = { ...options, namespace: options.namespace ?? this.namespace };
    if (context.inHandler()) return context.emitAs('emit', event, data, opts);
    this.#server_().emit(event, data, {
      namespace: opts.namespace,
      to: opts.to ?? opts.room,
      skipSid: opts.skipSid,
      callback: opts.callback?.bind(opts),
      timeout: opts.timeout,
    });
  }

  /** Sends an unnamed message on this namespace. */
  send(data: unknown, options: SendOptions = {}): void {
    const opts = { ...options, namespace: options.namespace ?? this.namespace };
    if (context.inHandler()) return context.send(data, opts);
    this.#server_().send(data, {
      namespace: opts.namespace,
      json: opts.json,
      to: opts.to ?? opts.room,
      skipSid: opts.skipSid,
    });
  }

  /** Closes a room of this namespace. */
  closeRoom(room: string, options: { namespace?: string } = {}): void {
    this.#server_().closeRoom(room, { namespace: options.namespace ?? this.namespace });
  }

  /** Puts a client (default: the current one) in a room of this namespace. */
  joinRoom(room: string, options: context.TargetOptions = {}): void {
    context.joinRoom(room, { ...options, namespace: options.namespace ?? this.namespace });
  }

  /** Takes a client (default: the current one) out of a room of this namespace. */
  leaveRoom(room: string, options: context.TargetOptions = {}): void {
    context.leaveRoom(room, { ...options, namespace: options.namespace ?? this.namespace });
  }

  /** The rooms of a client (default: the current one) in this namespace. */
  rooms(options: context.TargetOptions = {}): string[] {
    return context.rooms({ ...options, namespace: options.namespace ?? this.namespace });
  }

  /** Disconnects a client (default: the current one) from this namespace. */
  disconnect(options: context.TargetOptions = {}): void {
    context.disconnect({ ...options, namespace: options.namespace ?? this.namespace });
  }

  /** Emits to one client and waits for its ack (see `call`). */
  call<E extends EventNamesWithAck<ServerToClient>>(
    event: E,
    ...rest: FlaskEmitRest<ServerToClient, E, CallOptions>
  ): Promise<CallResult<ServerToClient, E>>;
  call(event: string, data?: unknown, options: CallOptions = {}): Promise<unknown[]> {
    const opts = { ...options, namespace: options.namespace ?? this.namespace };
    if (context.inHandler()) return context.callAs(event, data, opts);
    return this.#server_().call(event, data, opts);
  }

  /** The current client's session (see `session()`), typed by the class's `SessionData`. */
  session(): SessionData {
    return context.session() as SessionData;
  }
}
