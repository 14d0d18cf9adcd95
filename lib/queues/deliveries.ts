/**
 * The publishes a queue has not settled yet, and the losses no flush has
 * reported. Each publish is tracked from the moment it is issued until the
 * broker takes it (Redis answered the PUBLISH, RabbitMQ confirmed it) or it is
 * lost, so that a flush can wait for the ones issued before it and say how
 * many did not make it.
 *
 *   publish 1 2 3 | flush() waits for 1-3 (never for 4, 5) | publish 4 5 | flush() ...
 *            epoch 0                                         epoch 1
 *
 * A flush closes the current epoch and reports the losses of the epochs up to
 * it, each loss to one flush only. A loss stops being news once the broker
 * takes a message issued after the loss was known: the outage is over, and it
 * was logged and counted (`queueStats().lost`) as it happened, so a clean
 * `stop()` hours after a broker blip resolves. Memory is one entry per
 * unsettled publish plus one run per epoch with unreported losses.
 */
import type { Clock } from '../../schedulers/scheduler.js';
import { fulfilledWithin } from './queue.js';

interface Tracked {
  readonly epoch: number;
  /** Losses known when it was issued: its delivery shows the broker is back after them. */
  readonly lossesKnown: number;
  readonly delivery: Promise<boolean>;
}

/** Unreported losses of one epoch, numbered `from` (inclusive) to `to` in the order they became known. */
interface LossRun {
  readonly epoch: number;
  from: number;
  to: number;
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
  /** How many losses have become known so far. */
  #losses = 0;
  /** Losses neither reported by a flush nor followed by a delivery, in the order they became known. */
  #unreported: LossRun[] = [];

  constructor(private readonly clock: Clock) {}

  /** Follows one publish; `delivery` resolves whether the broker took it. */
  track(delivery: Promise<boolean>): void {
    const tracked: Tracked = { epoch: this.#epoch, lossesKnown: this.#losses, delivery };
    this.#pending.add(tracked);
    const settled = (ok: boolean): void => {
      // Not pending any more: a flush that stopped waiting has counted it already.
      const pending = this.#pending.delete(tracked);
      if (ok) this.#recovered(tracked.lossesKnown);
      else if (pending) this.#lost(tracked.epoch);
    };
    delivery.then(settled, () => settled(false));
  }

  #lost(epoch: number): void {
    const number = this.#losses++;
    const last = this.#unreported.at(-1);
    if (last?.epoch === epoch && last.to === number) last.to++;
    else this.#unreported.push({ epoch, from: number, to: number + 1 });
  }

  /** The broker took a message issued after the first `known` losses: those are over. */
  #recovered(known: number): void {
    for (let run = this.#unreported[0]; run !== undefined && run.from < known;) {
      if (run.to > known) {
        run.from = known;
        return;
      }
      this.#unreported.shift();
      run = this.#unreported[0];
    }
  }

  /**
   * Waits, `ms` at most, for every publish issued before the call; resolves how many of
   * those issued since the previous flush (or since the start) were not delivered: lost
   * (now or before, unless the broker took a message issued after the loss was known) or
   * still unconfirmed when time ran out.
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
    const later: LossRun[] = [];
    for (const run of this.#unreported) {
      if (run.epoch > epoch) later.push(run);
      else undelivered += run.to - run.from;
    }
    this.#unreported = later;
    return undelivered;
  }
}
