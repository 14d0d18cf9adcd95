/**
 * The msgpack parser (`parser: 'msgpack'`): the wire format of socket.io-msgpack-parser,
 * which socket.io-client users plug in (`io(url, { parser })`), and of python-socketio's
 * `serializer='msgpack'`. Every packet is one binary Engine.IO message holding a msgpack map
 * `{ type, nsp, data, id? }` (socket.io-msgpack-parser's README, "Format"); binary
 * arguments travel inside it, so there are no attachments and no BINARY_* packet types.
 *
 * Both ways use @msgpack/msgpack, loaded on first use (a JSON server never loads it), not
 * notepack.io, the codec inside socket.io-msgpack-parser: notepack trusts the lengths in its
 * input (a 6-byte ext 32 header makes it allocate and fill 4 GiB, for over a minute), writes
 * integral numbers past 2^63 as wrapped 64-bit integers and a typed array's whole backing
 * buffer instead of its view. @msgpack/msgpack checks each length against the bytes present,
 * walks nesting without recursion and refuses `__proto__` keys. What notepack writes as
 * extension type 0 (undefined, Dates, ArrayBuffers) is read as notepack means it, and Dates
 * are sent in notepack's form, so a socket.io-msgpack-parser client gets Dates back.
 */
import type * as Msgpack from '@msgpack/msgpack';
import { ProtocolError } from '../errors.js';
import { requireOptional } from '../../schedulers/optional-dependency.js';
import { checkPacket } from './packets.js';
import type {
  DecodeLimits,
  EncodedParts,
  InboundDecoder,
  PacketSink,
  PacketType,
  RawPacket,
} from './packets.js';

/** A packet as socket.io-msgpack-parser writes it (socket.io-parser's packet shape). */
export interface WirePacket {
  readonly type: PacketType;
  readonly nsp: string;
  readonly data?: unknown;
  readonly id?: number;
}

/** The msgpack bytes of packets, both ways. */
export interface MsgpackWire {
  /** One packet as one binary message. */
  encode(packet: WirePacket): EncodedParts;
  /** The value in one message; throws on anything that is not exactly one msgpack value. */
  decode(data: Buffer): unknown;
}

const FEATURE = "parser: 'msgpack'";
const NO_BYTES: Uint8Array = new Uint8Array(0);

/** notepack.io's msgpack header bytes for the fixext values it writes as extension type 0. */
const FIXEXT_1 = 0xd4;
const FIXEXT_8 = 0xd7;

/**
 * notepack.io (a Node or browser client's socket.io-msgpack-parser) writes three kinds of
 * value as extension type 0: `undefined` as fixext 1, a Date as fixext 8 (milliseconds as
 * a signed 64-bit integer), and an ArrayBuffer or typed array as ext 8/16/32. Only the
 * header byte tells a 1- or 8-byte ArrayBuffer from the other two; @msgpack/msgpack hands
 * the payload over as a view of the message, two bytes after a fixext header.
 */
function notepackExtension(data: Uint8Array, message: Uint8Array): unknown {
  const at = data.byteOffset - message.byteOffset;
  const head = data.buffer === message.buffer && at >= 2 ? message[at - 2] : undefined;
  if (head === FIXEXT_1 && data.byteLength === 1) return undefined;
  if (head === FIXEXT_8 && data.byteLength === 8) {
    const view = new DataView(data.buffer, data.byteOffset, 8);
    return new Date(view.getInt32(0) * 2 ** 32 + view.getUint32(4));
  }
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A Date as notepack.io writes it (fixext 8, type 0): milliseconds as a signed 64-bit integer. */
function notepackDate(value: unknown): Uint8Array | null {
  if (!(value instanceof Date)) return null;
  const time = value.getTime();
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, Math.floor(time / 2 ** 32));
  view.setUint32(4, time >>> 0);
  return bytes;
}

/** Nesting past this in emitted arguments is refused (a circular structure would loop). */
const MAX_OUT_DEPTH = 100;

/**
 * Emitted arguments as JSON would carry them, for @msgpack/msgpack: `toJSON()` applied,
 * functions and symbols dropped (null in arrays), an ArrayBuffer as a Buffer view; binary
 * and Dates are left to the encoder. Copies only what changes.
 */
function forWire(value: unknown, depth: number): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value) || value instanceof Date) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (depth > MAX_OUT_DEPTH)
    throw new TypeError(`emit arguments nested deeper than ${MAX_OUT_DEPTH} levels (or circular)`);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return forWire(toJSON.call(value) as unknown, depth + 1);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const wire = forWire(item, depth + 1);
      if (wire === item) continue;
      out ??= value.slice();
      out[i] = wire === undefined ? null : wire;
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const wire = forWire(item, depth + 1);
    if (wire === item) continue;
    // A spread defines own properties: a `__proto__` key stays data.
    out ??= { ...record };
    out[key] = wire;
  }
  return out ?? value;
}

