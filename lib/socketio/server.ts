/**
 * `SocketIO`: the server object of Flask-SocketIO, in TypeScript. Registration,
 * emitting from anywhere, background tasks, run/stop.
 */
import { EngineServer } from '../engine/server.js';
import type { EngineConnection } from '../engine/connection.js';
import type { PhaseCounts } from '../engine/server.js';
import { isWebServer } from '../engine/listen.js';
import type { AppLike, ListenAddress, WebServer } from '../engine/listen.js';
import { UsageError } from '../errors.js';
import { checkOptionNames } from '../option-names.js';
import { stopOnSignals } from '../shutdown.js';
import { createScheduler, resolveAsyncMode } from '../../schedulers/select.js';
import type { AsyncMode, Scheduler, Task } from '../../schedulers/scheduler.js';
import { WorkerPoolScheduler } from '../../schedulers/worker-pool.js';
import { createQueue, createSessionStore } from '../queues/create.js';
import { PubSub } from '../queues/pubsub.js';
import type { BusStats } from '../queues/pubsub.js';
import { poolWorkerData, setJobRunner } from '../../schedulers/worker-runtime.js';
import { toArgs } from './args.js';
import { startOperator } from './operator.js';
import type { BroadcastOperator } from './operator.js';
import type { FetchedSocket } from './sockets.js';
import {
  CALL_OPTIONS,
  CLOSE_ROOM_OPTIONS,
  currentSid,
  EMIT_OPTIONS,
  emitWithTimeout,
  SEND_OPTIONS,
} from './context.js';
import type { AcksCallback, CallOptions, HubOps } from './context.js';
import { session, settleAcks } from './context.js';
import type {
  AckValue,
  CallResult,
  DeclaredClientToServer,
  DeclaredServerSide,
  DeclaredServerToClient,
  EventArgs,
  EventNames,
  EventNamesWithAck,
  EventsMap,
  FlaskEmitRest,
  OnEventNames,
  OnHandler,
  ServerSideHandler,
  Session,
} from './event-maps.js';
import { checkEventName } from './emitter.js';
import type { EmitRequest } from './emitter.js';
import { applyEffect, createRemoteRunner, RemoteOps } from './remote.js';
import { SioClient } from './client.js';
import { Hub } from './hub.js';
import { Recovery } from './recovery.js';
import type { Namespace } from './namespace.js';
import { engineOptions, resolveSocketIOOptions, warningsShown } from './options.js';
import type { SocketIOOptions } from './options.js';
import { checkMiddleware, checkRegistration, namespaceName } from './registry.js';
import type { ErrorHandler, EventMiddleware, Middleware, NamespaceOption } from './registry.js';
import { processSidPrefix, serveClientBundle, Serving } from './serving.js';
import { StatusPage } from './status.js';
import { TestClient } from './test-client.js';
import type { TestClientOptions } from './test-client.js';

/**
 * Options of the server-level {@link SocketIO.emit}.
 *
 * @group Application API
 */
export interface ServerEmitOptions {
  /** Default '/'. */
  namespace?: string;
  /** A room or rooms (a sid is a room); without it, every client of the namespace. */
  to?: string | readonly string[];
  /** Same as `to`. */
  room?: string | readonly string[];
  /** A sid or sids not to send to. */
  skipSid?: string | readonly string[];
  /** False: called inside a handler, skip the client whose event it handles (Flask's include_self). */
  includeSelf?: boolean;
  /** Accepted as in the context `emit`; `io.emit` always broadcasts unless `to` narrows it. */
  broadcast?: boolean;
  /**
   * Called with the client's ack arguments when `to` is one client's sid. With `timeout`:
   * called once with `(err, responses)`, every addressed client's ack (socket.io's shape).
   */
  callback?(...args: unknown[]): unknown;
  /** Seconds to wait for every addressed client's ack; needs `callback`. */
  timeout?: number;
  /** Do not publish on the message queue. */
  ignoreQueue?: boolean;
  /** False: never compressed (socket.io's `compress(false)`). Default true. */
  compress?: boolean;
}

/** A plain options object (not a server, a Koa or Fastify app, or a function). */
function isOptions(value: unknown): value is SocketIOOptions {
  return (
    typeof value === 'object' &&
    value !== null &&
    !isWebServer(value) &&
    typeof (value as { listen?: unknown }).listen !== 'function' &&
    typeof (value as { callback?: unknown }).callback !== 'function'
  );
}

const WHERE_OPTIONS = new Set(['host', 'port', 'handleSignals']);
const FETCH_OPTIONS = new Set(['namespace', 'room']);
const SOCKETS_OPTIONS = new Set(['namespace', 'to']);

/**
 * Where `io.on`, `io.use` and `io.beforeEvent` register: a namespace name ('/' by default), or
 * for dynamic namespaces a `RegExp` or a predicate `(name, auth) => boolean | Promise<boolean>`
 * that a client's namespace must match (it then gets a child namespace of its own name).
 */
