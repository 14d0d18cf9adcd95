/**
 * What a load-generator process watches on its clients besides acks: which
 * broadcast ids each client got (a window of ids, counted per client and id),
 * and how far apart the server's pings come.
 */
import { Tally } from './delivery-tally.js';
import type { TallyFigures } from './delivery-tally.js';
import { absoluteNow } from './load-jobs.js';

/**
 * Arrivals of broadcast ids `firstId` … `firstId + count - 1` at the first
 * `clients` clients. Anything else that arrives (a warm-up broadcast running
 * late, a packet without an id) is a stray, never a delivery.
 *
 * @example
 * ```ts
 * const window = new DeliveryWindow(10, 200, clients.length);
 * client.onEvent = (packet) => window.arrive(index, packetId(packet));
 * await window.settled(3000);
 * window.figures; // { expected, delivered, lost, duplicates, strays, lastAt }
 * ```
 */
export class DeliveryWindow {
  readonly #tally: Tally;
  #complete = (): void => undefined;
  #done = false;
  /** Absolute time of the last first arrival of an expected id. */
  #lastAt = 0;
  /** Absolute time of the last arrival of anything. */
  #lastSeen = 0;

  constructor(
    private readonly firstId: number,
    private readonly count: number,
    private readonly clients: number,
  ) {
    const ids = Array.from({ length: count }, (_, k) => k);
    this.#tally = new Tally(
      count,
      Array.from({ length: clients }, () => ids),
      () => {
        this.#done = true;
        this.#complete();
      },
    );
  }

  /** Client `client` got a packet carrying `id` (undefined: none). */
  arrive(client: number, id: number | undefined): void {
    const now = absoluteNow();
    this.#lastSeen = now;
    const offset = id === undefined ? -1 : id - this.firstId;
    const inWindow = offset >= 0 && offset < this.count;
    if (this.#tally.arrive(client, inWindow ? offset : undefined)) this.#lastAt = now;
  }

  /**
   * Resolves once every client has every id, or once nothing arrived for `idleMs`
   * (`firstMs` before the first arrival).
   */
  settled(idleMs: number, firstMs = idleMs): Promise<void> {
    if (this.#done) return Promise.resolve();
    const since = absoluteNow();
    return new Promise((resolve) => {
      const check = setInterval(() => {
        // Until anything arrives, a slow server's first delivery gets `firstMs`.
        const allowed = this.#lastSeen === 0 ? firstMs : idleMs;
        if (absoluteNow() - Math.max(this.#lastSeen, since) > allowed) finish();
      }, 5);
      const finish = (): void => {
        clearInterval(check);
        resolve();
      };
      this.#complete = finish;
    });
  }

  get figures(): TallyFigures & { expected: number; lastAt: number } {
    return { expected: this.clients * this.count, lastAt: this.#lastAt, ...this.#tally.figures };
  }
}

/**
 * The time between each ping and the same client's previous one, for pings
 * that come while recording (ms; the server's ping interval plus its lateness).
 *
 * @example
 * ```ts
 * client.onPing = () => pings.arrive(index);
 * const gaps = await pings.during(11);
 * ```
 */
export class PingGaps {
  #last: number[] = [];
  #gaps: number[] | null = null;

  arrive(client: number): void {
    const now = performance.now();
    const last = this.#last[client];
    if (last !== undefined) this.#gaps?.push(Math.round((now - last) * 100) / 100);
    this.#last[client] = now;
  }

  /** Records the gaps of the pings that arrive in the next `seconds`. */
  async during(seconds: number): Promise<number[]> {
    const gaps: number[] = [];
    this.#gaps = gaps;
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    this.#gaps = null;
    return gaps;
  }

  /** Forgets every client (they were closed). */
  reset(): void {
    this.#last = [];
    this.#gaps = null;
  }
}
