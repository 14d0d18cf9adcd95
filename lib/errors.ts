/**
 * Every error the project throws or answers with, each with a stable `code`.
 * A spec checks that every code here is documented in the README.
 */

/**
 * Base class: every error of this project has a stable string `code`.
 *
 * @example
 * ```ts
 * try { await io.run(); } catch (e) { if (e instanceof SocketIOActorsError) console.log(e.code); }
 * ```
 *
 * @group Errors
 */
export class SocketIOActorsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Engine.IO's HTTP error codes (engine.io-protocol, "Transport-level errors"), as sent in the
 * JSON body `{code, message}` of a 400/403 answer.
 *
 * @example
 * ```ts
 * ENGINE_HTTP_ERRORS.EIO_ERR_UNKNOWN_SID.protocolCode; // 1
 * ```
 *
 * @group Errors
 */
export const ENGINE_HTTP_ERRORS = {
  EIO_ERR_UNKNOWN_TRANSPORT: { protocolCode: 0, message: 'Transport unknown', status: 400 },
  EIO_ERR_UNKNOWN_SID: { protocolCode: 1, message: 'Session ID unknown', status: 400 },
  EIO_ERR_BAD_HANDSHAKE_METHOD: { protocolCode: 2, message: 'Bad handshake method', status: 400 },
  EIO_ERR_BAD_REQUEST: { protocolCode: 3, message: 'Bad request', status: 400 },
  EIO_ERR_FORBIDDEN: { protocolCode: 4, message: 'Forbidden', status: 403 },
  EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION: {
    protocolCode: 5,
    message: 'Unsupported protocol version',
    status: 400,
  },
  // Not in the protocol's list: a new session asked of a server that is shutting down.
  EIO_ERR_SHUTTING_DOWN: { protocolCode: 3, message: 'Server shutting down', status: 503 },
  // Not in the protocol's list: `--processes`, a new session while no server process serves.
  EIO_ERR_NO_PROCESS: {
    protocolCode: 3,
    message: 'No server process is up; retry shortly',
    status: 503,
  },
  // Not in the protocol's list: refused by an `engine.use()` middleware with next(error); the
  // body carries that error's message and the status its `status` (403 without one).
  EIO_ERR_REFUSED: { protocolCode: 4, message: 'Forbidden', status: 403 },
} as const;

/**
 * One of the keys of {@link ENGINE_HTTP_ERRORS}.
 *
 * @group Errors
 */
export type EngineHttpErrorCode = keyof typeof ENGINE_HTTP_ERRORS;

/**
 * A request the Engine.IO server refuses; it becomes an HTTP answer, never a throw into the server.
 *
 * @example
 * ```ts
 * const err = new EngineRequestError('EIO_ERR_UNKNOWN_SID');
 * err.status; // 400
 * err.body(); // { code: 1, message: 'Session ID unknown' }
 * ```
 *
 * @group Errors
 */
export class EngineRequestError extends SocketIOActorsError {
  readonly status: number;
  readonly protocolCode: number;
  readonly #detail: string | undefined;

  /** `status` overrides the code's HTTP status (a middleware's refusal carries its own). */
  constructor(code: EngineHttpErrorCode, detail?: string, status?: number) {
    const spec = ENGINE_HTTP_ERRORS[code];
    super(code, detail ? `${spec.message}: ${detail}` : spec.message);
    this.status = status ?? spec.status;
    this.protocolCode = spec.protocolCode;
    this.#detail = detail;
  }

  /** The JSON body the protocol specifies (a middleware's refusal: with its message). */
  body(): { code: number; message: string } {
    const message =
      this.code === 'EIO_ERR_REFUSED' && this.#detail !== undefined
        ? this.#detail
        : ENGINE_HTTP_ERRORS[this.code as EngineHttpErrorCode].message;
    return { code: this.protocolCode, message };
  }
}

/**
 * A POST body or WebSocket message larger than `maxHttpBufferSize` (HTTP 413 / close).
 *
 * @example
 * ```ts
 * new PayloadTooLargeError(1e6).code; // 'EIO_ERR_PAYLOAD_TOO_LARGE'
 * ```
 *
 * @group Errors
 */
export class PayloadTooLargeError extends SocketIOActorsError {
  readonly status = 413;
  constructor(limit: number) {
    super('EIO_ERR_PAYLOAD_TOO_LARGE', `payload larger than maxHttpBufferSize (${limit} bytes)`);
  }
}

/**
 * Bytes or text that are not a valid Engine.IO packet or payload. Decoders throw
 * nothing else.
 *
 * @example
 * ```ts
 * try { decodePacket('9x'); } catch (e) { (e as ParseError).code; } // 'EIO_ERR_PARSE'
 * ```
 *
 * @group Errors
 */
