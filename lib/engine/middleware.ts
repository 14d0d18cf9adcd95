/**
 * Connect-style middleware on the Engine.IO server's HTTP requests
 * (`engine.use((req, res, next) => …)`), the contract of socket.io 4.6+'s
 * `io.engine.use`: each runs in order on every polling request and WebSocket
 * upgrade of the endpoint, before the request is handled; express-session,
 * passport and helmet work unchanged. `next(error)` refuses the request.
 */
import { ServerResponse } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { EngineRequestError } from '../errors.js';

/**
 * A request as middlewares see it: `_query` is its parsed query, as engine.io sets it
 * (always set here; optional in the type so Express's handlers fit without a cast).
 *
 * @group Engine
 */
export type EngineRequest = IncomingMessage & { _query?: Record<string, string> };

/**
 * A Connect/Express-style middleware. Declared as a method so its parameters are
 * compared both ways: Express's own handlers (typed for `express.Request`, which
 * extends `IncomingMessage`) are accepted without a cast.
 *
 * @group Engine
 */
export type EngineMiddleware = {
  middleware(req: EngineRequest, res: ServerResponse, next: (error?: unknown) => void): unknown;
}['middleware'];

/**
 * Runs `middlewares` in order; `done` gets the first error passed to `next` (or
 * thrown, or rejected by an async middleware), or nothing once the last one called
 * `next()`. A middleware that answers the request itself and never calls `next`
 * ends the chain.
 *
 * @example
 * ```ts
 * runMiddlewares([sessionMiddleware], req, res, (error) => (error ? refuse(error) : handle()));
 * ```
 */
export function runMiddlewares(
  middlewares: readonly EngineMiddleware[],
  req: EngineRequest,
  res: ServerResponse,
  done: (error?: unknown) => void,
): void {
  const step = (index: number): void => {
    const middleware = middlewares[index];
    if (middleware === undefined) return done();
    let called = false;
    const next = (error?: unknown): void => {
      if (called) return;
      called = true;
      if (error !== undefined && error !== null) return done(error);
      step(index + 1);
    };
    try {
      const result = middleware(req, res, next);
      if (result instanceof Promise) result.catch((error: unknown) => next(error ?? 'rejected'));
    } catch (error) {
      next(error ?? 'threw');
    }
  };
  step(0);
}

/**
 * Wraps a middleware so it runs only on handshakes (requests without a `sid`):
 * a session store is then read once per connection, not on every polling request.
 *
 * @example
 * ```ts
 * io.engine.use(handshakeOnly(sessionMiddleware));
 * ```
 *
 * @group Engine
 */
export function handshakeOnly(middleware: EngineMiddleware): EngineMiddleware {
  return (req, res, next) => (req._query?.sid === undefined ? middleware(req, res, next) : next());
}

/**
 * The answer to a request a middleware refused with `next(error)`: the error's
 * `status` (or `statusCode`, 400-599; 403 without one) and, when the error is meant
 * for the client (a 4xx status, or `expose: true`, as http-errors makes them), its
 * message; otherwise the plain "Forbidden", so that a failing middleware's internals
 * (a connection string in a store's error) never reach a client.
 *
 * @example
 * ```ts
 * refusal(Object.assign(new Error('log in first'), { status: 401 })).answer.body(); // { code: 4, message: 'log in first' }
 * refusal(new Error('ECONNREFUSED 10.0.0.5:6379')); // { answer: …'Forbidden', exposed: false }
 * ```
 */
export function refusal(reason: unknown): { answer: EngineRequestError; exposed: boolean } {
  const { status, statusCode, message, expose } = (reason ?? {}) as {
    status?: unknown;
    statusCode?: unknown;
    message?: unknown;
    expose?: unknown;
  };
  const candidate = typeof status === 'number' ? status : statusCode;
  const code =
    typeof candidate === 'number' && candidate >= 400 && candidate <= 599 ? candidate : undefined;
  const shown =
    (expose === true || (code !== undefined && code < 500 && expose !== false)) &&
    typeof message === 'string' &&
    message !== ''
      ? message
      : undefined;
  return {
    answer: new EngineRequestError('EIO_ERR_REFUSED', shown, code),
    exposed: shown !== undefined,
  };
}

