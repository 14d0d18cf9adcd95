/**
 * `SocketIO`: the server object of Flask-SocketIO, in TypeScript. Registration,
 * emitting from anywhere, background tasks, run/stop.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EngineServer } from '../engine/server.js';
import type { EngineConnection } from '../engine/connection.js';
import type { PhaseCounts } from '../engine/server.js';
import { attachApp, listen, unlisten } from '../engine/listen.js';
import type { AppLike, ListenAddress } from '../engine/listen.js';
import { UsageError } from '../errors.js';
import { createScheduler, resolveAsyncMode } from '../../schedulers/select.js';
import type { AsyncMode, Scheduler, Task } from '../../schedulers/scheduler.js';
import { WorkerPoolScheduler } from '../../schedulers/worker-pool.js';
import { createQueue } from '../queues/create.js';
import { PubSub } from '../queues/pubsub.js';
import type { QueueStats } from '../queues/queue.js';
import { poolWorkerData, setJobRunner } from '../../schedulers/worker-runtime.js';
import { toArgs } from './args.js';
import type { HubOps } from './context.js';
import { applyEffect, createRemoteRunner, RemoteOps } from './remote.js';
import { SioClient } from './client.js';
import { Hub } from './hub.js';
import type { Namespace } from './namespace.js';
import { resolveSocketIOOptions } from './options.js';
import type { SocketIOOptions } from './options.js';
import { namespaceName } from './registry.js';
import type { ErrorHandler, EventHandler } from './registry.js';
import { StatusPage } from './status.js';
import { TestClient } from './test-client.js';
import type { TestClientOptions } from './test-client.js';

/** Options of the server-level {@link SocketIO.emit}. */
export interface ServerEmitOptions {
  /** Default '/'. */
  namespace?: string;
  /** A room or rooms (a sid is a room); without it, every client of the namespace. */
  to?: string | readonly string[];
  /** Same as `to`. */
  room?: string | readonly string[];
  /** A sid or sids not to send to. */
  skipSid?: string | readonly string[];
  /** Called with the client's ack arguments; only when `to` is one client's sid. */
  callback?: (...args: unknown[]) => unknown;
  /** Do not publish on the message queue. */
  ignoreQueue?: boolean;
}

/** In a `--processes N` cluster, session ids start with the process index so the front can route them. */
function processSidPrefix(): string | undefined {
  const index = process.env.SOCKETIO_PROCESS_INDEX;
  return index !== undefined && /^\d+$/.test(index) ? `p${index}.` : undefined;
}

/** Serves the installed socket.io-client's browser bundles beside the endpoint. */
function serveClientBundle(engine: EngineServer): void {
  let dist: string;
  try {
    dist = join(
      dirname(createRequire(import.meta.url).resolve('socket.io-client/package.json')),
      'dist',
    );
  } catch {
    return; // not installed: nothing to serve (requests get 404)
  }
  for (const name of ['socket.io.js', 'socket.io.min.js', 'socket.io.esm.min.js']) {
    engine.files.add(name, join(dist, name), 'application/javascript; charset=utf-8');
    engine.files.add(`${name}.map`, join(dist, `${name}.map`), 'application/json; charset=utf-8');
  }
}

function isOptions(value: unknown): value is SocketIOOptions {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { listen?: unknown }).listen !== 'function'
  );
}

function list(value: string | readonly string[] | undefined): readonly string[] | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : value;
}

/**
 * A Socket.IO v5 server with Flask-SocketIO's programming model.
 *
 * @example
 * ```ts
 * import { SocketIO, emit } from 'socketio-actors';
 * const io = new SocketIO();
 * io.on('chat', (msg: string) => emit('chat', msg, { broadcast: true }));
 * await io.run(undefined, { port: 5000 });
 * ```
 */
export class SocketIO {
  /** The Engine.IO server underneath. */
  readonly engine: EngineServer;
  /** The scheduler every handler, timer and background task runs through. */
  readonly scheduler: Scheduler;
  readonly #hub: Hub;
  #bus: PubSub | undefined;
  #status: StatusPage | undefined;
  #ops: HubOps;
  #inPool = false;
  #app: AppLike;
  #server: HttpServer | undefined;
  #address: ListenAddress | undefined;
  /** http.Server apps whose request listeners already answer the status page first. */
  readonly #statusWrapped = new WeakSet<object>();
  /** The Socket.IO client of each live engine connection. */
  readonly #clients = new Map<EngineConnection, SioClient>();

