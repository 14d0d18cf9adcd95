/**
 * The encoded form of one Socket.IO packet. lib/socketio writes packets in it and
 * lib/queues carries and keeps them, so it sits below both and neither layer
 * imports the other for it.
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