export interface RegistrationOptions {
  namespace?: NamespaceOption;
}

/**
 * Which clients `io.socketsJoin`, `io.socketsLeave` and `io.disconnectSockets` reach.
 *
 * @group Application API
 */
export interface SocketsOptions {
  /** The namespace ('/' by default). */
  namespace?: string;
  /** Rooms (or sids) whose clients are reached; all the namespace's clients without it. */
  to?: string | readonly string[];
}

function list(value: string | readonly string[] | undefined): readonly string[] | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : value;
}

/**
 * A Socket.IO v5 server with Flask-SocketIO's programming model.
 *
 * Its type arguments are socket.io's: the events clients send (`io.on` infers a handler's
 * parameters from the event's name, and checks its return value against the event's ack), the
 * events the server sends (`io.emit`, the operators, `fetchSockets()`' sockets), the events
 * servers send one another (`serverSideEmit`, `onServerSide`), and what a
 * session holds (`io.session()`, the sockets' `data`). Without them, the server takes any event
 * name and arguments, unless the app declared its events and session by augmenting
 * `ClientToServerEvents`, `ServerToClientEvents`, `ServerSideEvents` and `SessionData`.
 *
 * @example
 * ```ts
 * import { SocketIO, emit } from 'socketio-actors';
 * const io = new SocketIO();
 * io.on('chat', (msg: string) => emit('chat', msg, { broadcast: true }));
 * await io.run(undefined, { port: 5000 });
 *
 * // typed: handler parameters inferred, emits checked
 * interface ClientToServer { add: (a: number, b: number, ack: (sum: number) => void) => void }
 * interface ServerToClient { tick: (n: number) => void }
 * const typed = new SocketIO<ClientToServer, ServerToClient, DefaultEventsMap, { count?: number }>();
 * typed.on('add', (a, b) => a + b);
 * typed.emit('tick', 1);
 * ```
 *
 * @group Application API
 */
export class SocketIO<
  ClientToServer extends EventsMap<ClientToServer> = DeclaredClientToServer,
  ServerToClient extends EventsMap<ServerToClient> = DeclaredServerToClient,
  ServerSide extends EventsMap<ServerSide> = DeclaredServerSide,
  SessionData extends object = Session,
