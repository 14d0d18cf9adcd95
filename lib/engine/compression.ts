/**
 * Compression of what the server sends, socket.io's two options: `perMessageDeflate`
 * (WebSocket permessage-deflate, RFC 7692, done by ws) and `httpCompression` (gzip or
 * deflate polling responses per Accept-Encoding). Both compress only what is at least a
 * threshold of bytes, and only what was sent without `compress: false`.
 */
import { createDeflateRaw, createGzip, createInflateRaw } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import { OptionError } from '../errors.js';
import { checkOptionNames } from '../option-names.js';
import { wholeOption } from '../option-values.js';
import type { Packet } from './packets.js';

/** Smallest message or response, in bytes, compressed by default (socket.io's 1024). */
export const DEFAULT_COMPRESSION_THRESHOLD = 1024;

/**
 * zlib's tuning options, as both kinds of compression take them.
 *
 * @example
 * ```ts
 * new SocketIO({ perMessageDeflate: { zlibDeflateOptions: { level: 1, memLevel: 4 } } });
 * ```
 *
 * @group Options
 */
export interface ZlibTuning {
  /** Compression level, -1 (zlib's default, 6) to 9. */
  level?: number;
  /** Memory for the compression state, 1 to 9 (zlib's default 8). */
  memLevel?: number;
  /** Window size (log2), 9 to 15. */
  windowBits?: number;
  /** Strategy (`zlib.constants.Z_FILTERED`, `Z_HUFFMAN_ONLY`, ...). */
  strategy?: number;
  /** Output chunk size, in bytes. */
  chunkSize?: number;
}

/**
 * WebSocket permessage-deflate settings (RFC 7692), handed to ws, and `threshold`, the
 * smallest message in bytes that is compressed (default 1024).
 *
 * @example
 * ```ts
 * new SocketIO({ perMessageDeflate: { threshold: 4096, serverNoContextTakeover: true } });
 * ```
 *
 * @group Options
 */
export interface PerMessageDeflateOptions {
  /** Smallest message, in bytes (its packet type character included), compressed. Default 1024. */
  threshold?: number;
  /** Ask that the server start each message with a fresh zlib context (smaller gains). */
  serverNoContextTakeover?: boolean;
  /** Ask that the client start each message with a fresh zlib context. */
  clientNoContextTakeover?: boolean;
  /** The server's window (log2), 8 to 15: less memory per client, smaller gains. */
  serverMaxWindowBits?: number;
  /** The client's window (log2), 8 to 15, when the client lets the server choose. */
  clientMaxWindowBits?: number;
  /** zlib options of the server's compression. */
  zlibDeflateOptions?: ZlibTuning;
  /** zlib options of the server's decompression (what clients compressed). */
  zlibInflateOptions?: ZlibTuning;
  /** How many messages ws compresses at a time, in the whole process. Default 10. */
  concurrencyLimit?: number;
}

/**
 * Polling response compression settings: `threshold`, the smallest response in bytes
 * that is compressed (default 1024), and zlib's tuning options for gzip/deflate.
 *
 * @example
 * ```ts
 * new SocketIO({ httpCompression: { threshold: 2048, level: 6 } });
 * ```
 *
 * @group Options
 */
export interface HttpCompressionOptions extends ZlibTuning {
  /** Smallest response, in bytes, that is compressed. Default 1024. */
  threshold?: number;
}

/** permessage-deflate once checked: ws's options with the threshold filled in. */
export type ResolvedPerMessageDeflate = Readonly<PerMessageDeflateOptions> & {
  readonly threshold: number;
};

/** `httpCompression` once checked: off, or on with a threshold and zlib's options. */
export interface ResolvedHttpCompression {
  readonly httpCompression: boolean;
  readonly compressionThreshold: number;
  readonly httpZlibOptions: Readonly<ZlibTuning>;
}

/** Every name of {@link PerMessageDeflateOptions} (the compiler keeps this list complete). */
const DEFLATE_NAMES: ReadonlySet<string> = new Set(
  Object.keys({
    threshold: true,
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: true,
    clientMaxWindowBits: true,
    zlibDeflateOptions: true,
    zlibInflateOptions: true,
    concurrencyLimit: true,
  } satisfies Record<keyof PerMessageDeflateOptions, true>),
);

/** Every name of {@link ZlibTuning}. */
const ZLIB_NAMES: ReadonlySet<string> = new Set(
  Object.keys({
    level: true,
    memLevel: true,
    windowBits: true,
    strategy: true,
    chunkSize: true,
  } satisfies Record<keyof ZlibTuning, true>),
);

