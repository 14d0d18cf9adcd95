/**
 * The encoded form of one Socket.IO packet, the parsers that write it, and whether a value
 * needs binary attachments. lib/socketio writes packets in it and lib/queues carries and
 * keeps them, so it sits below both and neither layer imports the other for it.
 */

/**
 * Encoded parts: the packet text, then its binary attachments (a msgpack packet is one
 * binary part). What a transport writes, one Engine.IO message per part.
 *
 * @example
 * ```ts
 * const parts: EncodedParts = ['451-["file",{"_placeholder":true,"num":0}]', Buffer.from([1])];
 * ```
 */
export type EncodedParts = readonly (string | Buffer)[];

/** The `parser` option's values. */
export const PARSER_NAMES = ['json', 'msgpack'] as const;

/**
 * `json` (the default: socket.io-parser) or `msgpack` (socket.io-msgpack-parser's format).
 *
 * @group Options
 */
export type ParserName = (typeof PARSER_NAMES)[number];

function isBinary(value: unknown): boolean {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * Whether a value holds binary data anywhere (then it travels with attachments).
 *
 * @example
 * ```ts
 * containsBinary({ file: Buffer.from('x') }); // true
 * containsBinary({ text: 'x' }); // false
 * ```
 */
export function containsBinary(value: unknown, depth = 0): boolean {
  if (isBinary(value)) return true;
  if (value === null || typeof value !== 'object' || depth > 64) return false;
  for (const child of Object.values(value)) if (containsBinary(child, depth + 1)) return true;
  return false;
}
