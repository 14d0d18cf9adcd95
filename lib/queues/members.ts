/**
 * Which server processes share the channel, from their heartbeats. Every process that
 * subscribes sends a `beat` control message each heartbeat interval (and one at once when it
 * first hears of a process, so a newcomer learns of everyone within one round trip). A process
 * is a member from its first beat until it says `bye` or stays silent for the heartbeat
 * timeout; any stamped message refreshes it. Publish-only processes (external emitters) never
 * beat, so they are never waited for; python-socketio processes do not beat either.
 *
 *   beat ──▶ member ──(any message)──▶ member ──(bye, or silent past the timeout)──▶ gone
 */
import type { Clock } from '../../schedulers/scheduler.js';
import type { Control } from './sequence.js';

/**
 * The live server processes on a channel, as this one hears them.
 *
 * @example
 * ```ts
 * const members = new Members(clock, 3000, (id) => queries.peerGone(id));
 * members.heard(sender, 'beat'); // true: a newcomer, answer with a beat
 * members.sweep();               // forgets those silent for 3 s
 * ```
 */
/** Most processes counted at once (beats from more are ignored: no query waits on thousands). */
const MAX_MEMBERS = 1024;

export class Members {
  /** When each member was last heard (the clock's ms). */
  readonly #lastHeard = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly onGone: (id: string) => void,
  ) {}

  /**
   * A stamped message from `sender` arrived. Returns true when a `beat` came from a process
   * not known until now (this one should beat back at once).
   */
  heard(sender: string, control: Control | undefined): boolean {
    if (control === 'bye') {
      if (this.#lastHeard.delete(sender)) this.onGone(sender);
      return false;
    }
    const known = this.#lastHeard.has(sender);
    if (!known && (control !== 'beat' || this.#lastHeard.size >= MAX_MEMBERS)) return false;
    this.#lastHeard.set(sender, this.clock.now());
    return !known;
  }

  /** Forgets every member at once (this process left the channel). */
  clear(): void {
    for (const id of [...this.#lastHeard.keys()]) {
      this.#lastHeard.delete(id);
      this.onGone(id);
    }
  }

  /** Forgets the members silent for longer than the timeout. */
  sweep(): void {
    const oldest = this.clock.now() - this.timeoutMs;
    for (const [id, at] of this.#lastHeard)
      if (at < oldest) {
        this.#lastHeard.delete(id);
        this.onGone(id);
      }
  }

  /** The live members' ids. */
  ids(): string[] {
    return [...this.#lastHeard.keys()];
  }

  /** Whether a process is a live member. */
  has(id: string): boolean {
    return this.#lastHeard.has(id);
  }
}
