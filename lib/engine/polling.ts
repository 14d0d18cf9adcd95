/**
 * The long-polling transport (engine.io-protocol v4, "HTTP long-polling"):
 * a GET waits until something is queued; a POST carries packets joined by the
 * record separator. At most one GET and one POST are in flight per session.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { EngineRequestError, ParseError, PayloadTooLargeError } from '../errors.js';
import { mayCompress } from './compression.js';
import { answerError, answerPolling, corsHeaders } from './http.js';
import { decodePayload, encodePayload } from './packets.js';
import type { Packet } from './packets.js';
import type { ResolvedEngineOptions } from './options.js';
import type { Transport, TransportSink } from './transport.js';

interface PendingGet {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly headers: OutgoingHttpHeaders;
}

/**
 * One session's long-polling transport.
 *
 * @example
 * ```ts
 * const polling = new PollingTransport(resolveEngineOptions());
 * polling.handleGet(req, res); // waits until the connection writes
 * ```
 */
/**
 * Splits final packets into the messages and the close packet after them. socket.io-client
 * handles the packets it decoded on the next tick, but a close packet at once: a DISCONNECT
 * sharing an answer with the close would reach it after the close, as `transport close` (and
 * the client would reconnect). Sent apart, it reads `io server disconnect`, as from socket.io,
 * whose polling transport also sends its close packet on the next GET.
 */
function apart(final: readonly Packet[]): [readonly Packet[], readonly Packet[]] {
  const at = final.findIndex((p) => p.type === 'close');
  return at > 0 ? [final.slice(0, at), final.slice(at)] : [final, []];
}

export class PollingTransport implements Transport {
  readonly name = 'polling' as const;
  sink: TransportSink | null = null;
  #get: PendingGet | null = null;
  #posting = false;
  #closed = false;
  #final: readonly Packet[] | null = null;
  /** Whether the final close packet goes in an answer of its own (see {@link apart}). */
  #closeApart = false;
  #onDrained: (() => void) | null = null;
  /** The socket of the last GET answered: what the client has not read of it is still queued. */
  #answered: Socket | null = null;

  constructor(private readonly options: ResolvedEngineOptions) {}

  get writable(): boolean {
    return this.#get !== null;
  }

  /** Whether close packets still wait for one more GET. */
  get lingering(): boolean {
    return this.#final !== null;
  }

  /** Takes a GET; it is answered as soon as the connection writes. */
  handleGet(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders = {}): void {
    if (this.#closed) {
      const final = this.#final;
      if (final === null)
        return answerError(req, res, new EngineRequestError('EIO_ERR_UNKNOWN_SID'), this.options);
      const [now, later] = this.#closeApart ? apart(final) : [final, []];
      this.#final = later.length > 0 ? later : null;
      answerPolling(req, res, encodePayload(now), this.options, mayCompress(now));
      if (this.#final === null) this.#onDrained?.();
      return;
    }
    // Overlapping GETs: refuse this one; the session closes and the pending GET gets a close packet.
    if (this.#get !== null) return this.#refuseOverlap(req, res, 'GET');
    this.#get = { req, res, headers };
    res.once('close', () => {
      if (this.#get?.res !== res) return;
      this.#get = null;
      if (!this.#closed) this.sink?.onTransportClose('transport close');
    });
    this.sink?.onWritable();
  }

  /** A second GET or POST while one is pending: 400 for it, and the session closes. */
  #refuseOverlap(req: IncomingMessage, res: ServerResponse, method: 'GET' | 'POST'): void {
    answerError(
      req,
      res,
      new EngineRequestError('EIO_ERR_BAD_REQUEST', `overlapping ${method}`),
      this.options,
    );
    this.sink?.onTransportClose('overlapping request');
  }

  /** Takes a POST: reads the body (bounded), answers `ok`, hands the packets on in order. */
  handlePost(req: IncomingMessage, res: ServerResponse): void {
    if (this.#posting) return this.#refuseOverlap(req, res, 'POST');
    this.#posting = true;
    const limit = this.options.maxHttpBufferSize;
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        refused = true;
        req.off('data', onData);
        const error = new PayloadTooLargeError(limit);
        res.setHeader('Connection', 'close');
        answerError(req, res, error, this.options);
        this.#posting = false;
        this.sink?.onTransportClose('payload too large', error.message);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('error', () => {
      this.#posting = false;
    });
    req.once('end', () => {
      if (refused) return;
      this.#posting = false;
      this.#receive(req, res, Buffer.concat(chunks, size).toString('utf8'));
    });
  }

  #receive(req: IncomingMessage, res: ServerResponse, body: string): void {
    let packets: Packet[];
    try {
      // The body is bounded by bytes already; by packet count only when maxPacketsPerPayload
      // is set (the official client sends a whole burst of emits in one POST).
      packets = decodePayload(body, this.options.maxPacketsPerPayload);
    } catch (error) {
      const detail = error instanceof ParseError ? error.message : 'unreadable payload';
      answerError(req, res, new EngineRequestError('EIO_ERR_BAD_REQUEST', detail), this.options);
      this.sink?.onTransportClose('parse error', detail);
      return;
    }
    res.writeHead(200, {
      ...corsHeaders(req, this.options),
      'Content-Type': 'text/html',
      'Content-Length': 2,
    });
    res.end('ok');
    for (const packet of packets) {
      if (this.sink === null) break;
      this.sink.onPacket(packet);
    }
  }

  write(packets: readonly Packet[]): void {
    const get = this.#get;
    if (get === null) throw new Error('polling write without a pending GET');
    this.#get = null;
    this.#answered = get.req.socket;
    answerPolling(
      get.req,
      get.res,
      encodePayload(packets),
      this.options,
      mayCompress(packets),
      get.headers,
    );
  }

  writeOne(packet: Packet): void {
    this.write([packet]);
  }

  /**
   * What the client has not read of the last answer. A client reads an answer before its next
   * GET, so earlier answers are read, or on sockets the client left (the OS holds those).
   */
  bufferedBytes(): number {
    const socket = this.#answered;
    return socket === null || socket.destroyed ? 0 : socket.writableLength;
  }

  /** Nothing is held back within a tick: an answer is written when it is made. */
  flushNow(): number {
    return this.bufferedBytes();
  }

  /** Destroys the socket of the last answer if the client left part of it unread. */
  drop(): void {
    if (this.bufferedBytes() > 0) this.#answered?.destroy();
    this.#answered = null;
  }

  releaseWithNoop(): void {
    if (this.#get !== null) this.write([{ type: 'noop' }]);
  }

  /**
   * Closes the transport. `final` packets go to the pending GET, or wait for the
   * next one (the session lingers until then); `onDrained` says when they went.
   */
  close(final: readonly Packet[] = [], onDrained?: () => void, closeApart = false): void {
    if (this.#closed) return;
    let rest = final;
    if (this.#get !== null && final.length > 0) {
      const [now, later] = closeApart ? apart(final) : [final, []];
      this.write(now);
      rest = later;
    } else if (this.#get !== null) this.releaseWithNoop();
    if (rest.length > 0) {
      this.#final = rest;
      this.#closeApart = closeApart;
      this.#onDrained = onDrained ?? null;
    }
    this.#closed = true;
  }

  /** Gives up on delivering the final packets. */
  discard(): void {
    this.#final = null;
    this.#onDrained = null;
  }
}
