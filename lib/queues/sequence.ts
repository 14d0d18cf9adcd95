/**
 * Sequence numbers, so that a loss is counted where it happens. Each process
 * stamps what it publishes with its id and a number one higher than the last;
 * a receiver that sees the number of a sender jump knows how many messages of
 * that sender it missed (Redis drops what is published while a subscriber is
 * away, and the publisher cannot know). The stamp goes in front of the pub/sub
 * message's own JSON, where python-socketio ignores it:
 *
 *   {"seq":42,"sender":"9f3a…","method":"emit",…}    message 42 of process 9f3a…
 *   {"seq":42,"sender":"9f3a…","sync":"state"}       control: my last message is 42
 *
 * Control messages have no `method`, so python-socketio skips them. A tail
 * loss (nothing published after the gap) shows through them: a process that
 * subscribes (again) sends `ask`, the others answer with their `state`; a
 * process that stops sends `bye`. Messages a publisher sends again after a
 * reconnect keep their number, so a receiver drops what it already has.
 */

/** What a control message says besides the sender's last number. */
export type Control = 'ask' | 'state' | 'bye' | 'beat';

/**
 * A payload with the sender's stamp in front.
 *
 * @example
 * ```ts
 * stamp('{"method":"emit"}', 42, hostId); // '{"seq":42,"sender":"<hostId>","method":"emit"}'
 * ```
 */
export function stamp(payload: string, seq: number, sender: string): string {
  const head = `{"seq":${seq},"sender":"${sender}"`;
  return payload.length > 2 ? `${head},${payload.slice(1)}` : `${head}}`;
}

/**
 * A control message: `control`, and `seq`, the sender's last number.
 *
 * @example
 * ```ts
 * controlMessage('ask', 42, hostId); // '{"seq":42,"sender":"<hostId>","sync":"ask"}'
 * ```
 */
export function controlMessage(control: Control, seq: number, sender: string): string {
  return `{"seq":${seq},"sender":"${sender}","sync":"${control}"}`;
}

/** What a stamp says. */
interface Stamp {
  readonly seq: number;
  readonly sender: string;
  readonly control: Control | undefined;
}

const STAMP = /^\{"seq":(\d{1,15}),"sender":"([0-9a-f]{32})"(?:,"sync":"(ask|state|bye|beat)"\}$)?/;

/** The stamp of a payload, or undefined (a message of python-socketio, or unstamped). */
function readStamp(payload: Buffer): Stamp | undefined {
  // '{"s': cheaper than a regex on every message that has no stamp.
  if (payload[0] !== 0x7b || payload[1] !== 0x22 || payload[2] !== 0x73) return undefined;
  const match = STAMP.exec(payload.toString('latin1', 0, 128));
  if (match === null) return undefined;
  return {
    seq: Number(match[1]),
    sender: match[2] as string,
    control: match[3] as Control | undefined,
  };
}

/** Senders remembered at most (the oldest are forgotten: no loss is counted for them). */
const MAX_SENDERS = 4096;

/** Per sender, the most numbers of a gap remembered, so that a late arrival still counts. */
const MAX_GAP_REMEMBERED = 1024;

/** What to do with a payload that arrived. */
export type Arrival = 'deliver' | 'drop' | 'answer';

/**
 * The receiving side: the last number seen per sender; counts gaps as missed.
 *
 * @example
 * ```ts
 * const inbox = new Inbox(myId, (count, sender) => logger.warn(`missed ${count} from ${sender}`));
 * if (inbox.accept(payload) === 'deliver') handle(payload);
 * ```
 */
export class Inbox {
  /** Messages delivered (neither control messages nor duplicates). */
  received = 0;
  /** Messages of other processes that never arrived. */
  missed = 0;
  readonly #last = new Map<string, number>();
  /**
   * Numbers counted missed, per sender: a broker that redelivers after a reconnect can hand
   * over an older message after a newer one, which is then late, not lost (nor a duplicate).
   */
  readonly #gaps = new Map<string, Set<number>>();

  constructor(
    private readonly self: string,
    private readonly onMissed: (count: number, sender: string) => void,
    /** Told of every stamped message from another process (its control, if it is one). */
    private readonly onHeard?: (sender: string, control: Control | undefined) => void,
  ) {}

  /**
   * `deliver` a message (first arrival, or unstamped); `drop` a duplicate or a control
   * message; `answer` an `ask` (send this process's state).
   */
  accept(payload: Buffer): Arrival {
    const stamp = readStamp(payload);
    if (stamp === undefined) {
      this.received++;
      return 'deliver';
    }
    const { seq, sender, control } = stamp;
    if (sender !== this.self) this.onHeard?.(sender, control);
    if (control === undefined) {
      const last = this.#last.get(sender);
      if (last !== undefined && seq <= last) return this.#late(sender, seq);
      // A message after `last` + 1: the ones between went missing.
      this.#advance(sender, seq, seq - 1);
      this.received++;
      return 'deliver';
    }
    if (sender === this.self) return 'drop';
    const last = this.#last.get(sender);
    // A control message carries the sender's last number: up to it, what has not come is missed.
    if (last === undefined || seq > last) this.#advance(sender, seq, seq);
    if (control === 'bye') {
      this.#last.delete(sender);
      this.#gaps.delete(sender);
    }
    return control === 'ask' ? 'answer' : 'drop';
  }

  /** A message numbered at or below the last seen: late if it was counted missed, else a duplicate. */
  #late(sender: string, seq: number): Arrival {
    const gap = this.#gaps.get(sender);
    if (gap?.delete(seq) !== true) return 'drop';
    if (gap.size === 0) this.#gaps.delete(sender);
    this.missed--;
    this.received++;
    return 'deliver';
  }

  /**
   * `seq` is the sender's newest; the numbers after its last seen one up to `lastMissing` are
   * counted missed (and remembered, the newest {@link MAX_GAP_REMEMBERED}, in case they come late).
   */
  #advance(sender: string, seq: number, lastMissing: number): void {
    const last = this.#last.get(sender);
    if (last !== undefined && lastMissing > last && sender !== this.self) {
      const gap = lastMissing - last;
      this.missed += gap;
      this.onMissed(gap, sender);
      const remembered = this.#gaps.get(sender) ?? new Set<number>();
      for (let n = Math.max(last + 1, lastMissing - MAX_GAP_REMEMBERED + 1); n <= lastMissing; n++)
        remembered.add(n);
      // Oldest first out (a Set iterates in insertion order, here ascending).
      for (const n of remembered) {
        if (remembered.size <= MAX_GAP_REMEMBERED) break;
        remembered.delete(n);
      }
      this.#gaps.set(sender, remembered);
    }
    if (!this.#last.has(sender) && this.#last.size >= MAX_SENDERS) {
      const oldest = this.#last.keys().next();
      if (oldest.done !== true) {
        this.#last.delete(oldest.value);
        this.#gaps.delete(oldest.value);
      }
    }
    this.#last.set(sender, seq);
  }
}
