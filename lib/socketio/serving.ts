/**
 * Where a `SocketIO` serves: the app `run()` serves, the servers it is attached to
 * (the app's own, or one `run()` / `listen()` made), the one it listens on and its
 * address; and the engine's share of serving (the browser client bundle, the
 * cluster's session-id prefix).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FRONT_ENV, clusterFront } from '../engine/cluster-front.js';
import type { EngineServer } from '../engine/server.js';
import { attachApp, isWebServer, listen, resolveApp, unlisten } from '../engine/listen.js';
import type { ListenAddress, ResolvedApp, WebServer } from '../engine/listen.js';
import { UsageError } from '../errors.js';

/**
 * In a `--processes N` cluster, session ids start with the process index so the front
 * can route them.
 *
 * @example
 * ```ts
 * new EngineServer({ sidPrefix: processSidPrefix() }); // 'p2.' in process 2
 * ```
 */
export function processSidPrefix(): string | undefined {
  const index = process.env[FRONT_ENV.index];
  return index !== undefined && /^\d+$/.test(index) ? `p${index}.` : undefined;
}

/**
 * Serves the installed socket.io-client's browser bundles beside the endpoint; says
 * so once when it is not installed (the bundle's URLs would be 404s).
 *
 * @example
 * ```ts
 * serveClientBundle(engine, (line) => logger.warn(line));
 * ```
 */
export function serveClientBundle(engine: EngineServer, warn: (line: string) => void): void {
  let dist: string;
  try {
    dist = join(
      dirname(createRequire(import.meta.url).resolve('socket.io-client/package.json')),
      'dist',
    );
  } catch {
    const path = engine.options.path;
    warn(
      `serveClient: socket.io-client is not installed, so /${path}/socket.io.min.js is a 404; npm install socket.io-client, or pass serveClient: false`,
    );
    return;
  }
  for (const name of ['socket.io.js', 'socket.io.min.js', 'socket.io.esm.min.js']) {
    engine.files.add(name, join(dist, name), 'application/javascript; charset=utf-8');
    engine.files.add(`${name}.map`, join(dist, `${name}.map`), 'application/json; charset=utf-8');
  }
}

/** What serving needs from the rest of the server. */
export interface ServingHooks {
  /** Readies the scheduler to take work (again, after a stop). */
  startScheduler(): void;
  /** Resolves once the scheduler can run handlers (worker-pool: its threads loaded the app). */
  ready(): Promise<void>;
  /** Refuses a listening address the server's options do not allow (the status page's rule). */
  checkHost(host: string | undefined): void;
  /** Subscribes to the message queue, if any (a serving process receives as well as publishes). */
  listenQueue(): Promise<void>;
  /** Reports a subscription that failed where nobody awaits it (an attached server). */
  queueError(error: unknown): void;
}

/**
 * The serving state of one server.
 *
 * @example
 * ```ts
 * const serving = new Serving(engine, hooks);
 * serving.useApp(expressApp, 'new SocketIO(app)');
 * await serving.run(undefined, 'io.run()', '127.0.0.1', 5000);
 * ```
 */
export class Serving {
  /** What `run()` serves when it is given no app. */
  #app: ResolvedApp = { listener: undefined };
  /** The servers the engine is attached to. */
  readonly #servers = new Set<WebServer>();
  /** The server `run()` / `listen()` started, and where. */
  #listening: WebServer | undefined;
  #address: ListenAddress | undefined;

  constructor(
    private readonly engine: EngineServer,
    private readonly hooks: ServingHooks,
  ) {}

  /** Takes the app: a server is attached at once, a request listener is kept for `serve()`. */
  useApp(app: unknown, where: string): void {
    this.#app = resolveApp(app, where);
    if (this.#app.server !== undefined) this.attach(this.#app.server);
  }

  /** Attaches the engine to the app's own server (which the app starts itself). */
  attach(server: WebServer): void {
    if (!isWebServer(server))
      throw new UsageError(
        'io.attach(server): pass an http.Server or https.Server (for an Express app: http.createServer(app); or use io.run(app, { port }))',
      );
    this.hooks.startScheduler();
    this.engine.attach(server);
    this.#servers.add(server);
    if (this.#app.server === undefined && this.#app.listener === undefined) this.#app = { server };
    this.hooks.listenQueue().catch((error: unknown) => this.hooks.queueError(error));
  }

  /**
   * Attaches to `app` (undefined: the one taken before) and listens (`host` undefined:
   * every interface); resolves once listening.
   */
  run(app: unknown, where: string, host: string | undefined, port: number): Promise<ListenAddress> {
    const resolved = app === undefined ? this.#app : resolveApp(app, where);
    if (app !== undefined) this.#app = resolved;
    return this.#serve(resolved, host, port);
  }

  /** Listens on a server of its own that serves the endpoint alone. */
  listenAlone(host: string | undefined, port: number): Promise<ListenAddress> {
    return this.#serve({ listener: undefined }, host, port);
  }

  async #serve(app: ResolvedApp, host: string | undefined, port: number): Promise<ListenAddress> {
    if (this.#listening !== undefined)
      throw new UsageError('run(): the server is already running; call stop() first');
    this.hooks.startScheduler();
    await this.hooks.ready();
    // Behind the cluster's front, users reach the front's host, not this process's loopback.
    this.hooks.checkHost(clusterFront()?.host ?? host);
    const server = attachApp(this.engine, app);
    this.#servers.add(server);
    await this.hooks.listenQueue();
    this.#address = await listen(server, { host, port });
    this.#listening = server;
    return this.#address;
  }

  /** Where the server listens (after `serve()`). */
  address(): ListenAddress {
    if (this.#address === undefined)
      throw new UsageError('address(): the server is not running; await io.run() first');
    return this.#address;
  }

  /**
   * Stops listening on every server it serves on, and gives each back its own listeners
   * (an app's own server may be attached or run again).
   */
  async close(): Promise<void> {
    const servers = [...this.#servers];
    this.#servers.clear();
    this.#listening = undefined;
    this.#address = undefined;
    for (const server of servers) {
      await unlisten(server);
      this.engine.detach(server);
    }
  }
}
