/**
 * The offsets that connection state recovery puts on kept packets: a random tag per process
 * (so that an offset from elsewhere is never taken for one of its own), then a sequence number
 * in base 36, increasing within the process. A store splits an offset back into the two to
 * tell which packets of one process came before others.
 */
import { randomToken } from '../random.js';

/** Bytes of the tag: 3 bytes are 4 base64url characters. */
const TAG_BYTES = 3;
const TAG_LENGTH = 4;

/** An offset read back: the process tag and the sequence number. */
export interface OffsetParts {
  readonly tag: string;
  readonly seq: number;
}

/**
 * Splits an offset into its tag and sequence number; undefined when it is not one of this
 * form (an older server's, or made up by a client).
 *
 * @example
 * ```ts
 * splitOffset('Ab_9z'); // { tag: 'Ab_9', seq: 35 }
 * ```
 */
export function splitOffset(offset: string): OffsetParts | undefined {
  if (offset.length <= TAG_LENGTH) return undefined;
  const digits = offset.slice(TAG_LENGTH);
  if (!/^[0-9a-z]+$/.test(digits)) return undefined;
  const seq = parseInt(digits, 36);
  return Number.isSafeInteger(seq) ? { tag: offset.slice(0, TAG_LENGTH), seq } : undefined;
}

/**
 * The offsets of one process.
 *
 * @example
 * ```ts
 * const offsets = new Offsets();
 * const first = offsets.next();               // e.g. 'Ab_90'
 * offsets.predates(first, offsets.seq);       // true: issued before a log opened now
 * ```
 */
export class Offsets {
  readonly tag = randomToken(TAG_BYTES);
  #seq = 0;

  /** The sequence number the next offset gets. */
  get seq(): number {
    return this.#seq;
  }

  next(): string {
    return this.tag + (this.#seq++).toString(36);
  }

  /**
   * Whether an offset a client presents came before a log that began at `start` (a
   * sequence number of `tag`, this process's by default): none, another process's (or an
   * earlier run's), or one issued before it.
   */
  predates(offset: string | undefined, start: number, tag = this.tag): boolean {
    if (offset === undefined) return true;
    const parts = splitOffset(offset);
    return parts === undefined || parts.tag !== tag || parts.seq < start;
  }
}
