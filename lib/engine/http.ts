/**
 * HTTP helpers of the Engine.IO server: CORS and Origin checks, error answers,
 * compressed polling responses. Nothing here knows about sessions.
 */
import { gzip, deflate } from 'node:zlib';
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { EngineRequestError } from '../errors.js';
import type { ResolvedEngineOptions } from './options.js';

/**
 * Whether a request's Origin may use the server. Requests without an Origin
 * header (non-browser clients) are allowed; so is every origin when CORS
 * handling is off (`corsAllowedOrigins: []`).
 */
export function originAllowed(req: IncomingMessage, options: ResolvedEngineOptions): boolean {
  const origin = req.headers.origin;
  const allowed = options.corsAllowedOrigins;
  if (origin === undefined || allowed === '*') return true;
  if (allowed === null) return sameOrigin(origin, req.headers.host);
  if (allowed.length === 0) return true;
  return allowed.includes(origin);
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** CORS response headers for a request whose origin is allowed. */
export function corsHeaders(
  req: IncomingMessage,
  options: ResolvedEngineOptions,
): OutgoingHttpHeaders {
  const origin = req.headers.origin;
  const allowed = options.corsAllowedOrigins;
  if (origin === undefined || (Array.isArray(allowed) && allowed.length === 0)) return {};
  if (!originAllowed(req, options)) return {};
  const headers: OutgoingHttpHeaders = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  if (options.corsCredentials) headers['Access-Control-Allow-Credentials'] = 'true';
  return headers;
}

/** Answers a CORS preflight. */
export function answerPreflight(
  req: IncomingMessage,
  res: ServerResponse,
  options: ResolvedEngineOptions,
): void {
  const requested = req.headers['access-control-request-headers'];
  res.writeHead(204, {
    ...corsHeaders(req, options),
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': requested ?? 'Content-Type',
    'Access-Control-Max-Age': '86400',
    'Content-Length': '0',
  });
  res.end();
}

/** Answers an HTTP request with the protocol's JSON error body. */
export function answerError(
  req: IncomingMessage,
  res: ServerResponse,
  error: EngineRequestError | { status: number; code: string; message: string },
  options: ResolvedEngineOptions,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body =
    error instanceof EngineRequestError
      ? JSON.stringify(error.body())
      : JSON.stringify({ code: error.code, message: error.message });
  res.writeHead(error.status, {
    ...corsHeaders(req, options),
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Answers a WebSocket upgrade request with an HTTP error, then closes the socket. */
export function answerUpgradeError(socket: Duplex, error: EngineRequestError): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(error.body());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function pickEncoding(req: IncomingMessage): 'gzip' | 'deflate' | null {
  const accepted = req.headers['accept-encoding'];
  if (typeof accepted !== 'string') return null;
  if (/\bgzip\b/.test(accepted)) return 'gzip';
  if (/\bdeflate\b/.test(accepted)) return 'deflate';
  return null;
}

/**
 * Sends a polling response body, compressed when `compress` (see `mayCompress`), the
 * client accepts it and it is at least `compressionThreshold` bytes.
 */
export function answerPolling(
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  options: ResolvedEngineOptions,
  compress: boolean,
  extraHeaders: OutgoingHttpHeaders = {},
): void {
  const headers: OutgoingHttpHeaders = {
    ...corsHeaders(req, options),
    ...extraHeaders,
    'Content-Type': 'text/plain; charset=UTF-8',
    'Cache-Control': 'no-store',
  };
  const raw = Buffer.from(body, 'utf8');
  const encoding =
    compress && options.httpCompression && raw.length >= options.compressionThreshold
      ? pickEncoding(req)
      : null;
  if (encoding === null) {
    headers['Content-Length'] = raw.length;
    res.writeHead(200, headers);
    res.end(raw);
    return;
  }
  const zip = encoding === 'gzip' ? gzip : deflate;
  zip(raw, options.httpZlibOptions, (error, compressed) => {
    if (res.destroyed) return;
    if (error) {
      headers['Content-Length'] = raw.length;
      res.writeHead(200, headers);
      res.end(raw);
      return;
    }
    headers['Content-Encoding'] = encoding;
    headers['Content-Length'] = compressed.length;
    res.writeHead(200, headers);
    res.end(compressed);
  });
}

/** The session cookie header value, or undefined when cookies are off. */
export function sessionCookie(options: ResolvedEngineOptions, sid: string): string | undefined {
  return options.cookie === null
    ? undefined
    : `${options.cookie}=${sid}; Path=/; HttpOnly; SameSite=Lax`;
}