export class ParseError extends SocketIOActorsError {
  constructor(message: string) {
    super('EIO_ERR_PARSE', message);
  }
}

/**
 * A connection's outbox passed its high-water mark: the client is not reading.
 *
 * @example
 * ```ts
 * new OutboxOverflowError(1024).code; // 'EIO_ERR_OUTBOX_OVERFLOW'
 * ```
 *
 * @group Errors
 */
export class OutboxOverflowError extends SocketIOActorsError {
  constructor(limit: number) {
    super('EIO_ERR_OUTBOX_OVERFLOW', `outbox passed its high-water mark of ${limit} bytes`);
  }
}

/**
 * `send()` on a connection that is closed.
 *
 * @example
 * ```ts
 * new ConnectionClosedError('ping timeout').message; // 'connection closed (ping timeout)'
 * ```
 *
 * @group Errors
 */
export class ConnectionClosedError extends SocketIOActorsError {
  constructor(reason: string) {
    super('EIO_ERR_CLOSED', `connection closed (${reason})`);
  }
}

/**
 * A constructor option with a wrong type or an absurd value; the message names the fix.
 *
 * @example
 * ```ts
 * new OptionError('pingInterval', 'a number of seconds between 0.001 and 86400', 25000).message;
 * ```
 *
 * @group Errors
 */