function loadWire(): MsgpackWire {
  const msgpack = requireOptional<typeof Msgpack>('@msgpack/msgpack', FEATURE);
  let message = NO_BYTES;
  const extensionCodec = new msgpack.ExtensionCodec();
  // Dates go out in notepack's form (type 0), not as msgpack timestamps (type -1), which a
  // socket.io-msgpack-parser client cannot read; timestamps from other clients still read.
  extensionCodec.register({
    type: -1,
    encode: () => null,
    decode: (data: Uint8Array) => msgpack.decodeTimestampExtension(data),
  });
  extensionCodec.register({
    type: 0,
    encode: notepackDate,
    decode: (data: Uint8Array) => notepackExtension(data, message),
  });
  const encoder = new msgpack.Encoder({ extensionCodec, ignoreUndefined: true });
  const decoder = new msgpack.Decoder({ extensionCodec });
  return {
    encode(packet) {
      const bytes = encoder.encode(
        packet.data === undefined ? packet : { ...packet, data: forWire(packet.data, 0) },
      );
      return [Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)];
    },
    decode(data) {
      message = data;
      try {
        return decoder.decode(data);
      } finally {
        message = NO_BYTES;
      }
    },
  };
}

let loaded: MsgpackWire | undefined;

/**
 * The msgpack codec, loaded on first use. Throws `MissingPackageError` when
 * @msgpack/msgpack is not installed.
 *
 * @example
 * ```ts
 * const [bytes] = msgpackWire().encode({ type: 2, nsp: '/', data: ['chat', 'hi'] });
 * msgpackWire().decode(bytes as Buffer); // { type: 2, nsp: '/', data: ['chat', 'hi'] }
 * ```
 */
export function msgpackWire(): MsgpackWire {
  return (loaded ??= loadWire());
}

/**
 * Binary leaves as Buffers (@msgpack/msgpack gives Uint8Array views of the message: no copy),
 * down to `levels` levels; deeper values are left to the depth check, which refuses them.
 */
function withBuffers(value: unknown, levels: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array)
    return Buffer.isBuffer(value)
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (levels <= 0 || value instanceof Date) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = withBuffers(value[i], levels - 1);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = withBuffers(record[key], levels - 1);
  return value;
}

/**
 * Reads one msgpack packet into socket.io-parser's shape, before the protocol's checks.
 * `nil` stands for "absent" (python-socketio sends `data: None` with CONNECT and DISCONNECT).
 * Throws {@link ProtocolError} for bytes that are not one msgpack map.
 *
 * @example
 * ```ts
 * readPacket(msgpackWire(), bytes, 32); // { type: 0, nsp: '/', data: { token: 'x' }, id: undefined }
 * ```
 */
export function readPacket(wire: MsgpackWire, data: Buffer, maxDepth: number): RawPacket {
  let decoded: unknown;
  try {
    decoded = wire.decode(data);
  } catch (error) {
    throw new ProtocolError(
      `undecodable msgpack packet (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (
    typeof decoded !== 'object' ||
    decoded === null ||
    Object.getPrototypeOf(decoded) !== Object.prototype
  )
    throw new ProtocolError('a msgpack packet must be a map');
  const { type, nsp, data: payload, id } = decoded as Record<string, unknown>;
  return {
    type,
    nsp,
    data: payload === null ? undefined : withBuffers(payload, maxDepth + 2),
    id: id === null ? undefined : id,
  };
}

/**
 * One client's decoder for the msgpack parser: each binary message is one whole packet.
 * Text is what a JSON client sends: it goes to the sink's `onParserMismatch`.
 *
 * @example
 * ```ts
 * const decoder = new MsgpackPacketDecoder(limits, sink, msgpackWire());
 * decoder.add(bytes); // sink.onPacket({ type: 'event', nsp: '/', event: 'chat', args: ['hi'] })
 * ```
 */
export class MsgpackPacketDecoder implements InboundDecoder {
  constructor(
    private readonly limits: DecodeLimits,
    private readonly sink: PacketSink,
    private readonly wire: MsgpackWire,
  ) {}

  add(data: string | Buffer): void {
    if (typeof data === 'string') {
      if (this.sink.onParserMismatch === undefined)
        throw new ProtocolError('a text message where the msgpack parser reads binary ones');
      return this.sink.onParserMismatch(data);
    }
    this.sink.onPacket(checkPacket(readPacket(this.wire, data, this.limits.maxDepth), this.limits));
  }

  destroy(): void {
    // Nothing is kept between messages.
  }
}

/** Encodes one packet as socket.io-msgpack-parser's map; `id` only when there is one. */
export function msgpackPacket(
  wire: MsgpackWire,
  type: PacketType,
  nsp: string,
  data: unknown,
  id?: number,
): EncodedParts {
  if (id !== undefined) return wire.encode({ type, nsp, data, id });
  return wire.encode(data === undefined ? { type, nsp } : { type, nsp, data });
}
