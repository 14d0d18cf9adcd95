/**
 * Which code handles what: function handlers per namespace and event,
 * class-based namespaces, and error handlers.
 */
import { UsageError } from '../errors.js';
import { checkOptionNames } from '../option-names.js';
import type { Namespace } from './namespace.js';
import { isPattern, namespaceName } from './names.js';
import type { NamespaceOption, NamespacePattern } from './names.js';
import { RESERVED_EVENTS } from './packets.js';

export { isPattern, namespaceName };
export type { NamespaceOption, NamespacePattern };

/** What the registry uses of a class-based namespace, whatever its type arguments. */
type NamespaceClass = Pick<
  Namespace,
  'pattern' | 'hasHandler' | 'routesAllEvents' | 'triggerEvent'
>;

/**
 * A handler: any function; its arguments are the client's event arguments.
 *
 * @group Application API
 */
export type EventHandler = (...args: never[]) => unknown;

/**
 * An error handler: gets what the event handler threw; its return value becomes the ack.
 *
 * @group Application API
 */
export type ErrorHandler = (error: unknown) => unknown;

/** A handler ready to call with the event's arguments. */
export type BoundHandler = (args: readonly unknown[]) => unknown;

/**
 * Connection middleware (`io.use`): runs before a client joins its namespace, with the
 * client's auth. Throwing `ConnectionRefusedError` or returning `false` refuses the client.
 *
 * @group Application API
 */
export type Middleware = (auth: Record<string, unknown> | undefined) => unknown;

/**
 * Event middleware (`io.beforeEvent`): runs before every event of its namespace. It returns
 * nothing to let the event through as it is, an array to replace its arguments, or `false`
 * to drop it (no handler runs, no ack is sent); a throw goes to the error handler.
 *
 * @group Application API
 */
export type EventMiddleware = (event: string, args: unknown[]) => unknown;

const SERVER_EVENTS = new Set(['connect', 'disconnect']);

/** A registered pattern and the key its handlers are under. */
interface PatternEntry {
  readonly key: string;
  readonly pattern: NamespacePattern;
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
  readonly #classes = new Map<string, NamespaceClass>();
  readonly #errorHandlers = new Map<string, ErrorHandler>();
  #defaultErrorHandler: ErrorHandler | undefined;
  readonly #middlewares = new Map<string, Middleware[]>();
  readonly #eventMiddlewares = new Map<string, EventMiddleware[]>();
  /** Dynamic namespaces, in the order they were first registered; keys `#pattern<i>`. */
  readonly #patterns: PatternEntry[] = [];
  /** Namespaces with clients that a pattern matched: name -> the pattern's key. */
  readonly #children = new Map<string, string>();

  /**
   * The key handlers of a namespace or pattern are registered under: the name for a string,
   * `#pattern<i>` for a pattern (the same RegExp source, or the same function, is one
   * pattern, so `io.on` and `io.use` with it share the namespace).
   */
  scopeOf(namespace: NamespaceOption | undefined): string {
    if (!isPattern(namespace)) return namespaceName(namespace);
    const same = (p: NamespacePattern): boolean =>
      p === namespace ||
      (p instanceof RegExp && namespace instanceof RegExp && String(p) === String(namespace));
    const known = this.#patterns.find((entry) => same(entry.pattern));
    if (known !== undefined) return known.key;
    const key = `#pattern${this.#patterns.length}`;
    this.#patterns.push({ key, pattern: namespace });
    return key;
  }

  /** The key a namespace's handlers are under (a pattern's, for a child namespace). */
  keyOf(nsp: string): string {
    return this.#children.get(nsp) ?? nsp;
  }

  /**
   * Whether a client may join `nsp`: a registered name (see {@link hasNamespace}) at once;
   * else the first pattern that matches it, in registration order, which makes `nsp` its
   * child until the last client leaves (see {@link forgetChild}).
   */
  matchNamespace(
    nsp: string,
    auth: Record<string, unknown> | undefined,
  ): boolean | Promise<boolean> {
    if (this.hasNamespace(nsp)) return true;
    return this.#matchFrom(nsp, auth, 0);
  }

