/**
 * The two parsers a server can speak (the `parser` option) behind one interface: the
 * default JSON parser (socket.io-parser) and msgpack (socket.io-msgpack-parser's format).
 * The server, the emitter, the test client and the queue encode through it; and a client
 * of the other parser gets a CONNECT_ERROR it can read instead of a silent close.
 */
import { Decoder, Encoder, PacketType } from 'socket.io-parser';
import type { Packet as ParserPacket } from 'socket.io-parser';
import {
  encodeAck,
  encodeConnect,
  encodeConnectError,
  encodeDisconnect,
  encodeEvent,
  PacketDecoder,
} from './packets.js';
import type {
  DecodeLimits,
  EncodedParts,
  InboundDecoder,
  JsonCodec,
  PacketSink,
} from './packets.js';
import { msgpackPacket, MsgpackPacketDecoder, msgpackWire, readPacket } from './msgpack.js';
import type { MsgpackWire, WirePacket } from './msgpack.js';

export type { WirePacket };

/** The `parser` option's values. */
export const PARSER_NAMES = ['json', 'msgpack'] as const;

/**
 * `json` (the default: socket.io-parser) or `msgpack` (socket.io-msgpack-parser's format).
 *
 * @group Options
 */
export type ParserName = (typeof PARSER_NAMES)[number];

/** A client's side of a codec: what the in-process test client sends and reads. */
export interface ClientSide {
  encode(packet: WirePacket): EncodedParts;
  /** Feeds one message from the server; calls `onPacket` for each whole packet. */
  add(data: string | Buffer): void;
}

/** One parser's packets, both ways. */
export interface PacketCodec {
  readonly parser: ParserName;
  /**
   * The first id of the server's own acks. msgpack starts at 1: python-socketio's msgpack
   * serializer leaves out an id of 0 (`if self.id:`), so its ack would come back without one.
   */
  readonly firstAckId: number;
  encodeEvent(nsp: string, event: string, args: readonly unknown[], id?: number): EncodedParts;
  encodeAck(nsp: string, id: number, args: readonly unknown[]): EncodedParts;
  /** The CONNECT answer: `{ sid }`, and `pid` with connection state recovery. */
  encodeConnect(nsp: string, sid: string, pid?: string): EncodedParts;
  encodeConnectError(nsp: string, message: string, data?: unknown): EncodedParts;
  encodeDisconnect(nsp: string): EncodedParts;
  /** One client's decoder. */
  decoder(limits: DecodeLimits, sink: PacketSink): InboundDecoder;
  /**
   * An event this parser encoded (without an ack id), with `offset` appended to its
   * arguments (connection state recovery); undefined when the parts are not such an event.
   */
  withOffset(nsp: string, parts: EncodedParts, offset: string): EncodedParts | undefined;
  /** The event in parts this parser encoded (a queue message from a process with this parser). */
  readEvent(parts: EncodedParts): { event: string; args: unknown[] } | undefined;
  /** A client of this parser, for the test client. */
  client(onPacket: (packet: WirePacket) => void): ClientSide;
}

function toPart(part: unknown): string | Buffer {
  if (typeof part === 'string' || Buffer.isBuffer(part)) return part;
  if (part instanceof ArrayBuffer) return Buffer.from(part);
  if (ArrayBuffer.isView(part)) return Buffer.from(part.buffer, part.byteOffset, part.byteLength);
  throw new TypeError('unexpected packet part');
}

function parserEncode(encoder: Encoder, packet: WirePacket): EncodedParts {
  return (encoder.encode(packet as ParserPacket) as unknown[]).map(toPart);
}

function eventOf(packet: WirePacket | undefined): { event: string; args: unknown[] } | undefined {
  if (packet?.type !== PacketType.EVENT || !Array.isArray(packet.data)) return undefined;
  const [event, ...args] = packet.data as unknown[];
  return typeof event === 'string' ? { event, args } : undefined;
}

/**
 * The JSON parser: socket.io-parser, with the `json` option's codec for the arguments.
 *
 * @example
 * ```ts
 * jsonCodec(undefined).encodeEvent('/', 'chat', ['hi']); // ['2["chat","hi"]']
 * ```
 */
export function jsonCodec(json: JsonCodec | undefined): PacketCodec {
  return {
    parser: 'json',
    firstAckId: 0,
    encodeEvent: (nsp, event, args, id) => encodeEvent(nsp, event, args, id, json),
    encodeAck: (nsp, id, args) => encodeAck(nsp, id, args, json),
    encodeConnect,
    encodeConnectError,
    encodeDisconnect,
    decoder: (limits, sink) => new PacketDecoder(limits, sink, json),
    withOffset(_nsp, parts, offset) {
      // The packet text ends with its JSON array of arguments (attachments follow as parts of
      // their own), so the offset goes in as text: no decoding, and a custom codec's
      // arguments stay exactly as it wrote them.
      const [text, ...attachments] = parts;
      if (typeof text !== 'string' || !text.endsWith(']')) return undefined;
      return [`${text.slice(0, -1)},${JSON.stringify(offset)}]`, ...attachments];
    },
    readEvent(parts) {
      let packet: WirePacket | undefined;
      const decoder = new Decoder();
      decoder.on('decoded', (decoded: ParserPacket) => (packet = decoded));
      try {
        for (const part of parts) decoder.add(part);
      } catch {
        return undefined;
      } finally {
        decoder.destroy();
      }
      return eventOf(packet);
    },
    client(onPacket) {
      const encoder = new Encoder();
      const decoder = new Decoder();
      decoder.on('decoded', (packet: ParserPacket) => onPacket(packet));
      return {
        encode: (packet) => parserEncode(encoder, packet),
        add: (data) => decoder.add(data),
      };
    },
  };
}

