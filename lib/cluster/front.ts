/**
 * The front of a `--processes N` cluster: one port that proxies every HTTP request
 * and WebSocket upgrade to the process that owns its session (session ids start
 * with `p<i>.`), and a request without a session to the next serving process.
 *
 * When a process is down (it died and is being restarted):
 * ```
 *  no sid (a handshake)  ──> the next serving process; one that refuses the connection,
 *                            or closes it before answering, is skipped and the request
 *                            retried on another; none serving:
 *                            wait up to 5 s for one, then 503 EIO_ERR_NO_PROCESS
 *  sid p<i>. of a dead i ──> 400 {"code":1,"message":"Session ID unknown"} (an upgrade: the
 *                            same answer, then close); socket.io-client reconnects
 * ```
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FRONT_TOKEN_HEADER } from '../engine/cluster-front.js';
import { EngineRequestError } from '../errors.js';
import { answerUpgradeError } from '../engine/http.js';
import type { Target } from './supervisor.js';

/** How long a handshake waits for a process to serve when none does. */
const WAIT_FOR_PROCESS_MS = 5000;

/** What the front asks of the processes' supervisor. */
export interface Routes {
  /** Process `index`, if it serves now. */
  target(index: number): Target | undefined;
  /** The next serving process in turn whose port is not in `skip`. */
  next(skip: ReadonlySet<number>): Target | undefined;
  /** Resolves true when a process changes state within `ms`. */
  whenChanged(ms: number): Promise<boolean>;
}

/** Where a request goes: its session's owner, or any serving process. */
type Destination = { readonly owner: number | undefined } | 'any';

function destinationOf(req: IncomingMessage): Destination {
  const query = (req.url ?? '').split('?')[1];
  const sid = query === undefined ? null : new URLSearchParams(query).get('sid');
  if (sid === null) return 'any';
  const index = /^p(\d+)\./.exec(sid)?.[1];
  return { owner: index === undefined ? undefined : Number(index) };
}

/**
 * The request's headers as the process gets them: the client's address appended to
 * `X-Forwarded-For` and the front's token, which tells the process to believe it.
 */
function forwardedHeaders(req: IncomingMessage, token: string): OutgoingHttpHeaders {
  return {
    ...req.headers,
    'x-forwarded-for': [req.headers['x-forwarded-for'], req.socket.remoteAddress]
      .filter(Boolean)
      .join(', '),
    [FRONT_TOKEN_HEADER]: token,
  };
}

function answerJson(res: ServerResponse, error: EngineRequestError): void {
  const body = JSON.stringify(error.body());
  res
    .writeHead(error.status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    })
    .end(body);
}

/**
 * Tries serving processes in turn until `attempt` takes one (resolves true); false
 * when none did within {@link WAIT_FOR_PROCESS_MS} or `clientLeft()` says so.
 */
async function anyProcess(
  routes: Routes,
  attempt: (target: Target) => Promise<boolean>,
  clientLeft: () => boolean,
): Promise<boolean> {
  const deadline = performance.now() + WAIT_FOR_PROCESS_MS;
  // Ports, not indexes: a process restarted since it refused listens on a new port.
  const tried = new Set<number>();
  while (!clientLeft()) {
    const target = routes.next(tried);
    if (target !== undefined) {
      tried.add(target.port);
      if (await attempt(target)) return true;
      continue;
    }
    const left = deadline - performance.now();
    if (left <= 0 || !(await routes.whenChanged(left))) return false;
  }
  return false;
}

/** A handshake (or any bodiless GET without a session) can be sent again to another process. */
function retryable(req: IncomingMessage): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    req.headers['content-length'] === undefined &&
    req.headers['transfer-encoding'] === undefined
  );
}

/**
 * Sends `req` to `port`. Resolves true once the process answered (its answer is then
 * piped to `res`), false when it could not be reached before answering (nothing was
 * sent to the client).
 */
function forward(
  req: IncomingMessage,
  res: ServerResponse,
  port: number,
  token: string,
  resend: boolean,
): Promise<boolean> {
  return new Promise((resolve) => {
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: req.method,
        path: req.url,
        headers: forwardedHeaders(req, token),
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        // A process that dies mid-answer: the client must not take a cut answer for whole.
        answer.on('close', () => {
          if (!answer.complete) res.destroy();
        });
        resolve(true);
      },
    );
    upstream.on('error', () => {
      if (res.headersSent) res.destroy();
      resolve(false);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (resend) upstream.end();
    else req.pipe(upstream);
  });
}

