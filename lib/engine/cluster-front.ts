/**
 * What a process of a `--processes N` cluster learns from the front that proxies
 * to it. The process listens on loopback, but users reach the front's host, so
 * rules about the listening address (the status page's) apply to that host. And
 * every request reaches the process from the front's socket on 127.0.0.1: the
 * client is the address the front appended to `X-Forwarded-For`, believed only
 * when the request carries the front's token (which the front puts on every
 * request it forwards and nobody else knows), so a client cannot name itself.
 *
 * ```
 *  client 203.0.113.5 ──> front ──(X-Forwarded-For: …, 203.0.113.5; token)──> process
 *                                  process: remoteAddress = 203.0.113.5
 * ```
 */
import { timingSafeEqual } from 'node:crypto';

/** The environment the front sets for each process it starts. */
export const FRONT_ENV = {
  /** The process's index: its session ids start with `p<index>.`. */
  index: 'SOCKETIO_PROCESS_INDEX',
  /** The host the front listens on. */
  host: 'SOCKETIO_FRONT_HOST',
  /** The token the front puts on every request it forwards. */
  token: 'SOCKETIO_FRONT_TOKEN',
} as const;

/** The header that carries the front's token. */
export const FRONT_TOKEN_HEADER = 'x-socketio-actors-front';

/** Headers a reverse proxy adds: their presence means the request came through one. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/** The front this process serves behind. */
export interface ClusterFront {
  /** Where users reach the cluster. */
  readonly host: string;
  readonly token: string;
}

let cached: { front: ClusterFront | undefined } | undefined;

/**
 * The front this process serves behind; undefined when it was not started by one.
 *
 * @example
 * ```ts
 * clusterFront()?.host; // '0.0.0.0' in a process of `socketio-actors run app.js --processes 2 --host 0.0.0.0`
 * ```
 */
export function clusterFront(): ClusterFront | undefined {
  if (cached === undefined) {
    const host = process.env[FRONT_ENV.host];
    const token = process.env[FRONT_ENV.token];
    cached = {
      front:
        host !== undefined && token !== undefined && token.length > 0 && process.send !== undefined
          ? { host, token }
          : undefined,
    };
  }
  return cached.front;
}

/** Request headers as Node parses them. */
type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

function forwardedFor(headers: RequestHeaders): string[] {
  const value = headers['x-forwarded-for'];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value).split(',').map((part) => part.trim());
}

/** Whether the request carries this process's front's token. */
function fromFront(headers: RequestHeaders): boolean {
  const token = clusterFront()?.token;
  const given = headers[FRONT_TOKEN_HEADER];
  if (token === undefined || typeof given !== 'string' || given.length !== token.length)
    return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

/**
 * The client's address: the peer of the socket, or behind the cluster's front the
 * address the front saw.
 *
 * @example
 * ```ts
 * clientAddress(req.headers, req.socket.remoteAddress ?? '');
 * ```
 */
export function clientAddress(headers: RequestHeaders, socketAddress: string): string {
  return fromFront(headers) ? (forwardedFor(headers).at(-1) ?? socketAddress) : socketAddress;
}

/**
 * Whether a reverse proxy forwarded the request (the cluster's own front does not
 * count: it is part of this server).
 *
 * @example
 * ```ts
 * forwardedByProxy({ 'x-real-ip': '203.0.113.5' }); // true
 * ```
 */
export function forwardedByProxy(headers: RequestHeaders): boolean {
  if (fromFront(headers))
    return forwardedFor(headers).length > 1 || 'forwarded' in headers || 'x-real-ip' in headers;
  return PROXY_HEADERS.some((name) => name in headers);
}