  constructor(app?: AppLike | SocketIOOptions, options: SocketIOOptions = {}) {
    if (isOptions(app)) {
      options = app;
      app = undefined;
    }
    const resolved = resolveSocketIOOptions(options);
    this.scheduler =
      options.scheduler ??
      createScheduler(resolveAsyncMode(options.asyncMode), {
        onTaskError: (error) => resolved.logger.error('background task failed:', error),
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
        logger: resolved.logger,
        clock: this.scheduler.clock,
      });
      this.#bus = new PubSub(queue, this.scheduler, resolved.logger);
      this.#bus.attach(this.#hub);
      this.#hub.bus = this.#bus;
    }
    this.engine = new EngineServer({
      sidPrefix: processSidPrefix(),
      ...options,
      clock: this.scheduler.clock,
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
    if (options.serveClient ?? true) serveClientBundle(this.engine);
    if (options.statusPage !== undefined && !this.#inPool) {
      this.#status = new StatusPage(options.statusPage, this.#hub, this.scheduler, this.engine);
    }
    this.#app = app;
  }

  /** The async mode in use. */
  get asyncMode(): AsyncMode {
    return this.scheduler.mode;
  }

  /** Attaches to an app (an http.Server or a request listener) for a later `run()`. */
  initApp(app: AppLike): this {
    this.#app = app;
    return this;
  }

  /**
   * Registers a handler for an event (`connect`, `disconnect`, `message`, `json`,
   * a custom name, or `'*'` for everything else). Returns the handler.
   */
  on<F extends EventHandler>(event: string, handler: F, options: { namespace?: string } = {}): F {
    this.#hub.registry.on(namespaceName(options.namespace), event, handler);
    return handler;
  }

  /** The same as {@link on} (Flask-SocketIO's `on_event`). */
  onEvent<F extends EventHandler>(
    event: string,
    handler: F,
    options: { namespace?: string } = {},
  ): F {
    return this.on(event, handler, options);
  }

  /** Registers a class-based namespace. */
  onNamespace(instance: Namespace): void {
    instance.attachServer(this);
    this.#hub.registry.onNamespace(instance);
  }

  /** Error handler for '/' (`onError(handler)`) or a namespace (`onError('/chat', handler)`). */
  onError(namespaceOrHandler: string | ErrorHandler, handler?: ErrorHandler): void {
    if (typeof namespaceOrHandler === 'function')
      this.#hub.registry.onError('/', namespaceOrHandler);
    else if (handler !== undefined)
      this.#hub.registry.onError(namespaceName(namespaceOrHandler), handler);
    else throw new UsageError('onError(namespace, handler): the handler is missing');
  }

  /** Error handler for namespaces that have none of their own. */
  onErrorDefault(handler: ErrorHandler): void {
    this.#hub.registry.onError(undefined, handler);
  }

  /** Emits from anywhere: to a room or sid with `to`, else to every client of the namespace. */
  emit(event: string, data?: unknown, options: ServerEmitOptions = {}): void {
    this.#ops.emit({
      nsp: namespaceName(options.namespace),
      event,
      args: toArgs(data),
      to: list(options.to ?? options.room),
      skip: new Set(list(options.skipSid) ?? []),
      callback: options.callback,
      ignoreQueue: options.ignoreQueue === true,
    });
  }

  /** Sends an unnamed message (`json` event with `{ json: true }`) from anywhere. */
  send(data: unknown, options: ServerEmitOptions & { json?: boolean } = {}): void {
    const { json, ...rest } = options;
    this.emit(json === true ? 'json' : 'message', data, rest);
  }

  /** Removes every client from a room. */
  closeRoom(room: string, options: { namespace?: string; ignoreQueue?: boolean } = {}): void {
    this.#ops.closeRoom(room, namespaceName(options.namespace), options.ignoreQueue === true);
  }

  /** Emits to one client (`to` is required) and waits for its ack arguments. */
  call(
    event: string,
    data?: unknown,
    options: { to?: string; namespace?: string; timeout?: number } = {},
  ): Promise<unknown[]> {
    if (options.to === undefined)
      return Promise.reject(new UsageError('io.call(): pass { to: sid } to name the client'));
    return this.#ops.call({
      nsp: namespaceName(options.namespace),
      event,
      args: toArgs(data),
      sid: options.to,
      timeoutSeconds: options.timeout ?? 60,
    });
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
   * unreachable. Without a message queue it resolves at once.
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

  /** Message-queue counters (published, received, lost, reconnects, skipped), or undefined without a queue. */
  queueStats(): (QueueStats & { skipped: number; connected: boolean }) | undefined {
    return this.#bus?.stats;
  }

  /** How many connection actors are in each lifecycle phase. */
  phaseCounts(): PhaseCounts {
    return this.engine.phaseCounts();
  }

  /** Attaches to the app and starts listening; resolves once listening. */
  async run(app?: AppLike, where: { host?: string; port?: number } = {}): Promise<ListenAddress> {
    // In a worker-pool thread the main thread serves; run() does nothing here.
    if (this.#inPool) return { host: '', port: 0 };
    if (this.#server !== undefined)
      throw new UsageError('run(): the server is already running; call stop() first');
    // A server run again after stop(): its scheduler takes work again.
    this.scheduler.reopen?.();
    if (this.scheduler instanceof WorkerPoolScheduler) {
      await this.scheduler.ready();
      await this.scheduler.loadExports();
    }
    if (app !== undefined) this.#app = app;
    const host = where.host ?? '127.0.0.1';
    this.#status?.checkHost(host);
    const server = attachApp(this.engine, this.#withStatusPage(this.#app));
    await this.#bus?.listen();
    this.#address = await listen(server, {
      host: where.host ?? '127.0.0.1',
      port: where.port ?? 5000,
    });
    this.#server = server;
    return this.#address;
  }

  /** Wraps the app so the status page (when on) is answered before it. */
  #withStatusPage(app: AppLike): AppLike {
    const status = this.#status;
    if (status === undefined) return app;
    const path = this.engine.options.path;
    if (typeof app === 'object') {
      // An http.Server (wrapped once, however often it is run): answer the page ahead of its
      // own listeners.
      if (this.#statusWrapped.has(app)) return app;
      this.#statusWrapped.add(app);
      const earlier = app.listeners('request') as ((
        req: IncomingMessage,
        res: ServerResponse,
      ) => void)[];
      app.removeAllListeners('request');
      app.on('request', (req: IncomingMessage, res: ServerResponse) => {
        if (status.handles(req)) return void status.answer(req, res, path);
        for (const listener of earlier) listener.call(app, req, res);
        if (earlier.length === 0)
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
      });
      return app;
    }
    return (req: IncomingMessage, res: ServerResponse): void => {
      if (status.handles(req)) return void status.answer(req, res, path);
      if (app !== undefined) return void app(req, res);
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
    };
  }

  /** Where the server listens (after `run()`). */
  address(): ListenAddress {
    if (this.#address === undefined)
      throw new UsageError('address(): the server is not running; await io.run() first');
    return this.#address;
  }

  /**
   * Closes every connection (`server shutdown`), rejects pending calls, stops listening. With a
   * message queue it first delivers what was emitted before it, as {@link flush} does, then
   * closes the broker connection (6 s at most in all with the broker away); once everything
   * is closed it rejects with `NotDeliveredError` if something was not delivered.
   */
  async stop(): Promise<void> {
    // Closing removes clients from the set: keep them to wait for their disconnect handlers.
    const clients = [...this.#clients.values()];
    this.engine.close();
    const server = this.#server;
    this.#server = undefined;
    this.#address = undefined;
    if (server !== undefined) {
      await unlisten(server);
      // An app's own http.Server may be run again: it must not keep this run's listeners.
      this.engine.detach(server);
    }
    await Promise.all(clients.map((c) => c.settled()));
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
