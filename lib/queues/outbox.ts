/**
 * The publishing side of a queue: what was published and the broker has not
 * taken yet, bounded, in order. A message waits while the connection is down
 * and goes out when it is back; one sent on a connection that died before the
 * broker answered is sent again (with its number: receivers drop a second
 * copy). A message gets its sequence number when it first goes out, so one
 * that never does (the buffer was full, the broker was never reached, the
 * queue closed first) leaves no gap: the publisher counts it as `lost`, and
 * the receivers count only gaps (`missed`). Each message is counted once.
 *
 *   publish → [waiting] ──link up──▶ [sent] ──taken──▶ gone (published)
 *                 ▲                    │
 *                 └────link down───────┘   refused ──▶ gone (its gap is counted by receivers)
 */
import { controlMessage, makeRoom, stamp } from './sequence.js';
import type { Control } from './sequence.js';

/** What became of one message handed to the broker. */
export type SendResult = 'taken' | 'refused' | 'failed';

/** A broker connection as the outbox sees it. */
export interface Link {
  /** Whether messages can go out now. */
  isUp(): boolean;
  /**
   * Hands one message to the broker (on a room's `route`, or on the channel itself): `taken`
   * once the broker has it, `refused` when it said no, `failed` when the connection went
   * before it answered. Never rejects.
   */
  send(wire: string, route: string | undefined): Promise<SendResult>;
}

/** One message on its way. */
interface Entry {
  /** The pub/sub message ('' for a control message). */
  readonly payload: string;
  readonly control: Control | undefined;
  /** The room route it goes on (undefined: the channel itself). */
  readonly route: string | undefined;
  /** 0 until it first goes out. */
  seq: number;
  /** A routed message's number on its route (0 until it first goes out). */
  n: number;
  /** The link generation it was last sent on, or WAITING. */
  sentOn: number;
  readonly settle: (taken: boolean) => void;
}

const WAITING = -1;

/** Routes whose count a publisher keeps at most; a forgotten one starts again at 1. */
const MAX_ROUTES = 10_000;
const ignore = (): void => undefined;

const controlEntry = (control: Control): Entry => ({
  payload: '',
  control,
  route: undefined,
  seq: 0,
  n: 0,
  sentOn: WAITING,
  settle: ignore,
});

/** Why a message did not reach the broker: dropped (`full`, `unreachable`, `closed`) or `refused`. */
export type LossReason = 'full' | 'unreachable' | 'closed' | 'refused';

/**
 * The publishing side of one queue.
 *
 * @example
 * ```ts
 * const outbox = new Outbox(link, id, 10_000, (reason) => warnOnce(reason));
 * outbox.linkUp();
 * const taken = await outbox.publish('{"method":"emit"}');
 * ```
 */
export class Outbox {
  /** Messages the broker took. */
  published = 0;
  /** Messages never handed to the broker. */
  lost = 0;
  /** Of those, the ones since the link was last up. */
  lostWhileDown = 0;
  readonly #pending = new Set<Entry>();
  readonly #queuedControls = new Set<Control>();
  /** Control messages the broker refused, sent again when the link is next up. */
  readonly #owed = new Set<Control>();
  #messages = 0;
  #waiting = 0;
  #seq = 0;
  /** Numbers every routed message (whatever its route), and the last of each route. */
  #routedSeq = 0;
  readonly #routes = new Map<string, number>();
  #generation = 0;
  /**
   * `connecting` until the link is first up (`reached`), or until a first attempt failed
   * (`unreachable`, publishes dropped at once); `closed` for good.
   */
  #phase: 'connecting' | 'unreachable' | 'reached' | 'closed' = 'connecting';

  constructor(
    private readonly link: Link,
    private readonly id: string,
    private readonly maxBuffered: number,
    private readonly onLoss: (reason: LossReason) => void,
  ) {}

  /** Messages not taken by the broker yet. */
  get buffered(): number {
    return this.#messages;
  }

  /**
   * Resolves whether the broker took the message (false: lost, or refused); `route` is the
   * room route it goes on (undefined: the channel itself).
   */
  publish(payload: string, route?: string): Promise<boolean> {
    const reason: LossReason | undefined =
      this.#phase === 'closed' || this.#phase === 'unreachable'
        ? this.#phase
        : this.#messages >= this.maxBuffered
          ? 'full'
          : undefined;
    if (reason !== undefined) {
      this.lost++;
      this.lostWhileDown++;
      this.onLoss(reason);
      return Promise.resolve(false);
    }
    return new Promise((settle) =>
      this.#add({ payload, control: undefined, route, seq: 0, n: 0, sentOn: WAITING, settle }),
    );
  }

