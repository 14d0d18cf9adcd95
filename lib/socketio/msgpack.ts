/**
 * The msgpack parser (`parser: 'msgpack'`): the wire format of socket.io-msgpack-parser,
 * which socket.io-client users plug in (`io(url, { parser })`), and of python-socketio's
 * `serializer='msgpack'`. Every packet is one binary Engine.IO message holding a msgpack map
 * `{ type, nsp, data, id? }` (socket.io-msgpack-parser's README, "Format"); binary
 * arguments travel inside it, so there are no attachments and no BINARY_* packet types.
 *
 * Encoding uses socket.io-msgpack-parser's own Encoder (notepack.io), so a client reads
 * exactly what a socket.io server with that parser would send. Decoding uses
 * @msgpack/msgpack instead: notepack trusts the lengths in its input (a 6-byte ext 32 header
 * makes it allocate and fill 4 GiB, for over a minute), while @msgpack/msgpack checks each
 * length against the bytes present, walks nesting without recursion and refuses `__proto__`
 * keys. Both packages are loaded on first use, so a JSON server never loads them.
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

/** What socket.io-msgpack-parser exports that this module uses. */
interface MsgpackParserModule {
  Encoder: new () => { encode(packet: object): unknown[] };
}

const FEATURE = "parser: 'msgpack' (socket.io-msgpack-parser with @msgpack/msgpack)";
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

function toBuffer(bytes: unknown): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof ArrayBuffer) return Buffer.from(bytes);
  if (ArrayBuffer.isView(bytes))
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new TypeError('socket.io-msgpack-parser returned no bytes');
}

function loadWire(): MsgpackWire {
  const parser = requireOptional<MsgpackParserModule>('socket.io-msgpack-parser', FEATURE);
  const msgpack = requireOptional<typeof Msgpack>('@msgpack/msgpack', FEATURE);
  const encoder = new parser.Encoder();
  let message = NO_BYTES;
  const extensionCodec = new msgpack.ExtensionCodec();
  extensionCodec.register({
    type: 0,
    encode: () => null,
    decode: (data: Uint8Array) => notepackExtension(data, message),
  });
  const decoder = new msgpack.Decoder({ extensionCodec });
  return {
    encode(packet) {
      return encoder.encode(packet).map(toBuffer);
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
 * socket.io-msgpack-parser or @msgpack/msgpack is not installed.
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

/**
 * Encodes packets as socket.io-msgpack-parser does; `id` is left out when there is none
 * (notepack would write `undefined` as an extension that python's msgpack cannot read).
 */
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
