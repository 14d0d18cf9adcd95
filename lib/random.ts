/**
 * Random identifiers (session ids, socket ids) from the CSPRNG, drawn from a
 * pool refilled 4 KB at a time: one `randomBytes` call per id costs a few
 * microseconds of overhead per handshake.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * `bytes` random bytes (at most 256) as base64url.
 *
 * @example
 * ```ts
 * randomToken(16); // e.g. 'q3N0cX2mV8W1uJd6Zr9aKg' (128 bits)
 * ```
 */
export function randomToken(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 256)
    throw new RangeError(`randomToken(bytes): expected a whole number from 1 to 256, got ${bytes}`);
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const token = pool.toString('base64url', offset, offset + bytes);
  offset += bytes;
  return token;
}