  /** Sends a control message (once, however often it is asked for before it goes out). */
  control(control: Control): void {
    if (this.#phase === 'closed' || this.#queuedControls.has(control)) return;
    this.#queuedControls.add(control);
    this.#add(controlEntry(control));
  }

  #add(entry: Entry): void {
    this.#pending.add(entry);
    if (entry.control === undefined) this.#messages++;
    this.#waiting++;
    // Only this one waits: send it without walking the messages in flight.
    if (this.link.isUp() && this.#waiting === 1) this.#send(entry);
    else this.#pump();
  }

  /** The connection is up (again): what waits goes out, in order. */
  linkUp(): void {
    if (this.#phase === 'closed') return;
    if (this.#phase !== 'reached') {
      this.#phase = 'reached';
      // Announce this process before anything else: receivers count gaps from here.
      const waiting = [...this.#pending];
      this.#pending.clear();
      this.#queuedControls.add('hello');
      this.#pending.add(controlEntry('hello'));
      this.#waiting++;
      for (const entry of waiting) this.#pending.add(entry);
    }
    this.lostWhileDown = 0;
    for (const control of this.#owed) this.control(control);
    this.#owed.clear();
    this.#pump();
  }

  /** The connection went: what was sent on it and not answered will be sent again. */
  linkDown(): void {
    this.#generation++;
    for (const entry of this.#pending)
      if (entry.sentOn !== WAITING) {
        entry.sentOn = WAITING;
        this.#waiting++;
      }
  }

  /**
   * The first connection attempt failed: until one succeeds, this process is in no cluster;
   * what it publishes is dropped (counted lost) at once, not held for receivers it cannot know.
   */
  unreachable(): void {
    if (this.#phase !== 'connecting') return;
    this.#phase = 'unreachable';
    let dropped = 0;
    for (const entry of this.#pending)
      if (entry.control === undefined) {
        this.#remove(entry);
        dropped++;
        entry.settle(false);
      }
    this.lost += dropped;
    this.lostWhileDown += dropped;
    if (dropped > 0) this.onLoss('unreachable');
  }

  /** Drops what is left: messages never sent are lost; the rest may have arrived. */
  close(): void {
    this.#phase = 'closed';
    for (const entry of this.#pending) {
      if (entry.control === undefined && entry.seq === 0) this.lost++;
      entry.settle(false);
    }
    this.#pending.clear();
    this.#messages = 0;
    this.#waiting = 0;
  }

  #pump(): void {
    if (!this.link.isUp()) return;
    for (const entry of this.#pending) {
      if (this.#waiting === 0) return;
      if (entry.sentOn === WAITING) this.#send(entry);
    }
  }

  #send(entry: Entry): void {
    const generation = this.#generation;
    entry.sentOn = generation;
    this.#waiting--;
    let wire: string;
    if (entry.route !== undefined) {
      if (entry.seq === 0) this.#number(entry, entry.route);
      wire = stamp(entry.payload, entry.seq, this.id, entry.n);
    } else if (entry.control === undefined) {
      if (entry.seq === 0) entry.seq = ++this.#seq;
      wire = stamp(entry.payload, entry.seq, this.id);
    } else {
      this.#queuedControls.delete(entry.control);
      wire = controlMessage(entry.control, this.#seq, this.id);
    }
    this.link.send(wire, entry.route).then(
      (result) => this.#settled(entry, generation, result),
      () => this.#settled(entry, generation, 'failed'),
    );
  }

  /** Numbers a routed message: the next on its route (the newest route kept last). */
  #number(entry: Entry, route: string): void {
    const last = this.#routes.get(route) ?? 0;
    this.#routes.delete(route);
    makeRoom(this.#routes, route, MAX_ROUTES);
    entry.n = last + 1;
    this.#routes.set(route, entry.n);
    entry.seq = ++this.#routedSeq;
  }

  #settled(entry: Entry, generation: number, result: SendResult): void {
    if (!this.#pending.has(entry)) return;
    if (result === 'taken') {
      this.#remove(entry);
      if (entry.control === undefined) this.published++;
      entry.settle(true);
      return;
    }
    // The link went down since: linkDown() has set it waiting for the next one.
    if (generation !== this.#generation) return;
    if (result === 'failed' && !this.link.isUp()) {
      entry.sentOn = WAITING;
      this.#waiting++;
      return;
    }
    this.#remove(entry);
    entry.settle(false);
    // A refused announcement goes again at the next connection (or when asked for again).
    if (entry.control !== undefined) return void this.#owed.add(entry.control);
    this.onLoss('refused');
    // Its number is spent: tell the receivers, in case nothing follows it.
    this.control('state');
  }

  #remove(entry: Entry): void {
    this.#pending.delete(entry);
    if (entry.control === undefined) this.#messages--;
    if (entry.sentOn === WAITING) this.#waiting--;
  }
}
