/**
 * The publishes a queue has not settled yet. Each is tracked from the moment
 * it is issued until the broker takes it (Redis answered the PUBLISH, RabbitMQ
 * confirmed it) or it is lost, so that a flush can wait for the ones issued
 * before it and say how many did not make it.
 *
 *   publish 1 2 3 | flush() waits for 1-3 (never for 4, 5) | publish 4 5 | flush() ...
 *            epoch 0                                         epoch 1
 *
 * A flush closes the current epoch and reports every loss of the epochs up to
 * it, each loss to one flush only; memory is one entry per unsettled publish
 * plus one counter per epoch with unreported losses.
 */
import type { Clock } from '../../schedulers/scheduler.js';
import { fulfilledWithin } from './queue.js';

interface Tracked {
  readonly epoch: number;
  readonly delivery: Promise<boolean>;
}

/**
 * Tracks publishes until they settle.
 *
 * @example
 * ```ts
 * const deliveries = new Deliveries(clock);
 * deliveries.track(queue.publish(payload));
 * const undelivered = await deliveries.flush(5000); // 0 when the broker took everything
 * ```
 */
export class Deliveries {
  #epoch = 0;
  /** Unsettled publishes, in the order they were issued (so their epochs never decrease). */
  readonly #pending = new Set<Tracked>();
  /** Losses no flush has reported yet, by epoch. */
  readonly #lost = new Map<number, number>();

  constructor(private readonly clock: Clock) {}

  /** Follows one publish; `delivery` resolves whether the broker took it. */
  track(delivery: Promise<boolean>): void {
    const tracked: Tracked = { epoch: this.#epoch, delivery };
    this.#pending.add(tracked);
    const settled = (ok: boolean): void => {
      // Not pending any more: a flush that stopped waiting has counted it already.
      if (this.#pending.delete(tracked) && !ok)
        this.#lost.set(tracked.epoch, (this.#lost.get(tracked.epoch) ?? 0) + 1);
    };
    delivery.then(settled, () => settled(false));
  }

  /**
   * Waits, `ms` at most, for every publish issued before the call; resolves how many of
   * those were not delivered: lost (now or before) or still unconfirmed when time ran out.
   */
  async flush(ms: number): Promise<number> {
    const epoch = this.#epoch++;
    if (this.#pending.size > 0)
      await fulfilledWithin(
        this.clock,
        Promise.allSettled([...this.#pending].map((t) => t.delivery)),
        ms,
      );
    let undelivered = 0;
    for (const tracked of this.#pending) {
      if (tracked.epoch > epoch) break;
      this.#pending.delete(tracked);
      undelivered++;
    }
    for (const [lostIn, count] of this.#lost) {
      if (lostIn > epoch) continue;
      this.#lost.delete(lostIn);
      undelivered += count;
    }
    return undelivered;
  }
}