/**
 * The msgpack parser (loads @msgpack/msgpack; throws `MissingPackageError` without it).
 *
 * @example
 * ```ts
 * msgpackCodec().encodeEvent('/', 'chat', ['hi']); // [<Buffer 83 a4 74 79 70 65 02 ...>]
 * ```
 */
export function msgpackCodec(): PacketCodec {
  const wire = msgpackWire();
  return {
    parser: 'msgpack',
    firstAckId: 1,
    encodeEvent: (nsp, event, args, id) =>
      msgpackPacket(wire, PacketType.EVENT, nsp, [event, ...args], id),
    encodeAck: (nsp, id, args) => msgpackPacket(wire, PacketType.ACK, nsp, args, id),
    encodeConnect: (nsp, sid, pid) =>
      msgpackPacket(wire, PacketType.CONNECT, nsp, pid === undefined ? { sid } : { sid, pid }),
    encodeConnectError: (nsp, message, data) =>
      msgpackPacket(
        wire,
        PacketType.CONNECT_ERROR,
        nsp,
        data === undefined ? { message } : { message, data },
      ),
    encodeDisconnect: (nsp) => msgpackPacket(wire, PacketType.DISCONNECT, nsp, undefined),
    decoder: (limits, sink) => new MsgpackPacketDecoder(limits, sink, wire),
    withOffset(nsp, parts, offset) {
      const sent = this.readEvent(parts);
      if (sent === undefined) return undefined;
      return msgpackPacket(wire, PacketType.EVENT, nsp, [sent.event, ...sent.args, offset]);
    },
    readEvent(parts) {
      const [bytes] = parts;
      if (parts.length !== 1 || !Buffer.isBuffer(bytes)) return undefined;
      try {
        return eventOf(readPacket(wire, bytes, Infinity) as WirePacket);
      } catch {
        return undefined;
      }
    },
    client(onPacket) {
      return {
        encode: (packet) => wire.encode(packet),
        add(data) {
          if (typeof data === 'string') throw new TypeError('text from a msgpack server');
          onPacket(readPacket(wire, data, Infinity) as WirePacket);
        },
      };
    },
  };
}

/**
 * The codec for the `parser` option.
 *
 * @example
 * ```ts
 * codecFor('json', undefined).parser; // 'json'
 * ```
 */
export function codecFor(parser: ParserName, json: JsonCodec | undefined): PacketCodec {
  return parser === 'msgpack' ? msgpackCodec() : jsonCodec(json);
}

/** What the server says to a client of the other parser, and the fix it logs. */
export interface ParserRefusal {
  /** A CONNECT_ERROR in the client's own format (when its first packet was a CONNECT). */
  readonly answer: EncodedParts | undefined;
  /** The log line, naming the fix on either side. */
  readonly log: string;
}

/** The CONNECT_ERROR messages a client of the other parser sees. */
export const PARSER_MISMATCH = {
  json: "parser mismatch: this server uses the JSON parser; remove the client's msgpack parser, or set parser: 'msgpack' on the server",
  msgpack:
    "parser mismatch: this server uses parser: 'msgpack'; give the client socket.io-msgpack-parser (io(url, { parser })) or serializer='msgpack' (python-socketio)",
} as const satisfies Record<ParserName, string>;

const FIX = {
  json: "a client sent msgpack (binary) where the JSON parser reads text: set parser: 'msgpack' on the server (new SocketIO({ parser: 'msgpack' })), or remove the msgpack parser from the client",
  msgpack:
    "a client sent JSON (text) where parser: 'msgpack' reads binary: give the client the msgpack parser (socket.io-client: io(url, { parser: require('socket.io-msgpack-parser') }); python-socketio: socketio.Client(serializer='msgpack')), or remove parser: 'msgpack' from the server",
} as const satisfies Record<ParserName, string>;

/** The first packet of a JSON client, when it is a CONNECT. */
function jsonConnect(text: string): string | undefined {
  let nsp: string | undefined;
  const decoder = new Decoder();
  decoder.on('decoded', (packet: ParserPacket) => {
    if (packet.type === PacketType.CONNECT) nsp = packet.nsp;
  });
  try {
    decoder.add(text);
  } catch {
    return undefined;
  } finally {
    decoder.destroy();
  }
  return nsp;
}

/** The first packet of a msgpack client, when it is a CONNECT (and msgpack is installed). */
function msgpackConnect(data: Buffer): { wire: MsgpackWire; nsp: string } | undefined {
  try {
    const wire = msgpackWire();
    const packet = readPacket(wire, data, 0);
    return packet.type === PacketType.CONNECT && typeof packet.nsp === 'string'
      ? { wire, nsp: packet.nsp }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The refusal for a message only a client of the other parser sends: a CONNECT_ERROR the
 * client surfaces as `connect_error` (when that message is a CONNECT), and the log line.
 *
 * @example
 * ```ts
 * parserRefusal('msgpack', '0').answer; // ['4{"message":"parser mismatch: …"}']
 * ```
 */
export function parserRefusal(server: ParserName, data: string | Buffer): ParserRefusal {
  const log = FIX[server];
  const message = PARSER_MISMATCH[server];
  if (typeof data === 'string') {
    const nsp = jsonConnect(data);
    return { answer: nsp === undefined ? undefined : encodeConnectError(nsp, message), log };
  }
  const connect = msgpackConnect(data);
  if (connect === undefined) return { answer: undefined, log };
  const { wire, nsp } = connect;
  return { answer: msgpackPacket(wire, PacketType.CONNECT_ERROR, nsp, { message }), log };
}