  #matchFrom(
    nsp: string,
    auth: Record<string, unknown> | undefined,
    from: number,
  ): boolean | Promise<boolean> {
    for (let i = from; i < this.#patterns.length; i++) {
      const { key, pattern } = this.#patterns[i] as PatternEntry;
      const child = this.#children.get(nsp);
      if (child !== undefined && child !== key) continue;
      const verdict = pattern instanceof RegExp ? pattern.test(nsp) : pattern(nsp, auth);
      if (isThenable(verdict))
        return Promise.resolve(verdict).then((yes) =>
          yes === true ? this.#adopt(nsp, key) : this.#matchFrom(nsp, auth, i + 1),
        );
      if (verdict === true) return this.#adopt(nsp, key);
    }
    return false;
  }

  #adopt(nsp: string, key: string): true {
    this.#children.set(nsp, key);
    return true;
  }

  /** A child namespace lost its last client: forget which pattern it came from. */
  forgetChild(nsp: string): void {
    this.#children.delete(nsp);
  }

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

  /** Adds a connection middleware to a namespace (they run in the order they were added). */
  use(nsp: string, fn: Middleware): void {
    if (typeof fn !== 'function')
      throw new UsageError('io.use(fn): the middleware must be a function');
    append(this.#middlewares, nsp, fn);
  }

  /** Adds an event middleware to a namespace (they run in the order they were added). */
  beforeEvent(nsp: string, fn: EventMiddleware): void {
    if (typeof fn !== 'function')
      throw new UsageError('io.beforeEvent(fn): the middleware must be a function');
    append(this.#eventMiddlewares, nsp, fn);
  }

  /**
   * The namespace's connection middlewares as one handler (args: `[auth]`): resolves with
   * `false` at the first that refuses; throws what one throws. Undefined without any.
   */
  middlewareChain(nsp: string): BoundHandler | undefined {
    const chain = this.#middlewares.get(this.keyOf(nsp));
    if (chain === undefined) return undefined;
    return (args) => runChain(chain, (fn) => fn(args[0] as Record<string, unknown> | undefined));
  }

  /**
   * The namespace's event middlewares as one handler (args: `[event, args]`): resolves with
   * the arguments to call the handler with, or `false` to drop the event. Undefined without any.
   */
  eventMiddlewareChain(nsp: string): BoundHandler | undefined {
    const chain = this.#eventMiddlewares.get(this.keyOf(nsp));
    if (chain === undefined) return undefined;
    return (input) => {
      const event = input[0] as string;
      let args = input[1] as unknown[];
      // Each step keeps the arguments (nothing), replaces them (an array) or drops the event.
      const keepOrReplace = (value: unknown): unknown => {
        if (value === false) return false;
        if (Array.isArray(value)) args = value as unknown[];
        else if (value !== undefined)
          throw new UsageError(
            `io.beforeEvent middleware for "${event}" returned ${typeof value}: return nothing, an array of arguments, or false`,
          );
        return undefined;
      };
      const outcome = (result: unknown): unknown[] | false => (result === false ? false : args);
      const result = runChain(chain, (fn) => {
        const value = fn(event, args);
        return isThenable(value)
          ? Promise.resolve(value).then(keepOrReplace)
          : keepOrReplace(value);
      });
      return isThenable(result) ? Promise.resolve(result).then(outcome) : outcome(result);
    };
  }

  onNamespace(instance: NamespaceClass): void {
    this.#classes.set(this.scopeOf(instance.pattern), instance);
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
    return (
      nsp === '/' ||
      this.#handlers.has(nsp) ||
      this.#classes.has(nsp) ||
      this.#middlewares.has(nsp) ||
      this.#eventMiddlewares.has(nsp)
    );
  }

  /** The namespace class registered for `nsp`, if any. */
  namespaceClass(nsp: string): NamespaceClass | undefined {
    return this.#classes.get(this.keyOf(nsp));
  }

  /**
   * The handler for an event: a function registered with `on` wins over a class
   * method; the catch-all `'*'` gets `(event, ...args)` for events with no
   * handler of their own. Undefined when nothing handles it.
   */
  find(nsp: string, event: string): BoundHandler | undefined {
    nsp = this.keyOf(nsp);
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
    return this.#errorHandlers.get(this.keyOf(nsp)) ?? this.#defaultErrorHandler;
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
    for (const nsp of this.#middlewares.keys()) keys.push(`${nsp}\0!use`);
    for (const nsp of this.#eventMiddlewares.keys()) keys.push(`${nsp}\0!before`);
    if (this.#defaultErrorHandler !== undefined) keys.push('*\0!error');
    return keys;
  }

  /** Namespaces with handlers or classes. */
  namespaces(): string[] {
    const names = [...this.#handlers.keys(), ...this.#classes.keys()];
    return [...new Set(names.filter((name) => name.startsWith('/')))];
  }
}

function append<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Calls `step` on each function in order, waiting for those that return a promise;
 * stops with `false` at the first step that gives `false`. Synchronous all the way when
 * every step is.
 */
function runChain<F>(chain: readonly F[], step: (fn: F) => unknown, from = 0): unknown {
  for (let i = from; i < chain.length; i++) {
    const value = step(chain[i] as F);
    if (isThenable(value))
      return Promise.resolve(value).then((v) =>
        v === false ? false : runChain(chain, step, i + 1),
      );
    if (value === false) return false;
  }
  return undefined;
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
  checkHandlerAndOptions(fn, `${fn}('${event}', handler`, 'handler', handler, options);
}

/**
 * Checks `io.use(fn, options)` and `io.beforeEvent(fn, options)`.
 *
 * @example
 * ```ts
 * checkMiddleware('io.use', mw, '/admin'); // UsageError: … write { namespace: '/admin' }
 * ```
 */
export function checkMiddleware(fn: string, middleware: unknown, options: unknown): void {
  checkHandlerAndOptions(fn, `${fn}(middleware`, 'middleware', middleware, options);
}

/** `call` is how the call reads up to the function, e.g. `io.on('chat', handler`. */
function checkHandlerAndOptions(
  fn: string,
  call: string,
  what: 'handler' | 'middleware',
  handler: unknown,
  options: unknown,
): void {
  if (typeof handler !== 'function')
    throw new UsageError(`${call}): the ${what} must be a function`);
  if (typeof options === 'string')
    throw new UsageError(
      `${call}, '${options}'): the namespace goes in the options; write { namespace: '${options}' }`,
    );
  if (typeof options !== 'object' || options === null)
    throw new UsageError(`${call}, options): options must be an object`);
  checkOptionNames(`${fn}()`, options, NAMESPACE_OPTION);
}
