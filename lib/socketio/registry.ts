/**
 * Which code handles what: function handlers per namespace and event,
 * class-based namespaces, and error handlers.
 */
import { UsageError } from '../errors.js';
import { checkOptionNames } from '../option-names.js';
import type { Namespace } from './namespace.js';
import { RESERVED_EVENTS } from './packets.js';

/** A handler: any function; its arguments are the client's event arguments. */
export type EventHandler = (...args: never[]) => unknown;

/** An error handler: gets what the event handler threw; its return value becomes the ack. */
export type ErrorHandler = (error: unknown) => unknown;

/** A handler ready to call with the event's arguments. */
export type BoundHandler = (args: readonly unknown[]) => unknown;

const SERVER_EVENTS = new Set(['connect', 'disconnect']);

/** Normalises a namespace name: '' and 'chat' become '/' and '/chat'. */
export function namespaceName(nsp: string | undefined): string {
  if (nsp === undefined || nsp === '' || nsp === '/') return '/';
  if (typeof nsp !== 'string')
    throw new UsageError(`namespace must be a string such as '/chat', got ${String(nsp)}`);
  return nsp.startsWith('/') ? nsp : `/${nsp}`;
}

function call(fn: EventHandler, args: readonly unknown[]): unknown {
  return (fn as unknown as (...a: readonly unknown[]) => unknown)(...args);
}

/**
 * The handler registry of one server.
 *
 * @example
 * ```ts
 * registry.on('/', 'chat', (msg: string) => msg.toUpperCase());
 * registry.find('/', 'chat')?.(['hi']); // 'HI'
 * ```
 */
export class HandlerRegistry {
  readonly #handlers = new Map<string, Map<string, EventHandler>>();
  readonly #classes = new Map<string, Namespace>();
  readonly #errorHandlers = new Map<string, ErrorHandler>();
  #defaultErrorHandler: ErrorHandler | undefined;

  on(nsp: string, event: string, handler: EventHandler): void {
    if (typeof event !== 'string' || event === '')
      throw new UsageError('event name must be a non-empty string');
    if (typeof handler !== 'function')
      throw new UsageError(`handler for "${event}" must be a function`);
    if (RESERVED_EVENTS.has(event) && !SERVER_EVENTS.has(event)) {
      throw new UsageError(`"${event}" is reserved by the protocol; pick another event name`);
    }
    let events = this.#handlers.get(nsp);
    if (events === undefined) this.#handlers.set(nsp, (events = new Map<string, EventHandler>()));
    events.set(event, handler);
  }

  onNamespace(instance: Namespace): void {
    this.#classes.set(instance.namespace, instance);
  }

  onError(nsp: string | undefined, handler: ErrorHandler): void {
    if (typeof handler !== 'function') throw new UsageError('error handler must be a function');
    if (nsp === undefined) this.#defaultErrorHandler = handler;
    else this.#errorHandlers.set(nsp, handler);
  }

  /**
   * Whether a namespace accepts connections: '/' always (as in socket.io and
   * python-socketio), others once they have a handler or a class (otherwise
   * CONNECT gets "Invalid namespace").
   */
  hasNamespace(nsp: string): boolean {
    return nsp === '/' || this.#handlers.has(nsp) || this.#classes.has(nsp);
  }

  /** The namespace class registered for `nsp`, if any. */
  namespaceClass(nsp: string): Namespace | undefined {
    return this.#classes.get(nsp);
  }

  /**
   * The handler for an event: a function registered with `on` wins over a class
   * method; the catch-all `'*'` gets `(event, ...args)` for events with no
   * handler of their own. Undefined when nothing handles it.
   */
  find(nsp: string, event: string): BoundHandler | undefined {
    const fn = this.#handlers.get(nsp)?.get(event);
    if (fn !== undefined) return (args) => call(fn, args);
    const instance = this.#classes.get(nsp);
    // An overridden triggerEvent sees every event; the default one only those with a method.
    if (instance !== undefined && (instance.hasHandler(event) || instance.routesAllEvents())) {
      return (args) => instance.triggerEvent(event, ...args);
    }
    const catchAll = this.#handlers.get(nsp)?.get('*');
    if (catchAll !== undefined && !SERVER_EVENTS.has(event))
      return (args) => call(catchAll, [event, ...args]);
    return undefined;
  }

  /** The error handler for a namespace, else the default one. */
  errorHandler(nsp: string): ErrorHandler | undefined {
    return this.#errorHandlers.get(nsp) ?? this.#defaultErrorHandler;
  }

  /**
   * Route keys (`nsp\0event`) of everything registered: events, `nsp\0*` for a
   * catch-all or a class, `nsp\0!error` and `*\0!error` for error handlers.
   * A worker-pool thread reports these so the main thread knows what it can run.
   */
  routeKeys(): string[] {
    const keys: string[] = [];
    for (const [nsp, events] of this.#handlers)
      for (const event of events.keys()) keys.push(`${nsp}\0${event}`);
    for (const nsp of this.#classes.keys()) keys.push(`${nsp}\0*`);
    for (const nsp of this.#errorHandlers.keys()) keys.push(`${nsp}\0!error`);
    if (this.#defaultErrorHandler !== undefined) keys.push('*\0!error');
    return keys;
  }

  /** Namespaces with handlers or classes. */
  namespaces(): string[] {
    return [...new Set([...this.#handlers.keys(), ...this.#classes.keys()])];
  }
}

const NAMESPACE_OPTION: ReadonlySet<string> = new Set(['namespace']);

/**
 * Checks `io.on(event, handler, options)`'s arguments: a string where the options go
 * is a common slip (Flask-SocketIO takes the namespace positionally).
 *
 * @example
 * ```ts
 * checkRegistration('io.on', 'chat', handler, '/chat'); // UsageError: … write { namespace: '/chat' }
 * ```
 */
export function checkRegistration(
  fn: string,
  event: unknown,
  handler: unknown,
  options: unknown,
): void {
  if (typeof event !== 'string' || event === '')
    throw new UsageError(`${fn}(event, handler): the event name must be a non-empty string`);
  if (typeof handler !== 'function')
    throw new UsageError(`${fn}('${event}', handler): the handler must be a function`);
  if (typeof options === 'string')
    throw new UsageError(
      `${fn}('${event}', handler, '${options}'): the namespace goes in the options; write { namespace: '${options}' }`,
    );
  if (typeof options !== 'object' || options === null)
    throw new UsageError(`${fn}('${event}', handler, options): options must be an object`);
  checkOptionNames(`${fn}()`, options, NAMESPACE_OPTION);
}
