/**
 * Engine.IO v4 packet and payload codec (engine.io-protocol v4, "Packets" and
 * "Packet encoding"). Pure functions; decoders throw nothing but {@link ParseError}.
 */
import { ParseError } from '../errors.js';

/** The protocol revision spoken here (the `EIO` query parameter). */
export const PROTOCOL_VERSION = '4';

/**
 * Packet types, one character on the wire (spec: "Packets").
 *
 * @example
 * ```ts
 * PACKET_TYPES.message; // '4'
 * ```
 *
 * @group Engine
 */
export const PACKET_TYPES = {
  open: '0',
  close: '1',
  ping: '2',
  pong: '3',
  message: '4',
  upgrade: '5',
  noop: '6',
} as const;

/**
 * The name of a packet type.
 *
 * @group Engine
 */
export type PacketType = keyof typeof PACKET_TYPES;

const TYPE_BY_CHAR: Readonly<Record<string, PacketType>> = Object.freeze(
  Object.fromEntries(
    Object.entries(PACKET_TYPES).map(([name, char]) => [char, name as PacketType]),
  ),
);

/** Separates packets in a long-polling payload (spec: "Payload"). */
export const RECORD_SEPARATOR = '\x1e';

/**
 * An Engine.IO packet; binary data only ever travels in `message` packets.
 *
 * @group Engine
 */
export interface Packet {
  readonly type: PacketType;
  readonly data?: string | Buffer;
  /**
   * False: never compressed (socket.io's `compress(false)`). Otherwise compressed when the
   * server's `perMessageDeflate` / `httpCompression` and their thresholds say so.
   */
  readonly compress?: boolean;
}

/**
 * Encodes a packet for a WebSocket frame: text as `<type><data>`, a binary
 * message as the raw bytes.
 *
 * @example
 * ```ts
 * encodePacket({ type: 'message', data: 'hi' }); // '4hi'
 * ```
 *
 * @group Engine
 */
export function encodePacket(packet: Packet): string | Buffer {
  const { data } = packet;
  if (Buffer.isBuffer(data)) {
    if (packet.type !== 'message') throw new TypeError('only message packets carry binary data');
    return data;
  }
  return PACKET_TYPES[packet.type] + (data ?? '');
}

/**
 * Encodes a packet for a long-polling payload: binary becomes `b` + base64.
 *
 * @example
 * ```ts
 * encodePacketText({ type: 'message', data: Buffer.from([1, 2]) }); // 'bAQI='
 * ```
 *
 * @group Engine
 */
export function encodePacketText(packet: Packet): string {
  const encoded = encodePacket(packet);
  return typeof encoded === 'string' ? encoded : 'b' + encoded.toString('base64');
}

/**
 * Decodes one packet: a string from a WebSocket text frame or a payload, or the
 * bytes of a binary WebSocket frame (a binary message).
 *
 * @example
 * ```ts
 * decodePacket('4hello'); // { type: 'message', data: 'hello' }
 * decodePacket('bAQI=');  // { type: 'message', data: <Buffer 01 02> }
 * ```
 *
 * @group Engine
 */
export function decodePacket(encoded: string | Buffer): Packet {
  if (typeof encoded !== 'string') return { type: 'message', data: encoded };
  const first = encoded.charAt(0);
  if (first === 'b') return { type: 'message', data: decodeBase64(encoded.slice(1)) };
  const type = TYPE_BY_CHAR[first];
  if (type === undefined) {
    throw new ParseError(
      encoded.length === 0 ? 'empty packet' : `unknown packet type ${JSON.stringify(first)}`,
    );
  }
  return encoded.length > 1 ? { type, data: encoded.slice(1) } : { type };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string): Buffer {
  if (!BASE64.test(text)) throw new ParseError('binary packet is not valid base64');
  return Buffer.from(text, 'base64');
}

/**
 * Encodes packets as one long-polling payload, joined by the record separator.
 *
 * @example
 * ```ts
 * encodePayload([{ type: 'message', data: 'a' }, { type: 'ping' }]); // '4a\x1e2'
 * ```
 *
 * @group Engine
 */
export function encodePayload(packets: readonly Packet[]): string {
  return packets.map(encodePacketText).join(RECORD_SEPARATOR);
}

/**
 * Decodes a long-polling payload. `maxPackets` bounds how many packets one
 * payload may carry.
 *
 * @example
 * ```ts
 * decodePayload('4a\x1e4b'); // [{ type: 'message', data: 'a' }, { type: 'message', data: 'b' }]
 * ```
 *
 * @group Engine
 */
export function decodePayload(payload: string, maxPackets = Infinity): Packet[] {
  if (payload.length === 0) throw new ParseError('empty payload');
  const parts = payload.split(RECORD_SEPARATOR);
  if (parts.length > maxPackets) {
    throw new ParseError(`payload carries ${parts.length} packets, more than ${maxPackets}`);
  }
  return parts.map(decodePacket);
}