/** Every name of {@link HttpCompressionOptions}. */
const HTTP_NAMES: ReadonlySet<string> = new Set([...ZLIB_NAMES, 'threshold']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function threshold(name: string, value: unknown): number {
  return wholeOption(name, value, DEFAULT_COMPRESSION_THRESHOLD, 0);
}

function windowBits(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 8 || value > 15)
    throw new OptionError(name, 'a whole number from 8 to 15', value);
}

function flag(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean')
    throw new OptionError(name, 'true or false', value);
}

/**
 * Checks zlib options: known names, then values as zlib itself checks them (it throws a
 * RangeError or TypeError naming the field).
 */
function zlibAccepts(
  name: string,
  value: unknown,
  make: (options: ZlibOptions) => { close(): void },
): void {
  if (value === undefined) return;
  if (!isPlainObject(value)) throw new OptionError(name, 'an object of zlib options', value);
  checkOptionNames(`option ${name}`, value, ZLIB_NAMES);
  try {
    make(value).close();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new OptionError(name, `options zlib accepts (${why})`, value);
  }
}

/** Checks that a compression option is a flag or a plain object of known names. */
function checkObject(
  name: string,
  value: unknown,
  object: string,
  names: ReadonlySet<string>,
): asserts value is Record<string, unknown> {
  if (!isPlainObject(value)) throw new OptionError(name, `true, false, or ${object}`, value);
  checkOptionNames(`option ${name}`, value, names);
}

/**
 * Checks `perMessageDeflate`: `false` (the default, as in socket.io 3+), `true`, or ws's
 * permessage-deflate options with a `threshold`.
 *
 * @example
 * ```ts
 * resolvePerMessageDeflate(true); // { threshold: 1024 }
 * resolvePerMessageDeflate(undefined); // false
 * ```
 */
export function resolvePerMessageDeflate(value: unknown): ResolvedPerMessageDeflate | false {
  if (value === undefined || value === false) return false;
  if (value === true) return { threshold: DEFAULT_COMPRESSION_THRESHOLD };
  checkObject(
    'perMessageDeflate',
    value,
    'an object of ws permessage-deflate options such as { threshold: 1024 }',
    DEFLATE_NAMES,
  );
  flag('perMessageDeflate.serverNoContextTakeover', value.serverNoContextTakeover);
  flag('perMessageDeflate.clientNoContextTakeover', value.clientNoContextTakeover);
  windowBits('perMessageDeflate.serverMaxWindowBits', value.serverMaxWindowBits);
  windowBits('perMessageDeflate.clientMaxWindowBits', value.clientMaxWindowBits);
  wholeOption('perMessageDeflate.concurrencyLimit', value.concurrencyLimit, 10);
  zlibAccepts('perMessageDeflate.zlibDeflateOptions', value.zlibDeflateOptions, createDeflateRaw);
  zlibAccepts('perMessageDeflate.zlibInflateOptions', value.zlibInflateOptions, createInflateRaw);
  return {
    ...(value as PerMessageDeflateOptions),
    threshold: threshold('perMessageDeflate.threshold', value.threshold),
  };
}

/**
 * Checks `httpCompression` (socket.io's: `true`, `false`, or `{ threshold, ...zlib }`) with
 * `compressionThreshold` (python-engineio's name for the same threshold; give one of them).
 *
 * @example
 * ```ts
 * resolveHttpCompression({ threshold: 2048 }, undefined).compressionThreshold; // 2048
 * ```
 */
export function resolveHttpCompression(
  value: unknown,
  thresholdOption: unknown,
): ResolvedHttpCompression {
  const own = threshold('compressionThreshold', thresholdOption);
  if (value === undefined || typeof value === 'boolean')
    return { httpCompression: value ?? true, compressionThreshold: own, httpZlibOptions: {} };
  checkObject('httpCompression', value, 'an object such as { threshold: 1024 }', HTTP_NAMES);
  const { threshold: given, ...zlib } = value;
  const resolved = threshold('httpCompression.threshold', given);
  if (given !== undefined && thresholdOption !== undefined && resolved !== own)
    throw new OptionError(
      'compressionThreshold',
      `no second threshold beside httpCompression.threshold (${resolved}); keep one of them`,
      thresholdOption,
    );
  zlibAccepts('httpCompression', zlib, createGzip);
  return {
    httpCompression: true,
    compressionThreshold: given === undefined ? own : resolved,
    httpZlibOptions: zlib,
  };
}

/**
 * Whether a polling response holding `packets` may be compressed, as in engine.io: when a
 * packet sent with the default `compress` is in it. `compress: false` on every message
 * keeps the response plain; the transport's own `noop` and `close` do not count.
 *
 * @example
 * ```ts
 * mayCompress([{ type: 'message', data: 'x', compress: false }]); // false
 * ```
 */
export function mayCompress(packets: readonly Packet[]): boolean {
  return packets.some((p) => p.compress !== false && p.type !== 'noop' && p.type !== 'close');
}
