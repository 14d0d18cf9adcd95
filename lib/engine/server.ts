/**
 * The Engine.IO v4 server: HTTP routing, query checks, CORS, cookies and the
 * WebSocket upgrade, over one {@link EngineConnection} actor per session.
 * Knows nothing of Socket.IO; usable on its own like the `engine.io` package.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { realClock } from '../../schedulers/clock.js';
import type { Clock } from '../../schedulers/scheduler.js';
import { randomToken } from '../random.js';
import { EngineRequestError, OptionError, UsageError } from '../errors.js';
import { clientAddress } from './cluster-front.js';
import { EngineConnection } from './connection.js';
import type { ConnectionOwner, ConnectionRequest } from './connection.js';
import { PHASES } from './connection-machine.js';
import type { CloseReason, Phase } from './connection-machine.js';
import {
  answerError,
  answerPreflight,
  answerUpgradeError,
  originAllowed,
  sessionCookie,
} from './http.js';
import { MiddlewareChain } from './middleware.js';
import { Mounts } from './mount.js';
import type { Mountable, WebServer } from './mount.js';
import type { EngineMiddleware } from './middleware.js';
import { ENGINE_OPTION_NAMES, resolveEngineOptions } from './options.js';
import { checkOptionNames } from '../option-names.js';
import type { EngineOptions, ResolvedEngineOptions, TransportName } from './options.js';
import { PROTOCOL_VERSION } from './packets.js';
import { PollingTransport } from './polling.js';
import { StaticFiles } from './static.js';
import { EngineWebSocket, flushAtEndOfTick, WebSocketTransport } from './websocket.js';

/**
 * Events of an {@link EngineServer}.
 *
 * @group Engine
 */
export interface EngineServerEvents {
  /** A new session completed its handshake. */
  connection: [connection: EngineConnection];
  /**
   * An `use()` middleware failed with an error not meant for the client (no 4xx
   * `status`, no `expose`): the client got a plain 403, this event gets the error.
   */
  middlewareError: [error: unknown];
  /** A listener threw; the server keeps serving. */
  error: [error: unknown];
}

export type { WebServer } from './mount.js';

/**
 * How many connections are in each lifecycle phase (`closed`: since the server started).
 *
 * @group Engine
 */
export type PhaseCounts = Record<Phase, number>;

interface CheckedQuery {
  readonly transport: TransportName;
  readonly sid: string | undefined;
  readonly query: Record<string, string>;
  readonly connection: EngineConnection | undefined;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const end = url.indexOf('?');
  return end < 0 ? url : url.slice(0, end);
}

function uncorkSocket(socket: Duplex): void {
  socket.uncork();
}

/** An `error` listener for an upgraded socket. */
function destroySocket(this: Duplex): void {
  this.destroy();
}

/** A session id: 128 bits from the CSPRNG, base64url. */
function newSid(prefix: string): string {
  return prefix + randomToken(16);
}

/**
 * What a connection keeps of its handshake. The request itself only when middlewares
 * ran on it (what they leave there, a session or a user, is what handlers read); it
 * costs 1 to 2.6 KB per connection otherwise spent for nothing.
 */
function describeRequest(
  req: IncomingMessage,
  url: URL,
  query: Record<string, string>,
  keep: boolean,
): ConnectionRequest {
  return {
    http: keep ? req : undefined,
    headers: req.headers,
    query,
    remoteAddress: clientAddress(req.headers, req.socket.remoteAddress ?? ''),
    url: url.pathname + url.search,
  };
}

/**
 * A plain Engine.IO v4 server.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const engine = new EngineServer({ path: 'engine.io' });
 * engine.attach(createServer()).listen(3000);
 * engine.on('connection', (conn) => conn.on('message', (m) => conn.send(m)));
 * ```
 *
 * @group Engine
 */