export class OptionError extends SocketIOActorsError {
  constructor(option: string, expected: string, got: unknown) {
    super('ERR_INVALID_OPTION', `option ${option}: expected ${expected}, got ${describe(got)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  if (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype
  )
    return `{${Object.entries(value)
      .map(([k, v]) => ` ${k}: ${describe(v)}`)
      .join(',')} }`;
  return String(value);
}

/**
 * An option name that nothing reads (a socket.io or Flask-SocketIO name, a typo): refused at
 * once, with the fix, instead of being silently ignored.
 *
 * @example
 * ```ts
 * new SocketIO({ cors: '*' });
 * // UnknownOptionError: new SocketIO(): unknown option "cors"; did you mean corsAllowedOrigins? …
 * ```
 *
 * @group Errors
 */
export class UnknownOptionError extends SocketIOActorsError {
  constructor(
    where: string,
    readonly option: string,
    readonly fix: string,
  ) {
    super('ERR_UNKNOWN_OPTION', `${where}: unknown option "${option}"; ${fix}`);
  }
}

/**
 * A Socket.IO packet that breaks the protocol; the connection is closed with
 * reason `parse error`.
 *
 * @example
 * ```ts
 * new ProtocolError('event payload must be a non-empty array').code; // 'SIO_ERR_PROTOCOL'
 * ```
 *
 * @group Errors
 */
export class ProtocolError extends SocketIOActorsError {
  constructor(message: string) {
    super('SIO_ERR_PROTOCOL', message);
  }
}

/**
 * Thrown by a `connect` handler to refuse the connection; the client receives
 * CONNECT_ERROR `{ message, data }` (its `connect_error` event).
 *
 * @example
 * ```ts
 * io.on('connect', (auth) => {
 *   if (!auth?.token) throw new ConnectionRefusedError('unauthorized', { retry: false });
 * });
 * ```
 *
 * @group Errors
 */
export class ConnectionRefusedError extends SocketIOActorsError {
  constructor(
    message = 'Connection rejected by server',
    readonly data?: unknown,
  ) {
    super('SIO_ERR_CONNECTION_REFUSED', message);
  }
}

/**
 * A context function (`emit`, `joinRoom`, `request`, ...) called outside an
 * event handler.
 *
 * @example
 * ```ts
 * try { emit('x'); } catch (e) { (e as ContextError).code; } // 'SIO_ERR_NO_CONTEXT'
 * ```
 *
 * @group Errors
 */
export class ContextError extends SocketIOActorsError {
  constructor(fn: string) {
    super(
      'SIO_ERR_NO_CONTEXT',
      `${fn}() can only be called inside an event handler (or code it awaits); outside one, use io.${fn}(...) with an explicit namespace and target`,
    );
  }
}

/**
 * A `call()` whose client did not answer within the timeout.
 *
 * @example
 * ```ts
 * await io.call('ping', undefined, { to: sid, timeout: 1 }).catch((e) => e.code); // 'SIO_ERR_TIMEOUT'
 * ```
 *
 * @group Errors
 */
export class CallTimeoutError extends SocketIOActorsError {
  constructor(event: string, seconds: number) {
    super('SIO_ERR_TIMEOUT', `no acknowledgement for "${event}" within ${seconds} s`);
  }
}

/**
 * An `emitWithAck` to several clients that did not all answer: the clients that answered
 * within the timeout gave `responses`, `expected` were addressed. It rejects at once when
 * every client left has answered and the rest disconnected.
 *
 * @example
 * ```ts
 * await io.timeout(2).emitWithAck('vote').catch((e) => e.responses); // the answers that came
 * ```
 *
 * @group Errors
 */
export class AcksTimeoutError extends SocketIOActorsError {
  constructor(
    readonly event: string,
    readonly seconds: number,
    readonly responses: unknown[],
    readonly expected: number,
    readonly disconnected: number,
  ) {
    super(
      'SIO_ERR_TIMEOUT',
      `${responses.length} of ${expected} clients acknowledged "${event}" within ${seconds} s` +
        (disconnected > 0 ? `; ${disconnected} disconnected first` : ''),
    );
  }
}

/**
 * A `call()` or pending acknowledgement whose client disconnected first.
 *
 * @example
 * ```ts
 * await call('question').catch((e) => e.code); // 'SIO_ERR_DISCONNECTED'
 * ```
 *
 * @group Errors
 */
export class DisconnectedError extends SocketIOActorsError {
  constructor(reason: string) {
    super('SIO_ERR_DISCONNECTED', `the client disconnected (${reason})`);
  }
}

/**
 * A misuse of the API that can be fixed in the calling code (an unknown sid,
 * an invalid event name, a bad target); the message names the fix.
 *
 * @example
 * ```ts
 * io.emit('connect'); // throws UsageError: "connect" is a reserved event name
 * ```
 *
 * @group Errors
 */
export class UsageError extends SocketIOActorsError {
  constructor(message: string) {
    super('SIO_ERR_USAGE', message);
  }
}

/**
 * `manageSession: false`: the HTTP session could not be reloaded from or saved to its
 * store (a logout or an expiry removed it, or the store is down). A failed reload fails
 * the event (it goes to the error handler); a failed save is logged.
 *
 * @example
 * ```ts
 * io.onError((error) => (error instanceof SessionStoreError ? 'please log in again' : undefined));
 * ```
 *
 * @group Errors
 */
export class SessionStoreError extends SocketIOActorsError {
  constructor(
    what: 'reloaded' | 'saved',
    override readonly cause: unknown,
  ) {
    super(
      'SIO_ERR_SESSION_STORE',
      `the HTTP session could not be ${what} (logged out, expired, or its store is down): ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

/**
 * Bytes on the message queue that are not a pickle of plain Python values
 * (classes and globals are refused: unpickling them would run code).
 *
 * @example
 * ```ts
 * new PickleError('truncated pickle').code; // 'MQ_ERR_PICKLE'
 * ```
 *
 * @group Errors
 */
export class PickleError extends SocketIOActorsError {
  constructor(message: string) {
    super('MQ_ERR_PICKLE', message);
  }
}

/**
 * Messages published on the message queue before `io.flush()` / `io.stop()` that the broker
 * did not take: it was unreachable, refused them, or did not confirm them within the bound.
 *
 * @example
 * ```ts
 * await io.flush().catch((e) => (e as NotDeliveredError).undelivered); // e.g. 3
 * ```
 *
 * @group Errors
 */
export class NotDeliveredError extends SocketIOActorsError {
  constructor(
    readonly undelivered: number,
    boundSeconds: number,
  ) {
    super(
      'MQ_ERR_NOT_DELIVERED',
      `${undelivered} ${undelivered === 1 ? 'message' : 'messages'} not delivered to the message queue: the broker was unreachable, refused them, or did not confirm them within ${boundSeconds} s`,
    );
  }
}

/**
 * A cluster query (`fetchSockets`, `socketsJoin`, `socketsLeave`, `disconnectSockets`,
 * `serverSideEmitWithAck`) that some live processes did not answer in time. `answers` holds
 * what the others answered; a process that left meanwhile (goodbye, or its heartbeats stopped)
 * was not waited for.
 *
 * @example
 * ```ts
 * await io.timeout(2).serverSideEmitWithAck('load?').catch((e) => e.message);
 * // 'serverSideEmitWithAck("load?"): 1 of 2 processes answered within 2 s'
 * ```
 *
 * @group Errors
 */
export class ClusterTimeoutError extends SocketIOActorsError {
  constructor(
    readonly operation: string,
    readonly seconds: number,
    readonly answers: unknown[],
    readonly expected: number,
  ) {
    super(
      'MQ_ERR_TIMEOUT',
      `${operation}: ${answers.length} of ${expected} ${expected === 1 ? 'process' : 'processes'} answered within ${seconds} s`,
    );
  }

  /** The same as {@link answers} (what a socket.io-style `(err, responses)` callback reads). */
  get responses(): unknown[] {
    return this.answers;
  }
}