/**
 * A response for middlewares to use on a WebSocket upgrade request: what they
 * answer themselves (a 401, a redirect) is written to the socket, which is then
 * closed; the headers they set (a session cookie) go into the 101 answer.
 *
 * @example
 * ```ts
 * const res = upgradeResponse(req, socket);
 * runMiddlewares(list, req, res, () => { res.detachSocket(socket as Socket); ... });
 * ```
 */
export function upgradeResponse(req: IncomingMessage, socket: Duplex): ServerResponse {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once('finish', () => socket.end());
  return res;
}

/** Gives a request the `_query` middlewares expect (engine.io's name for the parsed query). */
function withQuery(req: IncomingMessage, url: URL): EngineRequest {
  return Object.assign(req, { _query: Object.fromEntries(url.searchParams) });
}

/**
 * The middlewares of one engine, run on its polling requests and its upgrades.
 *
 * @example
 * ```ts
 * const chain = new MiddlewareChain((error) => console.error(error));
 * chain.add(sessionMiddleware);
 * chain.request(req, res, url, () => handle(req, res), (answer) => answerError(req, res, answer, options));
 * ```
 */
export class MiddlewareChain {
  readonly #list: EngineMiddleware[] = [];
  /** Headers middlewares set on an upgrade request (a session cookie), for its 101 answer. */
  readonly #upgradeHeaders = new WeakMap<IncomingMessage, OutgoingHttpHeaders>();

  /** `report` gets the errors not meant for the client (their client got a plain 403). */
  constructor(private readonly report: (error: unknown) => void) {}

  add(middleware: EngineMiddleware): void {
    this.#list.push(middleware);
  }

  get empty(): boolean {
    return this.#list.length === 0;
  }

  /** Runs the chain on a polling request: `pass` when it went through, `refuse` with the answer. */
  request(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    pass: () => void,
    refuse: (answer: EngineRequestError) => void,
  ): void {
    this.#run(req, res, url, () => res.socket === null || res.socket.destroyed, pass, refuse);
  }

  /** Runs the chain on an upgrade request, with a response on its socket. */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    url: URL,
    pass: () => void,
    refuse: (answer: EngineRequestError) => void,
  ): void {
    const res = upgradeResponse(req, socket);
    const release = (): void => res.detachSocket(socket as Socket);
    const passed = (): void => {
      release();
      // Middlewares that set headers as the answer starts (express-session's cookie, through
      // on-headers) do it in writeHead; without a socket it writes nothing.
      try {
        res.writeHead(101);
      } catch {
        // a header a middleware set is invalid: the 101 goes without the middlewares' headers
      }
      const headers = res.getHeaders();
      if (Object.keys(headers).length > 0) this.#upgradeHeaders.set(req, headers);
      pass();
    };
    this.#run(
      req,
      res,
      url,
      () => socket.destroyed,
      passed,
      (answer) => {
        release();
        refuse(answer);
      },
    );
  }

  /** Runs the chain unless the client left meanwhile or a middleware answered itself. */
  #run(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    gone: () => boolean,
    pass: () => void,
    refuse: (answer: EngineRequestError) => void,
  ): void {
    runMiddlewares(this.#list, withQuery(req, url), res, (error) => {
      if (res.headersSent || gone()) return;
      if (error === undefined) pass();
      else refuse(this.#refusal(error));
    });
  }

  /** Adds what the middlewares set on an upgrade request to its 101 answer (ws's `headers` event). */
  addUpgradeHeaders(headers: string[], req: IncomingMessage): void {
    const extra = this.#upgradeHeaders.get(req);
    if (extra === undefined) return;
    this.#upgradeHeaders.delete(req);
    for (const [name, value] of Object.entries(extra))
      for (const one of [value ?? []].flat()) headers.push(`${name}: ${String(one)}`);
  }

  #refusal(error: unknown): EngineRequestError {
    const { answer, exposed } = refusal(error);
    if (!exposed) this.report(error);
    return answer;
  }
}
