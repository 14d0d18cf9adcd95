/**
 * Clocks: the real one (Node's timers) and a virtual one whose time only moves
 * when told to, so a 25 s heartbeat can run in microseconds of real time.
 */
import type { Clock, TimerHandle } from './scheduler.js';

/**
 * Node's own timers. They keep the process alive like any timer, so a timer
 * that outlives its connection shows up as a process that does not exit.
 *
 * @example
 * ```ts
 * realClock.setTimeout(() => console.log('tick'), 10);
 * ```
 *
 * @group Schedulers
 */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    return setTimeout(fn, ms);
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

interface VirtualTimer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only through {@link VirtualClock.advance} (or
 * {@link VirtualClock.runNext}). Timers due at the same time fire in the order
 * they were set.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * clock.setTimeout(() => console.log('20 s later'), 20_000);
 * clock.advance(20_000); // prints at once
 * ```
 *
 * @group Schedulers
 */
export class VirtualClock implements Clock {
  #now = 0;
  #nextId = 1;
  #timers: VirtualTimer[] = [];
  /** Called after every setTimeout (the cooperative scheduler watches for new timers). */
  onTimerSet: (() => void) | undefined;

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: VirtualTimer = { id: this.#nextId++, due: this.#now + Math.max(0, ms), fn };
    // Keep sorted by (due, id): insertion after every timer due no later.
    let i = this.#timers.length;
    while (i > 0 && (this.#timers[i - 1] as VirtualTimer).due > timer.due) i--;
    this.#timers.splice(i, 0, timer);
    this.onTimerSet?.();
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    const id = typeof handle === 'object' ? (handle as { id?: number }).id : handle;
    const i = this.#timers.findIndex((t) => t.id === id);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.#timers.length;
  }

  /** When the next timer is due, or undefined when none is pending. */
  nextDue(): number | undefined {
    return this.#timers[0]?.due;
  }

  /** Fires the earliest timer, moving time to its due time. Returns false when none is pending. */
  runNext(): boolean {
    const timer = this.#timers.shift();
    if (!timer) return false;
    this.#now = Math.max(this.#now, timer.due);
    timer.fn();
    return true;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let next = this.#timers[0]; next && next.due <= target; next = this.#timers[0]) {
      this.runNext();
    }
    this.#now = target;
  }
}