/**
 * Whether the process a request could not reach is gone: it is not serving on that
 * port any more, or stops within a moment (its exit is reported a little after its
 * port closes).
 */
async function gone(routes: Routes, target: Target): Promise<boolean> {
  const deadline = performance.now() + 250;
  for (;;) {
    if (routes.target(target.index)?.port !== target.port) return true;
    const left = deadline - performance.now();
    if (left <= 0 || !(await routes.whenChanged(left))) return false;
  }
}

function unavailable(res: ServerResponse): void {
  if (!res.headersSent && !res.destroyed)
    res.writeHead(502, { 'Content-Type': 'text/plain' }).end('the server process is unavailable');
}

/** Opens a connection to `port`; undefined when the process refuses it. */
function connectTo(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const upstream = connect(port, '127.0.0.1');
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      resolve(upstream);
    });
    upstream.once('error', () => resolve(undefined));
  });
}

/**
 * Sends the upgrade request to `upstream` and, once the process has answered (its first
 * bytes), joins the two sockets. Resolves false, with nothing sent to the client, when
 * the process closes before answering: one killed while the connection sat in its
 * accept queue takes it and dies, and a handshake can go to another process instead.
 */
function pipeUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  upstream: Socket,
  token: string,
): Promise<boolean> {
  const headers = Object.entries(forwardedHeaders(req, token))
    .flatMap(([k, v]) =>
      Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : v === undefined ? [] : [`${k}: ${String(v)}`],
    )
    .join('\r\n');
  upstream.write(`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n${headers}\r\n\r\n`);
  upstream.write(head);
  return new Promise((resolve) => {
    const unanswered = (): void => {
      upstream.destroy();
      resolve(false);
    };
    const clientLeft = (): void => {
      upstream.destroy();
      resolve(true);
    };
    upstream.once('error', unanswered).once('close', unanswered);
    socket.once('close', clientLeft);
    upstream.once('data', (first: Buffer) => {
      upstream.off('error', unanswered).off('close', unanswered);
      socket.off('close', clientLeft);
      upstream.pause();
      socket.write(first);
      const drop = (): void => {
        socket.destroy();
        upstream.destroy();
      };
      upstream.on('error', drop);
      socket.on('error', drop);
      socket.pipe(upstream).pipe(socket);
      resolve(true);
    });
  });
}

const unknownSession = (): EngineRequestError => new EngineRequestError('EIO_ERR_UNKNOWN_SID');
const noProcess = (): EngineRequestError => new EngineRequestError('EIO_ERR_NO_PROCESS');

/**
 * The front's HTTP server (not yet listening).
 *
 * @example
 * ```ts
 * createFront(supervisor, token).listen(5000, '0.0.0.0');
 * ```
 */
export function createFront(routes: Routes, token: string): Server {
  const front = createServer((req, res) => {
    const destination = destinationOf(req);
    if (destination !== 'any') {
      const owner = destination.owner === undefined ? undefined : routes.target(destination.owner);
      if (owner === undefined) return answerJson(res, unknownSession());
      void forward(req, res, owner.port, token, false).then(async (answered) => {
        if (answered || res.headersSent || res.destroyed) return;
        if (await gone(routes, owner)) answerJson(res, unknownSession());
        else unavailable(res);
      });
      return;
    }
    const resend = retryable(req);
    const attempt = async (target: Target): Promise<boolean> => {
      if (await forward(req, res, target.port, token, resend)) return true;
      if (resend) return false;
      // Its body went to the process that failed: it cannot be sent again.
      unavailable(res);
      return true;
    };
    void anyProcess(routes, attempt, () => res.destroyed).then((taken) => {
      if (!taken && !res.headersSent && !res.destroyed) answerJson(res, noProcess());
    });
  });
  front.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const take = async (target: Target): Promise<boolean> => {
      const upstream = await connectTo(target.port);
      if (upstream === undefined || socket.destroyed) {
        upstream?.destroy();
        return false;
      }
      return pipeUpgrade(req, socket, head, upstream, token);
    };
    const destination = destinationOf(req);
    if (destination !== 'any') {
      const owner = destination.owner === undefined ? undefined : routes.target(destination.owner);
      if (owner === undefined) return answerUpgradeError(socket, unknownSession());
      void take(owner).then((taken) => {
        if (!taken && !socket.destroyed) answerUpgradeError(socket, unknownSession());
      });
      return;
    }
    void anyProcess(routes, take, () => socket.destroyed).then((taken) => {
      if (!taken && !socket.destroyed) answerUpgradeError(socket, noProcess());
    });
  });
  return front;
}
