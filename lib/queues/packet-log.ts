/**
 * One session's log for connection state recovery: the last packets written to it, in a
 * ring that grows as packets come (most clients get few) up to a fixed capacity, then
 * drops its oldest. It remembers the offset of the last packet it dropped, so it can tell
 * a client that missed nothing it lost from one that did.
 */
import type { LoggedPacket, SessionLog } from './sessions.js';

/** The first size of a ring, doubled as it fills. */
const FIRST_SLOTS = 4;

/**
 * A bounded log of packets in the order they were written.
 *
 * @example
 * ```ts
 * const log = new PacketLog(2, 0);
 * log.push(a); log.push(b); log.push(c);  // `a` falls out
 * log.after(b.offset, false);             // [c]
 * log.after(a.offset, false);             // [b, c]: `a` was the last dropped
 * log.after(undefined, true);             // undefined: something fell out
 * ```
 */
export class PacketLog implements SessionLog {
  #slots: (LoggedPacket | undefined)[] = [];
  /** Where the oldest packet is. */
  #head = 0;
  #size = 0;
  /** The offset of the last packet that fell out; undefined while none has. */
  #dropped: string | undefined;

  constructor(
    /** Most packets kept. */
    readonly capacity: number,
    /** The store's sequence number when the session began (its offsets are not below it). */
    readonly start: number,
  ) {}

  /**
   * A log as it was written down (see {@link packets} and {@link dropped}), for a store that
   * keeps sessions outside the process.
   *
   * @example
   * ```ts
   * const copy = PacketLog.from(log.capacity, log.start, log.packets(), log.dropped);
   * ```
   */
  static from(
    capacity: number,
    start: number,
    packets: readonly LoggedPacket[],
    dropped: string | undefined,
  ): PacketLog {
    const log = new PacketLog(capacity, start);
    for (const packet of packets) log.push(packet);
    log.#dropped ??= dropped;
    return log;
  }

  /** How many packets it holds. */
  get size(): number {
    return this.#size;
  }

  /** The offset of the last packet that fell out; undefined while none has. */
  get dropped(): string | undefined {
    return this.#dropped;
  }

  /** Every packet it holds, oldest first. */
  packets(): LoggedPacket[] {
    return this.#ordered(0);
  }

  push(packet: LoggedPacket): void {
    const slots = this.#slots;
    if (this.#size === slots.length) {
      if (this.#size < this.capacity) this.#grow();
      else {
        this.#dropped = slots[this.#head]?.offset;
        slots[this.#head] = packet;
        this.#head = (this.#head + 1) % slots.length;
        return;
      }
    }
    this.#slots[(this.#head + this.#size) % this.#slots.length] = packet;
    this.#size++;
  }

  #grow(): void {
    const slots = Math.min(this.capacity, Math.max(FIRST_SLOTS, this.#slots.length * 2));
    const grown: (LoggedPacket | undefined)[] = this.#ordered(0);
    grown.length = slots;
    this.#slots = grown;
    this.#head = 0;
  }

  /** The packets from the `from`-th oldest on. */
  #ordered(from: number): LoggedPacket[] {
    const out: LoggedPacket[] = [];
    for (let i = from; i < this.#size; i++) {
      const packet = this.#slots[(this.#head + i) % this.#slots.length];
      if (packet !== undefined) out.push(packet);
    }
    return out;
  }

  /**
   * Every packet after the one with `offset`, or all of them when `offset` is the last one
   * dropped, or when the client received nothing of this session (`predates`) and nothing
   * was dropped; otherwise undefined: something the client missed is gone.
   */
  after(offset: string | undefined, predates: boolean): LoggedPacket[] | undefined {
    if (offset !== undefined) {
      for (let i = this.#size - 1; i >= 0; i--) {
        if (this.#slots[(this.#head + i) % this.#slots.length]?.offset === offset)
          return this.#ordered(i + 1);
      }
      if (offset === this.#dropped) return this.#ordered(0);
    }
    if (predates && this.#dropped === undefined) return this.#ordered(0);
    return undefined;
  }
}
