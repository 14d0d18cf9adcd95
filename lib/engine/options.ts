/**
 * Engine.IO server options: what users write (seconds, like Flask-SocketIO) and
 * what the engine uses (milliseconds), with a check that names the fix.
 */
import { OptionError } from '../errors.js';
import type { Clock } from '../../schedulers/scheduler.js';
import { resolveHttpCompression, resolvePerMessageDeflate } from './compression.js';
import type {
  HttpCompressionOptions,
  PerMessageDeflateOptions,
  ResolvedHttpCompression,
  ResolvedPerMessageDeflate,
} from './compression.js';

/**
 * A transport name.
 *
 * @group Options
 */
export type TransportName = 'polling' | 'websocket';

/**
 * Which cross-origin requests are accepted.
 *
 * @group Options
 */
export type CorsOrigins = string | readonly string[];

/**
 * Options of the Engine.IO server (and, through it, of `SocketIO`). Times are seconds.
 *
 * @example
 * ```ts
 * new EngineServer({ pingInterval: 10, pingTimeout: 5, corsAllowedOrigins: '*' });
 * ```
 *
 * @group Options
 */
export interface EngineOptions {
  /** Seconds between server pings. Default 25. */
  pingInterval?: number;
  /** Seconds to wait for a pong before closing with `ping timeout`. Default 20. */
  pingTimeout?: number;
  /** Seconds a WebSocket probe may take to complete the upgrade. Default 10. */
  upgradeTimeout?: number;
  /** Largest POST body or WebSocket message, in bytes. Default 1e6. */
  maxHttpBufferSize?: number;
  /**
   * Largest number of packets in one polling POST. Default: no count limit; a POST is
   * bounded by `maxHttpBufferSize` bytes only, as in the npm socket.io server, whose
   * clients send a burst of emits in one POST.
   */
  maxPacketsPerPayload?: number;
  /** Bytes queued for a client before it is closed as not reading. Default 16 MiB. */
  outboxHighWaterMark?: number;
  /** Allow polling -> WebSocket upgrades. Default true. */
  allowUpgrades?: boolean;
  /** Transports accepted. Default ['polling', 'websocket']. */
  transports?: readonly TransportName[];
  /**
   * Compress polling responses (gzip/deflate per Accept-Encoding) of at least `threshold`
   * bytes: `true` (default), `false`, or socket.io's `{ threshold, ...zlib options }`. A
   * response whose every message was sent with `compress: false` stays plain.
   */
  httpCompression?: boolean | HttpCompressionOptions;
  /** Smallest polling response, in bytes, worth compressing (python-engineio's name). Default 1024. */
  compressionThreshold?: number;
  /**
   * WebSocket permessage-deflate: `false` (default, as in socket.io 3+), `true`, or ws's
   * options with `threshold` (default 1024): a message smaller than it, or sent with
   * `compress: false`, is not compressed. Costs memory per client (zlib contexts) and CPU.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Name of a session cookie set on the handshake, or null for none. Default null. */
  cookie?: string | null;
  /** Allowed cross-origin origins: same origin only by default; '*' all; a list; [] turns CORS handling off. */
  corsAllowedOrigins?: CorsOrigins | null;
  /** Send Access-Control-Allow-Credentials. Default true. */
  corsCredentials?: boolean;
  /** Where the server answers, without slashes. Default 'socket.io'. */
  path?: string;
  /** Timer source for heartbeats and upgrades; the scheduler's clock. Default: Node's timers. */
  clock?: Clock;
  /**
   * Runs a function that sends a WebSocket's corked frames to the OS, when the work running
   * now has written what it will; the scheduler's `deferFlush`. Default: at the end of the
   * tick (`process.nextTick`).
   */
  flushWrites?: (flush: () => void) => void;
  /** Prefix of every session id (letters, digits, `-`, `_`, `.`); the cluster front routes on it. */
  sidPrefix?: string;
}

/** Every name {@link EngineOptions} has (the compiler keeps this list complete). */
export const ENGINE_OPTION_NAMES: ReadonlySet<string> = new Set(
  Object.keys({
    pingInterval: true,
    pingTimeout: true,
    upgradeTimeout: true,
    maxHttpBufferSize: true,
    maxPacketsPerPayload: true,
    outboxHighWaterMark: true,
    allowUpgrades: true,
    transports: true,
    httpCompression: true,
    compressionThreshold: true,
    perMessageDeflate: true,
    cookie: true,
    corsAllowedOrigins: true,
    corsCredentials: true,
    path: true,
    clock: true,
    flushWrites: true,
    sidPrefix: true,
  } satisfies Record<keyof EngineOptions, true>),
);

