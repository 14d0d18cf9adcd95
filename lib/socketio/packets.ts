/**
 * Socket.IO v5 packets (socket.io-protocol v5), using socket.io-parser for the
 * wire format and adding the checks the parser leaves to servers.
 */
import { Decoder, Encoder, PacketType } from 'socket.io-parser';
import type { Packet as ParserPacket } from 'socket.io-parser';
import type { EncodedParts } from '../encoded-parts.js';
import { ProtocolError } from '../errors.js';
import { containsBinary } from '../encoded-parts.js';

export { PacketType };

/** Event names neither side may emit (socket.io-protocol v5, "EVENT"). */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

/**
 * A custom JSON codec (the `json` option): must produce and read standard JSON text.
 *
 * @group Options
 */
export interface JsonCodec {
  stringify(value: unknown): string;
  parse(text: string): unknown;
}

/** Limits on what a client may send. */
export interface DecodeLimits {
  readonly maxAttachments: number;
  readonly maxEventNameLength: number;
  readonly maxDepth: number;
}

/** Where a decoder delivers checked packets. */
export interface PacketSink {
  onPacket(packet: InboundPacket): void;
  /**
   * A message only a client of the other parser sends (binary where the JSON parser needs
   * text first, text for the msgpack parser). Without this method it is a ProtocolError.
   */
  onParserMismatch?(data: string | Buffer): void;
}

/** One client's decoder, for either parser: feed it engine messages, get checked packets. */
export interface InboundDecoder {
  /** Feeds one engine message; throws {@link ProtocolError} when the client broke the protocol. */
  add(data: string | Buffer): void;
  /** Drops what a half-received packet left. */
  destroy(): void;
}

/** A packet as a parser hands it over, before any check: socket.io-parser's shape. */
export interface RawPacket {
  readonly type: unknown;
  readonly nsp: unknown;
  readonly data?: unknown;
  readonly id?: unknown;
}

/** A packet as the server sees it after decoding and checking. */
export type InboundPacket =
  | {
      readonly type: 'connect';
      readonly nsp: string;
      readonly auth: Record<string, unknown> | undefined;
    }
  | { readonly type: 'disconnect'; readonly nsp: string }
  | {
      readonly type: 'event';
      readonly nsp: string;
      readonly event: string;
      readonly args: unknown[];
      readonly id: number | undefined;
    }
  | { readonly type: 'ack'; readonly nsp: string; readonly args: unknown[]; readonly id: number };

export type { EncodedParts };

const encoder = new Encoder();

function toBuffer(part: unknown): string | Buffer {
  if (typeof part === 'string' || Buffer.isBuffer(part)) return part;
  if (part instanceof ArrayBuffer) return Buffer.from(part);
  if (ArrayBuffer.isView(part)) return Buffer.from(part.buffer, part.byteOffset, part.byteLength);
  throw new TypeError('unexpected attachment type');
}

export { containsBinary } from '../encoded-parts.js';
export { mapEntries, newSession, setOwn } from '../own-keys.js';

function viaCodec(value: unknown, json: JsonCodec | undefined): unknown {
  // A custom codec defines the wire form of plain data; binary data keeps its attachments.
  if (json === undefined || containsBinary(value)) return value;
  return JSON.parse(json.stringify(value));
}

function encode(packet: ParserPacket): EncodedParts {
  const parts = encoder.encode(packet) as unknown[];
  // The common case, one text part, needs no conversion (and no new array).
  if (parts.length === 1 && typeof parts[0] === 'string') return parts as string[];
  return parts.map(toBuffer);
}

function withCodec(values: readonly unknown[], json: JsonCodec | undefined): unknown[] {
  return json === undefined ? (values as unknown[]) : values.map((v) => viaCodec(v, json));
}

/**
 * Encodes an EVENT (BINARY_EVENT when an argument holds binary data).
 *
 * @example
 * ```ts
 * encodeEvent('/', 'chat', ['hi']); // ['2["chat","hi"]']
 * ```
 */
export function encodeEvent(
  nsp: string,
  event: string,
  args: readonly unknown[],
  id?: number,
  json?: JsonCodec,
): EncodedParts {
  return encode({ type: PacketType.EVENT, nsp, data: withCodec([event, ...args], json), id });
}

/** Encodes an ACK (BINARY_ACK when binary). */
export function encodeAck(
  nsp: string,
  id: number,
  args: readonly unknown[],
  json?: JsonCodec,
): EncodedParts {
  return encode({ type: PacketType.ACK, nsp, data: withCodec(args, json), id });
}

/** Encodes the CONNECT answer `{ sid }` (`{ sid, pid }` with connection state recovery). */
export function encodeConnect(nsp: string, sid: string, pid?: string): EncodedParts {
  return encode({
    type: PacketType.CONNECT,
    nsp,
    data: pid === undefined ? { sid } : { sid, pid },
  });
}

/** Encodes CONNECT_ERROR `{ message, data? }`. */
export function encodeConnectError(nsp: string, message: string, data?: unknown): EncodedParts {
  return encode({
    type: PacketType.CONNECT_ERROR,
    nsp,
    data: data === undefined ? { message } : { message, data },
  });
}

/** Encodes a DISCONNECT. */
export function encodeDisconnect(nsp: string): EncodedParts {
  return encode({ type: PacketType.DISCONNECT, nsp });
}

function depthOf(value: unknown, limit: number, depth = 0): number {
  if (depth > limit || value === null || typeof value !== 'object' || Buffer.isBuffer(value))
    return depth;
  let max = depth;
  for (const child of Object.values(value)) {
    max = Math.max(max, depthOf(child, limit, depth + 1));
    if (max > limit) break;
  }
  return max;
}

