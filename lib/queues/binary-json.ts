/**
 * JSON that carries binary data: a Buffer (or any ArrayBuffer view) becomes
 * `{ "__b64": "..." }` and is read back as a Buffer. What this server writes to a broker
 * (queue messages, kept sessions) and only this server reads back.
 */

/**
 * Whether a value is binary data (an ArrayBuffer or a view of one, a Buffer among them).
 *
 * @example
 * ```ts
 * isBinary(Buffer.from('x')); // true
 * ```
 */
export const isBinary = (v: unknown): boolean => v instanceof ArrayBuffer || ArrayBuffer.isView(v);

/**
 * A `JSON.stringify` replacer: binary leaves as `{ "__b64": "..." }`.
 *
 * @example
 * ```ts
 * JSON.stringify({ file: Buffer.from([1]) }, binaryReplacer); // '{"file":{"__b64":"AQ=="}}'
 * ```
 */
export function binaryReplacer(this: unknown, _key: string, value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { __b64: value.toString('base64') };
  if (isBinary(value)) return { __b64: Buffer.from(value as ArrayBuffer).toString('base64') };
  if (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return { __b64: Buffer.from((value as { data: number[] }).data).toString('base64') };
  }
  return value;
}

/**
 * The `JSON.parse` reviver of {@link binaryReplacer}.
 *
 * @example
 * ```ts
 * JSON.parse('{"file":{"__b64":"AQ=="}}', binaryReviver).file; // <Buffer 01>
 * ```
 */
export function binaryReviver(this: unknown, _key: string, value: unknown): unknown {
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { __b64?: unknown }).__b64 === 'string'
  ) {
    return Buffer.from((value as { __b64: string }).__b64, 'base64');
  }
  return value;
}