export class EngineServer
  extends EventEmitter<EngineServerEvents>
  implements ConnectionOwner, Mountable
{
  readonly options: ResolvedEngineOptions;
  readonly #clock: Clock;
  readonly #flushWrites: (flush: () => void) => void;
  readonly #clients = new Map<string, EngineConnection>();
  readonly #wss: WebSocketServer;
  readonly #pathname: string;
  readonly #sidPrefix: string;
  #closedCount = 0;
  /** False from close() until the next attach(): new sessions get HTTP 503. */
  #accepting = true;
  /** What attach() did to each server, so detach() can undo it. */
  readonly #mounts: Mounts = new Mounts(this);

  readonly #recentCloses: number[] = [];
  /** Files served at `/<path>/<name>` (the Socket.IO layer adds its client bundle here). */
  readonly files = new StaticFiles();
  /** Pages served beside the endpoint wherever it is attached (the status page). */
  readonly #routes = new Map<string, RequestListener>();
  readonly #middlewares = new MiddlewareChain((error) => {
    if (this.listenerCount('middlewareError') > 0) this.emit('middlewareError', error);
    else console.error('socketio-actors: an engine middleware failed:', error);
  });

  constructor(options: EngineOptions = {}) {
    super();
    checkOptionNames('new EngineServer()', options, ENGINE_OPTION_NAMES);
    this.options = resolveEngineOptions(options);
    this.#clock = options.clock ?? realClock;
    this.#flushWrites = options.flushWrites ?? flushAtEndOfTick;
    const prefix = options.sidPrefix ?? '';
    if (typeof prefix !== 'string' || !/^[\w.-]{0,16}$/.test(prefix)) {
      throw new OptionError('sidPrefix', 'up to 16 letters, digits, -, _ or .', prefix);
    }
    this.#sidPrefix = prefix;
    this.#pathname = `/${this.options.path}/`;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxHttpBufferSize,
      perMessageDeflate: this.options.perMessageDeflate,
      clientTracking: false,
      WebSocket: EngineWebSocket,
    });
    this.#wss.on('headers', (headers: string[], req: IncomingMessage) =>
      this.#middlewares.addUpgradeHeaders(headers, req),
    );
  }

  /**
   * Adds a Connect/Express-style middleware, run in order on every Engine.IO HTTP
   * request (polling requests and WebSocket upgrades, not CORS preflights or the
   * served client files) before it is handled: socket.io 4.6+'s `io.engine.use`.
   * `next(error)` refuses the request with HTTP `error.status` (default 403) and
   * the body `{"code":4,"message":error.message}`; a middleware may also answer the
   * request itself. The handshake request, as the middlewares left it, is
   * `request().http` in handlers.
   *
   * @example
   * ```ts
   * io.engine.use(session({ secret: 'keyboard cat', resave: false, saveUninitialized: false }));
   * io.engine.use((req, res, next) => (req.headers['x-token'] === 'ok' ? next() : next(new Error('who are you?'))));
   * ```
   */
  use(middleware: EngineMiddleware): this {
    if (typeof middleware !== 'function')
      throw new UsageError('engine.use(middleware): pass a (req, res, next) function');
    this.#middlewares.add(middleware);
    return this;
  }

  /** Live sessions (not yet closed, or closed but still delivering their close packet). */
  get clientsCount(): number {
    return this.#clients.size;
  }

  /** The session with this id, if any. */
  connection(sid: string): EngineConnection | undefined {
    return this.#clients.get(sid);
  }

  /** Counts connections per lifecycle phase. */
  phaseCounts(): PhaseCounts {
    const counts = Object.fromEntries(PHASES.map((p) => [p, 0])) as PhaseCounts;
    for (const conn of this.#clients.values()) if (conn.phase !== 'closed') counts[conn.phase]++;
    counts.closed = this.#closedCount;
    return counts;
  }

  /** Connections closed in the last minute. */
  closedLastMinute(): number {
    const since = this.#clock.now() - 60_000;
    return this.#recentCloses.filter((t) => t >= since).length;
  }

  /** Whether a request is for this server's path (or one of its {@link route}s). */
  handles(req: IncomingMessage): boolean {
    const pathname = pathOf(req);
    return (
      this.#isEndpoint(pathname) ||
      this.#staticName(pathname) !== undefined ||
      this.#routes.has(pathname)
    );
  }

  #isEndpoint(pathname: string): boolean {
    return pathname === this.#pathname || pathname === this.#pathname.slice(0, -1);
  }

  /**
   * Answers requests for one more path (outside the Engine.IO path) wherever this
   * server is attached, ahead of the app's own routes.
   *
   * @example
   * ```ts
   * engine.route('/health', (req, res) => res.end('ok'));
   * ```
   */
  route(pathname: string, handler: RequestListener): void {
    this.#routes.set(pathname, handler);
  }

  #staticName(pathname: string): string | undefined {
    if (!pathname.startsWith(this.#pathname)) return undefined;
    const name = pathname.slice(this.#pathname.length);
    return this.files.has(name) ? name : undefined;
  }

  /**
   * Hooks this server into an HTTP server: requests for the path come here,
   * everything else goes to `fallback` or to the server's earlier listeners.
   */
  attach<S extends WebServer>(server: S, fallback?: RequestListener): S {
    this.#accepting = true;
    this.#mounts.mount(server, fallback);
    return server;
  }

  /**
   * Undoes {@link attach}: the server's earlier request listeners come back and its
   * upgrades are no longer taken. Attaching again later works as the first time.
   */
  detach(server: WebServer): void {
    this.#mounts.unmount(server);
  }

  /** Whether an upgrade request is for the endpoint (the only path that upgrades). */
  upgrades(req: IncomingMessage): boolean {
    return this.#isEndpoint(pathOf(req));
  }

  #check(req: IncomingMessage, url: URL, upgrade: boolean): CheckedQuery {
    const query = Object.fromEntries(url.searchParams);
    if (!originAllowed(req, this.options)) throw new EngineRequestError('EIO_ERR_FORBIDDEN');
    if (query.EIO !== PROTOCOL_VERSION)
      throw new EngineRequestError('EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION');
    const transport = query.transport;
    if (
      (transport !== 'polling' && transport !== 'websocket') ||
      !this.options.transports.includes(transport)
    ) {
      throw new EngineRequestError('EIO_ERR_UNKNOWN_TRANSPORT');
    }
    if (upgrade !== (transport === 'websocket'))
      throw new EngineRequestError('EIO_ERR_BAD_REQUEST', 'transport does not match the request');
    const sid = query.sid;
    if (sid === undefined) {
      if (!this.#accepting) throw new EngineRequestError('EIO_ERR_SHUTTING_DOWN');
      return { transport, sid, query, connection: undefined };
    }
    const connection = this.#clients.get(sid);
    if (connection === undefined) throw new EngineRequestError('EIO_ERR_UNKNOWN_SID');
    return { transport, sid, query, connection };
  }

  /** Answers one HTTP request for this server's path (long-polling, CORS preflight, served files). */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const route = this.#routes.get(pathOf(req));
    if (route !== undefined) return void route(req, res);
    const name = this.#staticName(pathOf(req));
    if (name !== undefined) return void this.files.answer(name, req, res);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'OPTIONS') {
      if (!originAllowed(req, this.options))
        return answerError(req, res, new EngineRequestError('EIO_ERR_FORBIDDEN'), this.options);
      return answerPreflight(req, res, this.options);
    }
    if (this.#middlewares.empty) return this.#poll(req, res, url);
    this.#middlewares.request(
      req,
      res,
      url,
      () => this.#poll(req, res, url),
      (answer) => answerError(req, res, answer, this.options),
    );
  }

  /** A polling request that passed the middlewares. */
  #poll(req: IncomingMessage, res: ServerResponse, url: URL): void {
    let checked: CheckedQuery;
    try {
      checked = this.#check(req, url, false);
    } catch (error) {
      return answerError(req, res, error as EngineRequestError, this.options);
    }
    const { connection } = checked;
    if (connection === undefined) {
      if (req.method !== 'GET')
        return answerError(
          req,
          res,
          new EngineRequestError('EIO_ERR_BAD_HANDSHAKE_METHOD'),
          this.options,
        );
      return this.#handshakePolling(req, res, url, checked.query);
    }
    const transport = connection.transport;
    if (!(transport instanceof PollingTransport)) {
      return answerError(
        req,
        res,
        new EngineRequestError('EIO_ERR_BAD_REQUEST', 'session upgraded to websocket'),
        this.options,
      );
    }
    if (req.method === 'GET') transport.handleGet(req, res);
    else if (req.method === 'POST') transport.handlePost(req, res);
    else
      answerError(
        req,
        res,
        new EngineRequestError('EIO_ERR_BAD_REQUEST', `method ${req.method ?? ''}`),
        this.options,
      );
  }

  #handshakePolling(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    query: Record<string, string>,
  ): void {
    const sid = newSid(this.#sidPrefix);
    const transport = new PollingTransport(this.options);
    const connection = this.#register(
      sid,
      transport,
      describeRequest(req, url, query, !this.#middlewares.empty),
    );
    const cookie = sessionCookie(this.options, sid);
    // Appended: a middleware's own cookie (a web session's) stays beside it.
    if (cookie !== undefined) res.appendHeader('Set-Cookie', cookie);
    transport.handleGet(req, res);
    this.#open(connection);
  }

  /** Takes a WebSocket upgrade request for this server's path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node's HTTP server hands over the socket without an error listener: a client that
    // resets it while we answer would otherwise crash the process. A function of its own,
    // not a closure here: one would keep this request (and its URL) alive for the
    // connection's whole life, about 1 KB each.
    socket.on('error', destroySocket);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (this.#middlewares.empty) return this.#upgrade(req, socket, head, url);
    this.#middlewares.upgrade(
      req,
      socket,
      url,
      () => this.#upgrade(req, socket, head, url),
      (answer) => answerUpgradeError(socket, answer),
    );
  }

  /** A WebSocket upgrade that passed the middlewares. */
  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    let checked: CheckedQuery;
    try {
      checked = this.#check(req, url, true);
    } catch (error) {
      return answerUpgradeError(socket, error as EngineRequestError);
    }
    // The 101 answer and the open packet leave in one write (one syscall less per handshake).
    socket.cork();
    process.nextTick(uncorkSocket, socket);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      // ws has its own error listener on the socket now.
      socket.removeListener('error', destroySocket);
      const deflate = this.options.perMessageDeflate;
      const transport = new WebSocketTransport(
        ws,
        deflate === false ? undefined : deflate.threshold,
        this.#flushWrites,
      );
      const { connection } = checked;
      if (connection === undefined) {
        const sid = newSid(this.#sidPrefix);
        this.#open(
          this.#register(
            sid,
            transport,
            describeRequest(req, url, checked.query, !this.#middlewares.empty),
          ),
        );
      } else {
        // A second WebSocket for a session (or a probe that cannot be taken) completes its
        // handshake and is closed; the session keeps its transport.
        connection.attachProbe(transport);
      }
    });
  }

  #register(
    sid: string,
    transport: PollingTransport | WebSocketTransport,
    request: ConnectionRequest,
  ): EngineConnection {
    const connection = new EngineConnection(
      sid,
      transport,
      request,
      this.options,
      this.#clock,
      this,
    );
    this.#clients.set(sid, connection);
    return connection;
  }

  #open(connection: EngineConnection): void {
    connection.open();
    try {
      this.emit('connection', connection);
    } catch (error) {
      this.listenerError(error, connection);
    }
  }

  /** @internal */
  closed(_connection: EngineConnection, _reason: CloseReason): void {
    this.#closedCount++;
    const now = this.#clock.now();
    this.#recentCloses.push(now);
    while ((this.#recentCloses[0] ?? now) < now - 60_000) this.#recentCloses.shift();
  }

  /** @internal */
  release(connection: EngineConnection): void {
    if (this.#clients.get(connection.id) === connection) this.#clients.delete(connection.id);
  }

  /** @internal */
  listenerError(error: unknown, _connection: EngineConnection): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else console.error('socketio-actors: a connection listener threw:', error);
  }

  /**
   * Takes new sessions again after {@link close} (attaching to a server does it too; this
   * is for an engine driven through `handleRequest` / `handleUpgrade`).
   *
   * @example
   * ```ts
   * engine.close(); // new handshakes get 503 while the app restarts its parts
   * engine.resume();
   * ```
   */
  resume(): void {
    this.#accepting = true;
  }

  /**
   * Closes every connection (reason `server shutdown`) and refuses new sessions (HTTP 503,
   * so clients retry later) until the server is attached again or {@link resume}d.
   */
  close(): void {
    this.#accepting = false;
    for (const connection of [...this.#clients.values()]) connection.close('server shutdown');
  }
}