> {
  /** The Engine.IO server underneath. */
  readonly engine: EngineServer;
  /** The scheduler every handler, timer and background task runs through. */
  readonly scheduler: Scheduler;
  readonly #hub: Hub;
  #bus: PubSub | undefined;
  #status: StatusPage | undefined;
  #ops: HubOps;
  #inPool = false;
  /** The app and the servers it serves on. */
  readonly #serving: Serving;
  /** Stops watching for SIGINT/SIGTERM (set while `run()` serves with `handleSignals`). */
  #forgetSignals: (() => void) | undefined;
  /** The Socket.IO client of each live engine connection. */
  readonly #clients = new Map<EngineConnection, SioClient>();

  constructor(app?: AppLike | SocketIOOptions, options: SocketIOOptions = {}) {
    if (isOptions(app)) {
      if (arguments.length > 1)
        throw new UsageError(
          'new SocketIO(app, options): the first argument is an options object; pass the server or app first, or only the options',
        );
      options = app;
      app = undefined;
    }
    const resolved = resolveSocketIOOptions(options);
    this.scheduler =
      options.scheduler ??
      createScheduler(resolveAsyncMode(options.asyncMode), {
        onTaskError: (error) => resolved.logger.error('background task failed:', error),
        onPoolError: (message, cause) =>
          cause === undefined
            ? resolved.logger.error(message)
            : resolved.logger.error(message, cause),
        debug: (message) => resolved.logger.debug(message),
        clock: options.clock,
        seed: options.seed,
        appModule: options.appModule,
        workers: options.workers,
      });
    this.#hub = new Hub(this.scheduler, resolved);
    this.#ops = this.#hub;
    if (poolWorkerData() !== undefined) {
      // Loaded by a worker-pool thread: this instance runs jobs; its sends go to the main thread.
      this.#inPool = true;
      this.#ops = new RemoteOps(undefined, (error) =>
        resolved.logger.error('callback failed:', error),
      );
      setJobRunner(
        createRemoteRunner(this.#hub.registry, (error) =>
          resolved.logger.error('callback failed:', error),
        ),
      );
    } else if (this.scheduler instanceof WorkerPoolScheduler) {
      const hub = this.#hub;
      this.scheduler.setEffectHandler((effect) => applyEffect(hub, effect));
    }
    if (resolved.messageQueue !== undefined && !this.#inPool) {
      const queue = createQueue({
        url: resolved.messageQueue,
        channel: resolved.channel,
        logger: warningsShown(resolved.logger),
        clock: this.scheduler.clock,
        options: resolved.messageQueueOptions,
      });
      this.#bus = new PubSub(
        queue,
        this.scheduler,
        resolved.logger,
        resolved.parser,
        resolved.messageQueueOptions.requestTimeoutMs,
        resolved.messageQueueOptions.routing === 'rooms',
      );
      this.#bus.attach(this.#hub);
      this.#hub.bus = this.#bus;
      const bus = this.#bus;
      if (bus.routing)
        this.#hub.rooms.onRoom = (nsp, room, present) => bus.roomChanged(nsp, room, present);
    }
    const recovery = resolved.connectionStateRecovery;
    if (recovery !== undefined && !this.#inPool) {
      // A kept session's rooms hold their routes: what is sent to them meanwhile is kept.
      const bus = this.#bus;
      const store = createSessionStore({
        store: recovery.store,
        limits: recovery,
        prefix: resolved.channel,
        clock: this.scheduler.clock,
        debug: (line) => resolved.logger.debug(`connection state recovery: ${line}`),
        warn: (line) => warningsShown(resolved.logger).warn(line),
        ...(bus?.routing === true
          ? {
              onRoom: (nsp: string, room: string, present: boolean) =>
                bus.roomChanged(nsp, room, present),
            }
          : {}),
      });
      const hub = this.#hub;
      hub.recovery = new Recovery(store, recovery, hub.codec, (old) => {
        resolved.logger.debug(
          `client ${old.sid} came back on a new connection; its old one is let go`,
        );
        void hub.removeSocket(old, 'transport close');
      });
      if (this.#bus !== undefined)
        hub.recovery.elsewhere = (pid, nsp, offset) => hub.sessionElsewhere(pid, nsp, offset);
    }
    const scheduler: Scheduler = this.scheduler;
    this.engine = new EngineServer({
      sidPrefix: processSidPrefix(),
      ...engineOptions(options),
      clock: scheduler.clock,
      flushWrites: scheduler.deferFlush?.bind(scheduler),
    });
    // One set of listeners for every connection (not three closures each, ~200 bytes): they
    // find the connection's client in #clients.
    const clients = this.#clients;
    function onMessage(this: EngineConnection, data: string | Buffer): void {
      clients.get(this)?.onMessage(data);
    }
    function onUpgrade(this: EngineConnection, transport: string): void {
      resolved.engineLogger.debug(`engine connection ${this.id} upgraded to ${transport}`);
    }
    function onClose(this: EngineConnection, reason: string): void {
      resolved.engineLogger.debug(`engine connection ${this.id} closed: ${reason}`);
      if (this.closeDetail !== undefined)
        resolved.logger.info(`closed a client (${reason}): ${this.closeDetail}`);
      const client = clients.get(this);
      clients.delete(this);
      client?.onClose(reason);
    }
    this.engine.on('connection', (conn) => {
      // A process that serves clients also listens on the queue (an external emitter never does).
      void this.#bus
        ?.listen()
        .catch((error: unknown) => resolved.logger.error('message queue subscribe failed:', error));
      clients.set(conn, new SioClient(this.#hub, conn));
      resolved.engineLogger.debug(`engine connection ${conn.id} opened over ${conn.transportName}`);
      conn.on('message', onMessage);
      conn.on('upgrade', onUpgrade);
      conn.on('close', onClose);
    });
    this.engine.on('error', (error) => resolved.logger.error('listener error:', error));
    this.engine.on('middlewareError', (error) =>
      resolved.logger.error('an io.engine.use() middleware failed (the client got 403):', error),
    );
    if ((options.serveClient ?? true) && !this.#inPool)
      // Printed even with the default (quiet) logger: a missing bundle is otherwise silent.
      serveClientBundle(this.engine, (line) => warningsShown(resolved.logger).warn(line));
    if (options.statusPage !== undefined && !this.#inPool) {
      const status = new StatusPage(options.statusPage, this.#hub, this.scheduler, this.engine);
      const path = this.engine.options.path;
      this.engine.route(status.path, (req, res) => void status.answer(req, res, path));
      this.#status = status;
    }
    const hub = this.#hub;
    this.#serving = new Serving(this.engine, {
      startScheduler: () => this.#startScheduler(),
      ready: async () => {
        // Pool threads load the app module in threads of their own, so this wait does not
        // depend on the main thread's evaluation of it.
        if (this.scheduler instanceof WorkerPoolScheduler) await this.scheduler.ready();
      },
      checkHost: (host) => this.#status?.checkHost(host),
      listenQueue: async () => this.#bus?.listen(),
      queueError: (error) => hub.options.logger.error('message queue subscribe failed:', error),
    });
    if (!this.#inPool) this.#serving.useApp(app, 'new SocketIO(app)');
  }

  /** The async mode in use. */
  get asyncMode(): AsyncMode {
    return this.scheduler.mode;
  }

  /**
   * Flask-SocketIO's `init_app`: an `http.Server` / `https.Server` is attached at once
   * (see {@link attach}); a request listener (Express, Connect, Koa) is kept for `run()`.
   *
   * @example
   * ```ts
   * const io = new SocketIO({ corsAllowedOrigins: '*' });
   * io.initApp(expressApp);
   * await io.run(undefined, { port: 5000 });
   * ```
   */
  initApp(app: AppLike): this {
    if (!this.#inPool) this.#serving.useApp(app, 'initApp(app)');
    return this;
  }

  /**
   * Serves `/socket.io/` on the app's own server from now on, as socket.io's
   * `new Server(httpServer)` does: the app calls `server.listen()` itself, and the
   * server's other requests still reach the app. `new SocketIO(server, options)` does
   * this in the constructor. `stop()` closes the server, as socket.io's `close()` does.
   *
   * @example
   * ```ts
   * const server = http.createServer(app);
   * const io = new SocketIO({ corsAllowedOrigins: '*' }).attach(server);
   * server.listen(3000);
   * ```
   */
  attach(server: WebServer): this {
    if (!this.#inPool) this.#serving.attach(server);
    return this;
  }

  /**
   * Creates an http.Server for `/socket.io/` alone and listens on `port` (every
   * interface unless `host` is given), like socket.io's `io.listen(port)`.
   *
   * @example
   * ```ts
   * const { port } = await new SocketIO({ corsAllowedOrigins: '*' }).listen(3000);
   * ```
   */
  listen(port: number, host?: string): Promise<ListenAddress> {
    if (typeof port !== 'number')
      throw new UsageError(
        'io.listen(port, host?) takes a port; to serve on your own server, use io.attach(server) or new SocketIO(server)',
      );
    // In a worker-pool thread the main thread serves; this does nothing here.
    if (this.#inPool) return Promise.resolve({ host: '', port: 0 });
    return this.#serving.listenAlone(host, port);
  }

  /**
   * Registers a handler for an event (`connect`, `disconnect`, `message`, `json`,
   * a custom name, or `'*'` for everything else). Returns the handler. With a
   * `ClientToServer` event map, the name must be one of its events (or `connect`,
   * `disconnect`, `'*'`), the handler's parameters are the event's, and its return value
   * is the event's ack.
   */
  on<E extends OnEventNames<ClientToServer>, F extends OnHandler<ClientToServer, E>>(
    event: E,
    handler: F,
    options: RegistrationOptions = {},
  ): F {
    checkRegistration('io.on', event, handler, options);
    this.#hub.registry.on(this.#hub.registry.scopeOf(options.namespace), event, handler);
    return handler;
  }

  /** The same as {@link on} (Flask-SocketIO's `on_event`). */
  onEvent<E extends OnEventNames<ClientToServer>, F extends OnHandler<ClientToServer, E>>(
    event: E,
    handler: F,
    options: RegistrationOptions = {},
  ): F {
    return this.on(event, handler, options);
  }

  /**
   * Adds a connection middleware to a namespace ('/' unless `namespace` says): it runs when a
   * client asks to join, before the connect handler, in the order middlewares were added, with
   * the client's `auth` and the context functions (`request()`, `session()`, `emit`...).
   * Throwing `ConnectionRefusedError(message, data)` or returning `false` refuses the client
   * (its `connect_error` carries the message and `data`); any other error goes to the error
   * handler and refuses the client with its message. socket.io's `io.use`.
   *
   * @example
   * ```ts
   * io.use(async (auth) => {
   *   if (!(await tokens.valid(auth?.token))) throw new ConnectionRefusedError('bad token');
   *   session().user = await tokens.user(auth?.token);
   * });
   * ```
   */
  use(fn: Middleware, options: RegistrationOptions = {}): void {
    checkMiddleware('io.use', fn, options);
    this.#hub.registry.use(this.#hub.registry.scopeOf(options.namespace), fn);
  }

  /**
   * Adds an event middleware to a namespace ('/' unless `namespace` says): it runs before the
   * handler of every event the namespace's clients send, with `(event, args)`, in the order
   * middlewares were added. It returns nothing to let the event through, an array to replace
   * its arguments, or `false` to drop it (no handler, no ack). A throw goes to the error
   * handler, whose return value is the ack. Flask-SocketIO's long-asked `before_event`;
   * socket.io's `socket.use`.
   *
   * @example
   * ```ts
   * io.beforeEvent((event, args) => {
   *   if (session().user === undefined) throw new Error(`log in before "${event}"`);
   * });
   * ```
   */
  beforeEvent(fn: EventMiddleware, options: RegistrationOptions = {}): void {
    checkMiddleware('io.beforeEvent', fn, options);
    this.#hub.registry.beforeEvent(this.#hub.registry.scopeOf(options.namespace), fn);
  }

  /** Registers a class-based namespace. */
  onNamespace(instance: Namespace<ClientToServer, ServerToClient, ServerSide, SessionData>): void {
    instance.attachServer(this);
    this.#hub.registry.onNamespace(instance);
  }

  /** Error handler for '/' (`onError(handler)`) or a namespace (`onError('/chat', handler)`). */
  onError(handler: ErrorHandler): void;
  onError(namespace: NamespaceOption, handler: ErrorHandler): void;
  onError(namespaceOrHandler: NamespaceOption | ErrorHandler, handler?: ErrorHandler): void {
    // One function: the handler for '/'; two arguments: the first names the namespace (a
    // predicate pattern is a function too, so it is one only when a handler follows).
    if (typeof namespaceOrHandler === 'function' && handler === undefined)
      this.#hub.registry.onError('/', namespaceOrHandler as ErrorHandler);
    else if (handler !== undefined)
      this.#hub.registry.onError(
        this.#hub.registry.scopeOf(namespaceOrHandler as NamespaceOption),
        handler,
      );
    else throw new UsageError('onError(namespace, handler): the handler is missing');
  }

  /** Error handler for namespaces that have none of their own. */
  onErrorDefault(handler: ErrorHandler): void {
    this.#hub.registry.onError(undefined, handler);
  }

  /**
   * Emits from anywhere: to a room or sid with `to`, else to every client of the namespace.
   * With a `ServerToClient` event map, the event and its data are checked (several arguments:
   * `args(a, b)`).
   *
   * @example
   * ```ts
   * io.emit('news', headline); // every client of '/'
   * io.emit('chat', args(text, from), { to: 'lobby', namespace: '/chat' });
   * io.emit('ready?', null, { to: 'voters', timeout: 5, callback: (err, answers) => tally(answers) });
   * ```
   */
  emit<E extends EventNames<ServerToClient>>(
    event: E,
    ...rest: FlaskEmitRest<ServerToClient, E, ServerEmitOptions>
  ): void;
  emit(event: string, data?: unknown, options: ServerEmitOptions = {}): void {
    this.#emit(event, data, options);
  }

  #emit(event: string, data: unknown, options: ServerEmitOptions): void {
    checkOptionNames('io.emit()', options, EMIT_OPTIONS);
    const skip = new Set(list(options.skipSid) ?? []);
    const sender = options.includeSelf === false ? currentSid() : undefined;
    if (sender !== undefined) skip.add(sender);
    const to = list(options.to ?? options.room);
    const request: EmitRequest = {
      nsp: namespaceName(options.namespace),
      event,
      args: toArgs(data),
      to,
      skip,
      ignoreQueue: options.ignoreQueue === true,
      compress: options.compress,
    };
    if (options.timeout !== undefined)
      return emitWithTimeout(this.#ops, request, options, undefined, 'io.emit()');
    if (options.callback !== undefined && (to?.length ?? 0) !== 1)
      throw new UsageError(
        'io.emit(): a callback needs to: a sid, or { timeout: seconds } to get every client’s ack as (err, responses)',
      );
    this.#ops.emit({ ...request, callback: options.callback?.bind(options) });
  }

  /**
   * socket.io's chained emits start here: `io.of(namespace)`, `io.to(room)`, `io.in(room)`,
   * `io.except(room)`, `io.local`, `io.volatile`, `io.compress(flag)`, `io.timeout(seconds)`;
   * each returns a new operator (see {@link BroadcastOperator}) and never changes `io`.
   *
   * @example
   * ```ts
   * io.of('/game').to('table-3').except('folded').emit('card', card, seat);
   * const answers = await io.timeout(5).emitWithAck('ready?');
   * ```
   */
  of(namespace: string): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return startOperator(() => this.#ops, namespace);
  }

  /**
   * `io.of('/').to(room)`: see {@link of}.
   *
   * @example
   * ```ts
   * io.to('lobby').emit('news', headline, Date.now());
   * io.to(['r1', 'r2']).emit('tick'); // a client in both gets it once
   * ```
   */
  to(room: string | readonly string[]): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.of('/').to(room);
  }

  /**
   * `io.of('/').in(room)`: see {@link of}.
   *
   * @example
   * ```ts
   * const members = await io.in('lobby').fetchSockets();
   * ```
   */
  in(room: string | readonly string[]): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.of('/').in(room);
  }

  /**
   * `io.of('/').except(room)`: see {@link of}.
   *
   * @example
   * ```ts
   * io.except('muted').emit('chat', text, from);
   * ```
   */
  except(
    room: string | readonly string[],
  ): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.of('/').except(room);
  }

  /**
   * `io.of('/').local`: see {@link of}.
   *
   * @example
   * ```ts
   * io.local.emit('reloaded'); // this process's clients only
   * ```
   */
  get local(): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.of('/').local;
  }

  /**
   * `io.of('/').volatile`: see {@link of}.
   *
   * @example
   * ```ts
   * io.volatile.emit('cursor', x, y); // dropped where the transport is busy
   * ```
   */
  get volatile(): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.of('/').volatile;
  }

  /**
   * `io.of('/').compress(flag)`: `compress(false)` sends the emit uncompressed (see
   * {@link BroadcastOperator.compress}).
   *
   * @example
   * ```ts
   * io.compress(false).emit('tile', pngBytes);
   * ```
   */
  compress(compress: boolean): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.of('/').compress(compress);
  }

  /**
   * `io.of('/').timeout(seconds)`: see {@link of}.
   *
   * @example
   * ```ts
   * io.timeout(5).emit('ready?', (err, answers) => console.log(err?.message, answers));
   * ```
   */
  timeout(seconds: number): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.of('/').timeout(seconds);
  }

  /**
   * The clients of a namespace ('/' unless `namespace` says), or of the rooms `room` names,
   * as objects with `id`, `namespace`, `rooms`, `data` (the session), `handshake`, and
   * `emit`, `join`, `leave`, `disconnect`, `timeout(s).emitWithAck`. This process's clients.
   *
   * @example
   * ```ts
   * const admins = await io.fetchSockets({ namespace: '/admin', room: 'on-call' });
   * admins.forEach((s) => s.emit('page', incident));
   * ```
   */
  fetchSockets(
    options: { namespace?: string; room?: string | readonly string[] } = {},
  ): Promise<FetchedSocket<ServerToClient, SessionData>[]> {
    checkOptionNames('io.fetchSockets()', options, FETCH_OPTIONS);
    return this.#targeted(options).fetchSockets();
  }

  /**
   * Adds clients to rooms: every client of the namespace, or those in the rooms `to` names.
   *
   * @example
   * ```ts
   * await io.socketsJoin('announcements', { namespace: '/chat' });
   * await io.socketsJoin(['r2'], { to: 'r1' }); // every member of r1 joins r2
   * ```
   */
  socketsJoin(room: string | readonly string[], options: SocketsOptions = {}): Promise<void> {
    checkOptionNames('io.socketsJoin()', options, SOCKETS_OPTIONS);
    return this.#targeted(options).socketsJoin(room);
  }

  /**
   * Removes clients from rooms: every client of the namespace, or those `to` names.
   *
   * @example
   * ```ts
   * await io.socketsLeave('game-7', { to: 'game-7' }); // empties the room
   * ```
   */
  socketsLeave(room: string | readonly string[], options: SocketsOptions = {}): Promise<void> {
    checkOptionNames('io.socketsLeave()', options, SOCKETS_OPTIONS);
    return this.#targeted(options).socketsLeave(room);
  }

  /**
   * Disconnects clients (with `close`, their whole connections): the namespace's, or `to`'s.
   *
   * @example
   * ```ts
   * await io.disconnectSockets(false, { to: 'banned' });
   * await io.disconnectSockets(true); // every connection, closed
   * ```
   */
  disconnectSockets(close = false, options: SocketsOptions = {}): Promise<void> {
    checkOptionNames('io.disconnectSockets()', options, SOCKETS_OPTIONS);
    return this.#targeted(options).disconnectSockets(close);
  }

  #targeted(options: {
    namespace?: string;
    room?: string | readonly string[];
    to?: string | readonly string[];
  }): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    const op = this.of(options.namespace ?? '/');
    const rooms = options.to ?? options.room;
    return rooms === undefined ? op : op.to(rooms);
  }

  /**
   * `io.of('/').emitWithAck(event, ...args)`: every client's ack, within 60 s.
   *
   * @example
   * ```ts
   * const votes = await io.emitWithAck('vote', 'lunch?'); // one per client
   * ```
   */
  emitWithAck<E extends EventNamesWithAck<ServerToClient>>(
    event: E,
    ...args: EventArgs<ServerToClient, E>
  ): Promise<AckValue<ServerToClient, E>[]> {
    return this.of('/').emitWithAck(event, ...args);
  }

  /**
   * Sends an unnamed message (`json` event with `{ json: true }`) from anywhere; not checked
   * against the event map.
   */
  send(data: unknown, options: ServerEmitOptions & { json?: boolean } = {}): void {
    checkOptionNames('io.send()', options, SEND_OPTIONS);
    const { json, ...rest } = options;
    this.#emit(json === true ? 'json' : 'message', data, rest);
  }

  /** Removes every client from a room. */
  closeRoom(room: string, options: { namespace?: string; ignoreQueue?: boolean } = {}): void {
    checkOptionNames('io.closeRoom()', options, CLOSE_ROOM_OPTIONS);
    this.#ops.closeRoom(room, namespaceName(options.namespace), options.ignoreQueue === true);
  }

  /**
   * Handles a server-side event that another server process sent with `serverSideEmit` or
   * `serverSideEmitWithAck` (socket.io's `io.on(event)` for server-side events). The handler's
   * return value (or what its promise resolves to) is this process's answer to
   * `serverSideEmitWithAck`. One handler per event: registering again replaces it. It runs
   * through the scheduler, like ack callbacks; what it throws is logged and answered as `null`.
   *
   * @example
   * ```ts
   * io.onServerSide('load?', () => os.loadavg()[0]);
   * io.onServerSide('announce', (text: string) => io.local.emit('announcement', text));
   * ```
   */
  onServerSide<E extends EventNames<ServerSide>>(
    event: E,
    handler: ServerSideHandler<ServerSide, E>,
  ): void {
    checkEventName(event);
    if (typeof handler !== 'function')
      throw new UsageError(`io.onServerSide("${event}", handler): handler must be a function`);
    // Typed by the ServerSide event map; called with what the other process sent.
    this.#hub.serverSideHandlers.set(event, handler as (...args: unknown[]) => unknown);
  }

  /**
   * Sends an event to every other server process on the message queue (their
   * {@link onServerSide} handlers), not to clients. Without a message queue there is no other
   * process and nothing is sent. With a function as the last argument (socket.io's shape), it
   * waits like {@link serverSideEmitWithAck} and calls it with `(err, answers)`.
   *
   * @example
   * ```ts
   * io.serverSideEmit('announce', 'maintenance at 02:00');
   * io.serverSideEmit('load?', (err, loads) => console.log(err ?? loads));
   * ```
   */
  serverSideEmit<E extends EventNames<ServerSide>>(
    event: E,
    ...args: EventArgs<ServerSide, E> | [...EventArgs<ServerSide, E>, AcksCallback]
  ): true {
    const last = args.at(-1);
    if (typeof last === 'function') {
      const callback = last as AcksCallback;
      const sent = this.#ops.serverSideEmit(event, args.slice(0, -1), true);
      settleAcks(this.#ops, event, sent, callback);
      return true;
    }
    void this.#ops.serverSideEmit(event, args, false);
    return true;
  }

  /**
   * Sends a server-side event to every other server process and resolves with each one's
   * answer (its {@link onServerSide} handler's value), within the message queue's
   * `requestTimeout` (5 s by default; `io.timeout(s).serverSideEmitWithAck(...)` sets another).
   * Rejects with `ClusterTimeoutError` (`MQ_ERR_TIMEOUT`) naming how many answered; a process
   * that left meanwhile is not waited for. Without a message queue it resolves with `[]`.
   *
   * @example
   * ```ts
   * const counts = await io.serverSideEmitWithAck('users?'); // one per other process
   * ```
   */
  serverSideEmitWithAck<E extends EventNamesWithAck<ServerSide>>(
    event: E,
    ...args: EventArgs<ServerSide, E>
  ): Promise<AckValue<ServerSide, E>[]> {
    return this.of('/').serverSideEmitWithAck(event, ...args);
  }

  /** Emits to one client (`to` is required) and waits for its ack arguments. */
  call<E extends EventNamesWithAck<ServerToClient>>(
    event: E,
    ...rest: FlaskEmitRest<ServerToClient, E, CallOptions>
  ): Promise<CallResult<ServerToClient, E>>;
  async call(event: string, data?: unknown, options: CallOptions = {}): Promise<unknown[]> {
    checkOptionNames('io.call()', options, CALL_OPTIONS);
    if (options.to === undefined)
      throw new UsageError('io.call(): pass { to: sid } to name the client');
    return this.#ops.call({
      nsp: namespaceName(options.namespace),
      event,
      args: toArgs(data),
      sid: options.to,
      timeoutSeconds: options.timeout ?? 60,
    });
  }

  /**
   * The session of the client whose event is being handled (the context function `session()`),
   * typed by this server's `SessionData`.
   *
   * @example
   * ```ts
   * const io = new SocketIO<ClientToServer, ServerToClient, DefaultEventsMap, { count?: number }>();
   * io.on('hit', () => (io.session().count = (io.session().count ?? 0) + 1));
   * ```
   */
  session(): SessionData {
    // The session as the app keeps it; SessionData is the app's word for its shape.
    return session() as SessionData;
  }

  /** Starts `target(...args)` as a background task on the scheduler. */
  startBackgroundTask<A extends unknown[], T>(
    target: (...args: A) => T | Promise<T>,
    ...args: A
  ): Task<Awaited<T>> {
    return this.scheduler.startBackgroundTask(target, ...args);
  }

  /** Waits on the scheduler's clock (seconds; 0 just yields). */
  sleep(seconds = 0): Promise<void> {
    return this.scheduler.sleep(seconds);
  }

  /**
   * Resolves once everything emitted before it reached the message queue: Redis answered each
   * PUBLISH, RabbitMQ confirmed each message. Otherwise it rejects with `NotDeliveredError`
   * (`MQ_ERR_NOT_DELIVERED`), whose `undelivered` counts the messages emitted since the last
   * flush that the broker did not take; it settles within 5 s, even with the broker
   * unreachable. Without a message queue it resolves at once. With room-aware routing
   * (`messageQueueOptions.routing: 'rooms'`) it also waits until the broker has every room
   * route this process listens to: after `await io.flush()`, a room joined here hears emits to
   * it from every process.
   *
   * @example
   * ```ts
   * const io = new SocketIO({ messageQueue: 'redis://127.0.0.1:6379/0' });
   * for (const line of lines) io.emit('line', line);
   * await io.flush(); // every line is on the broker; clients of every server get them
   * ```
   */
  async flush(): Promise<void> {
    await this.#bus?.flush();
  }

  /**
   * Message-queue counters, or undefined without a queue: `published`, `received`, `lost` (this
   * process's messages that never reached the broker), `missed` (other processes' messages that
   * never reached this one), `reconnects`, `buffered` (waiting for the broker), `skipped` (no
   * local target), `connected` and `peers` (the other server processes on the channel, from
   * their heartbeats: those cluster queries wait for), `routes` (room routes listened to, with
   * `messageQueueOptions.routing: 'rooms'`).
   */
  queueStats(): BusStats | undefined {
    return this.#bus?.stats;
  }

  /**
   * Volatile packets dropped since start because a client's transport could not take them.
   *
   * @example
   * ```ts
   * io.volatile.emit('position', x, y);
   * console.log(`${io.volatileDropped} volatile packets dropped so far`);
   * ```
   */
  get volatileDropped(): number {
    return this.#hub.volatileDropped;
  }

  /** How many connection actors are in each lifecycle phase. */
  phaseCounts(): PhaseCounts {
    return this.engine.phaseCounts();
  }

  /**
   * Flask-SocketIO's `run`: attaches to the app (an http.Server or https.Server, a
   * request listener such as an Express app, a Koa app, or the one given to the
   * constructor) and listens on `host` (default 127.0.0.1) and `port` (default
   * 5000); resolves once listening.
   *
   * Like the CLI, it then stops the server on SIGINT or SIGTERM (clients get a clean
   * `server shutdown` close, the message queue is flushed) and exits the process: 0, or 1
   * when something emitted was not delivered. `handleSignals: false` leaves the signals to
   * the app (which then calls {@link stop} itself).
   *
   * @example
   * ```ts
   * await io.run(expressApp, { host: '0.0.0.0', port: 8000 });
   * // The app handles signals itself:
   * await io.run(undefined, { port: 8000, handleSignals: false });
   * process.on('SIGTERM', () => void io.stop().then(() => process.exit(0)));
   * ```
   */
  async run(
    app?: AppLike,
    where: { host?: string; port?: number; handleSignals?: boolean } = {},
  ): Promise<ListenAddress> {
    if (typeof where !== 'object' || where === null)
      throw new UsageError('io.run(app, { host, port }): the second argument must be an object');
    checkOptionNames('io.run()', where, WHERE_OPTIONS);
    // In a worker-pool thread the main thread serves; run() does nothing here.
    if (this.#inPool) return { host: '', port: 0 };
    const { host = '127.0.0.1', port = 5000, handleSignals = true } = where;
    const address = await this.#serving.run(app, 'io.run(app, { host, port })', host, port);
    if (handleSignals) this.#forgetSignals ??= stopOnSignals(this);
    return address;
  }

  /** Readies the scheduler for serving (again, after a stop()). */
  #startScheduler(): void {
    this.scheduler.reopen?.();
    // Not awaited: run() is often called from the app module's own top-level await, and
    // the module's exports exist only once it has finished evaluating. Tasks wait for
    // them where they must (see WorkerPoolScheduler.startBackgroundTask).
    if (this.scheduler instanceof WorkerPoolScheduler) void this.scheduler.loadExports();
  }

  /** Where the server listens (after `run()`). */
  address(): ListenAddress {
    return this.#serving.address();
  }

  /**
   * Closes every connection (`server shutdown`), rejects pending calls, stops listening. With a
   * message queue it first delivers what was emitted before it, as {@link flush} does, then
   * closes the broker connection (6 s at most in all with the broker away); once everything
   * is closed it rejects with `NotDeliveredError` if something was not delivered.
   */
  async stop(): Promise<void> {
    this.#forgetSignals?.();
    this.#forgetSignals = undefined;
    // Closing removes clients from the set: keep them to wait for their disconnect handlers.
    const clients = [...this.#clients.values()];
    this.engine.close();
    await this.#serving.close();
    await Promise.all(clients.map((c) => c.settled()));
    // Kept in memory, the sessions end with the server; a shared store writes the ones the
    // shutdown kept (a few seconds at most) before the broker connection goes.
    if ((await this.#hub.recovery?.store.close()) === false)
      this.#hub.options.logger.warn(
        'connection state recovery: some sessions kept at shutdown could not be written; their clients will connect fresh',
      );
    try {
      await this.#bus?.close();
    } finally {
      await this.scheduler.close();
    }
  }

  /** An in-process client that talks to this server without a network. */
  async testClient(
    app?: AppLike | TestClientOptions,
    options: TestClientOptions = {},
  ): Promise<TestClient> {
    if (isOptions(app)) options = app as TestClientOptions;
    const client = new TestClient(this.#hub);
    await client.connect(options.namespace, options);
    return client;
  }
}