function validNamespace(nsp: string): boolean {
  return nsp.startsWith('/') && nsp.length <= 256;
}

function checkedArgs(
  values: unknown[],
  limits: DecodeLimits,
  json: JsonCodec | undefined,
): unknown[] {
  if (depthOf(values, limits.maxDepth) > limits.maxDepth) {
    throw new ProtocolError(`arguments nested deeper than ${limits.maxDepth} levels`);
  }
  return json === undefined
    ? values
    : values.map((v) => (Buffer.isBuffer(v) ? v : json.parse(JSON.stringify(v))));
}

/**
 * The checks the protocol asks of a server on a decoded packet, whichever parser read it:
 * the namespace, the ack id, the payload's shape for its type, reserved event names and the
 * limits. Throws {@link ProtocolError} on anything that closes the connection.
 *
 * @example
 * ```ts
 * checkPacket({ type: 2, nsp: '/', data: ['chat', 'hi'] }, limits);
 * // { type: 'event', nsp: '/', event: 'chat', args: ['hi'], id: undefined }
 * ```
 */
export function checkPacket(
  packet: RawPacket,
  limits: DecodeLimits,
  json?: JsonCodec,
): InboundPacket {
  const nsp = packet.nsp;
  if (typeof nsp !== 'string' || !validNamespace(nsp)) throw new ProtocolError('invalid namespace');
  const id = packet.id;
  // socket.io-parser reads spaces as digits and keeps ids past 2^53: accept real ids only.
  if (id !== undefined && !(typeof id === 'number' && Number.isSafeInteger(id) && id >= 0)) {
    throw new ProtocolError('garbage where an ack id should be');
  }
  const data: unknown = packet.data;
  switch (packet.type) {
    case PacketType.CONNECT:
      if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data)))
        throw new ProtocolError('a CONNECT payload must be an object');
      return { type: 'connect', nsp, auth: data as Record<string, unknown> | undefined };
    case PacketType.DISCONNECT:
      return { type: 'disconnect', nsp };
    case PacketType.EVENT: {
      if (!Array.isArray(data) || data.length === 0 || typeof data[0] !== 'string') {
        throw new ProtocolError(
          'event payload must be a non-empty array starting with the event name',
        );
      }
      const [event, ...args] = data as [string, ...unknown[]];
      if (RESERVED_EVENTS.has(event))
        throw new ProtocolError(`"${event}" is a reserved event name`);
      if (event.length > limits.maxEventNameLength) {
        throw new ProtocolError(`event name longer than ${limits.maxEventNameLength} characters`);
      }
      return { type: 'event', nsp, event, args: checkedArgs(args, limits, json), id };
    }
    case PacketType.ACK:
      if (!Array.isArray(data) || id === undefined)
        throw new ProtocolError('ack without an id or an array payload');
      return { type: 'ack', nsp, args: checkedArgs(data, limits, json), id };
    default:
      throw new ProtocolError(`packet type ${String(packet.type)} is not accepted from clients`);
  }
}

/**
 * One client's decoder for the JSON parser: feed it engine messages, get checked packets.
 * Throws {@link ProtocolError} on anything the protocol says closes the connection.
 *
 * @example
 * ```ts
 * const decoder = new PacketDecoder(limits, { onPacket: (p) => console.log(p) });
 * decoder.add('2["chat","hi"]'); // { type: 'event', nsp: '/', event: 'chat', args: ['hi'] }
 * ```
 */
export class PacketDecoder implements InboundDecoder {
  /**
   * Text packets without attachments decode statelessly, so every client shares one
   * parser for them; a client gets a parser of its own (kept) once it sends a binary
   * packet, whose attachments must be reassembled per client.
   */
  static readonly #shared = new Decoder();
  static #current: PacketDecoder | undefined;
  static {
    PacketDecoder.#shared.on('decoded', (packet: ParserPacket) => {
      const current = PacketDecoder.#current;
      if (current !== undefined) current.#deliver(packet);
    });
  }
  #own: Decoder | undefined;

  constructor(
    private readonly limits: DecodeLimits,
    private readonly sink: PacketSink,
    private readonly json?: JsonCodec,
  ) {}

  #deliver(packet: ParserPacket): void {
    this.sink.onPacket(checkPacket(packet, this.limits, this.json));
  }

  #ownDecoder(): Decoder {
    if (this.#own === undefined) {
      this.#own = new Decoder({ maxAttachments: this.limits.maxAttachments });
      this.#own.on('decoded', (packet: ParserPacket) => this.#deliver(packet));
    }
    return this.#own;
  }

  /** Feeds one engine message (text, or a binary attachment). */
  add(data: string | Buffer): void {
    try {
      if (
        this.#own === undefined &&
        typeof data === 'string' &&
        data[0] !== '5' &&
        data[0] !== '6'
      ) {
        const previous = PacketDecoder.#current;
        PacketDecoder.#current = this;
        try {
          PacketDecoder.#shared.add(data);
        } finally {
          PacketDecoder.#current = previous;
        }
      } else if (
        this.#own === undefined &&
        typeof data !== 'string' &&
        this.sink.onParserMismatch
      ) {
        // Binary before any binary packet's header: what a msgpack client sends.
        this.sink.onParserMismatch(data);
      } else {
        this.#ownDecoder().add(data);
      }
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      throw new ProtocolError(error instanceof Error ? error.message : 'undecodable packet');
    }
  }

  /** Drops a half-received binary packet. */
  destroy(): void {
    this.#own?.destroy();
  }
}