/** The options after checking, times in milliseconds. */
export interface ResolvedEngineOptions extends ResolvedHttpCompression {
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly upgradeTimeoutMs: number;
  readonly maxHttpBufferSize: number;
  /** Undefined: no count limit (bytes only). */
  readonly maxPacketsPerPayload: number | undefined;
  readonly outboxHighWaterMark: number;
  readonly allowUpgrades: boolean;
  readonly transports: readonly TransportName[];
  /** False, or what ws negotiates with: permessage-deflate's options and the threshold. */
  readonly perMessageDeflate: ResolvedPerMessageDeflate | false;
  readonly cookie: string | null;
  readonly corsAllowedOrigins: '*' | readonly string[] | null;
  readonly corsCredentials: boolean;
  readonly path: string;
}

/**
 * Longest heartbeat or upgrade time accepted: an hour. A larger value is almost
 * always milliseconds passed where seconds are expected.
 */
const MAX_SECONDS = 3_600;

function seconds(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback * 1000;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0.001 ||
    value > MAX_SECONDS
  ) {
    throw new OptionError(
      name,
      `a number of seconds between 0.001 and ${MAX_SECONDS} (not milliseconds)`,
      value,
    );
  }
  return Math.round(value * 1000);
}

function count(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new OptionError(name, `a whole number >= ${min}`, value);
  }
  return value;
}

function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new OptionError(name, 'true or false', value);
  return value;
}

function transports(value: unknown): readonly TransportName[] {
  if (value === undefined) return ['polling', 'websocket'];
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((t) => t === 'polling' || t === 'websocket');
  if (!ok)
    throw new OptionError('transports', "a non-empty list of 'polling' and 'websocket'", value);
  return [...new Set(value as TransportName[])];
}

function origins(value: unknown): '*' | readonly string[] | null {
  if (value === undefined || value === null) return null; // same origin only
  if (value === '*') return '*';
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((o) => typeof o === 'string')) return [...value];
  throw new OptionError('corsAllowedOrigins', "'*', an origin, or a list of origins", value);
}

function path(value: unknown): string {
  if (value === undefined) return 'socket.io';
  if (typeof value !== 'string' || value.replace(/^\/+|\/+$/g, '') === '') {
    throw new OptionError('path', "a non-empty path such as 'socket.io'", value);
  }
  return value.replace(/^\/+|\/+$/g, '');
}

function cookie(value: unknown): string | null {
  if (value === undefined || value === null || value === false) return null;
  if (typeof value !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value)) {
    throw new OptionError('cookie', 'a cookie name (letters, digits, -_.) or null', value);
  }
  return value;
}

/**
 * Checks options and converts seconds to milliseconds.
 *
 * @example
 * ```ts
 * resolveEngineOptions({ pingInterval: 1 }).pingIntervalMs; // 1000
 * ```
 */
export function resolveEngineOptions(options: EngineOptions = {}): ResolvedEngineOptions {
  return {
    pingIntervalMs: seconds('pingInterval', options.pingInterval, 25),
    pingTimeoutMs: seconds('pingTimeout', options.pingTimeout, 20),
    upgradeTimeoutMs: seconds('upgradeTimeout', options.upgradeTimeout, 10),
    maxHttpBufferSize: count('maxHttpBufferSize', options.maxHttpBufferSize, 1e6, 16),
    maxPacketsPerPayload:
      options.maxPacketsPerPayload === undefined
        ? undefined
        : count('maxPacketsPerPayload', options.maxPacketsPerPayload, 1),
    outboxHighWaterMark: count(
      'outboxHighWaterMark',
      options.outboxHighWaterMark,
      16 * 1024 * 1024,
      1024,
    ),
    allowUpgrades: bool('allowUpgrades', options.allowUpgrades, true),
    transports: transports(options.transports),
    ...resolveHttpCompression(options.httpCompression, options.compressionThreshold),
    perMessageDeflate: resolvePerMessageDeflate(options.perMessageDeflate),
    cookie: cookie(options.cookie),
    corsAllowedOrigins: origins(options.corsAllowedOrigins),
    corsCredentials: bool('corsCredentials', options.corsCredentials, true),
    path: path(options.path),
  };
}
