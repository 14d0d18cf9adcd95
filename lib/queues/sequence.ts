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
 * With room-aware routing, a message to one room goes on that room's route, which only
 * the processes with members in the room receive. Such a message carries two numbers:
 * `n`, one higher than the sender's last on the same route (gaps are counted per
 * route), and `seq`, from a counter the sender keeps for all its routed messages (so a
 * duplicate is told from a route whose count the sender started again):
 *
 *   {"seq":7,"sender":"9f3a…","n":3,"method":"emit",…}  routed message 3 on its route
 *
 * Control messages have no `method`, so python-socketio skips them. A tail
 * loss (nothing published after the gap) shows through them: a process that
 * subscribes (again) sends `ask`, the others answer with their `state`; a
 * process that stops sends `bye`. A process's very first message is `hello` (a
 * `state` that also says it has published nothing before): a receiver that listens to
 * a route when it hears it counts that sender's messages on the route from the first. Messages a publisher sends again after a
 * reconnect keep their number, so a receiver drops what it already has.
 */

/** What a control message says besides the sender's last number. */
export type Control = 'hello' | 'ask' | 'state' | 'bye' | 'beat';

/**
 * A payload with the sender's stamp in front.
 *
 * @example
 * ```ts
 * stamp('{"method":"emit"}', 42, hostId); // '{"seq":42,"sender":"<hostId>","method":"emit"}'
 * stamp('{"method":"emit"}', 7, hostId, 3); // '{"seq":7,"sender":"<hostId>","n":3,"method":"emit"}'
 * ```
 */
export function stamp(payload: string, seq: number, sender: string, n?: number): string {
  const head =
    n === undefined
      ? `{"seq":${seq},"sender":"${sender}"`
      : `{"seq":${seq},"sender":"${sender}","n":${n}`;
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
  /** A routed message's number on its route. */
  readonly n: number | undefined;
}

const STAMP =
  /^\{"seq":(\d{1,15}),"sender":"([0-9a-f]{32})"(?:,"n":(\d{1,15}))?(?:,"sync":"(hello|ask|state|bye|beat)"\}$)?/;

/** The stamp of a payload, or undefined (a message of python-socketio, or unstamped). */
function readStamp(payload: Buffer): Stamp | undefined {
  // '{"s': cheaper than a regex on every message that has no stamp.
  if (payload[0] !== 0x7b || payload[1] !== 0x22 || payload[2] !== 0x73) return undefined;
  const match = STAMP.exec(payload.toString('latin1', 0, 128));
  if (match === null) return undefined;
  return {
    seq: Number(match[1]),
    sender: match[2] as string,
    n: match[3] === undefined ? undefined : Number(match[3]),
    control: match[4] as Control | undefined,
  };
}

/** Senders remembered at most (the oldest are forgotten: no loss is counted for them). */
const MAX_SENDERS = 4096;

/** Routes remembered at most per sender (the oldest are forgotten, as senders are). */
const MAX_ROUTES = 10_000;

/** Per sender, the most numbers of a gap remembered, so that a late arrival still counts. */
const MAX_GAP_REMEMBERED = 1024;

/** What to do with a payload that arrived. */
export type Arrival = 'deliver' | 'drop' | 'answer';

/** The numbers seen of one sender on one route (the channel itself, or a room's route). */
interface Track {
  last: number;
  /**
   * Numbers counted missed: a broker that redelivers after a reconnect can hand over an older
   * message after a newer one, which is then late, not lost (nor a duplicate).
   */
  gaps: Set<number> | undefined;
}

/** A routed track also keeps the sender's routed counter, to tell a duplicate from a new count. */
interface RoutedTrack extends Track {
  seq: number;
}

/**
 * Removes the oldest entry of `map` (the first inserted) when adding `key` would take it past
 * `max` entries.
 *
 * @example
 * ```ts
 * makeRoom(lastSeen, sender, 4096);
 * lastSeen.set(sender, seq);
 * ```
 */
export function makeRoom<K, V>(map: Map<K, V>, key: K, max: number): void {
  if (map.has(key) || map.size < max) return;
  const oldest = map.keys().next();
  if (oldest.done !== true) map.delete(oldest.value);
}

/**
 * The receiving side: the last number seen per sender (and per sender and route); counts
 * gaps as missed.
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
  readonly #tracks = new Map<string, Track>();
  /** Per sender, per route: what it sent to rooms. */
  readonly #routed = new Map<string, Map<string, RoutedTrack>>();
  /** The routes this process listens to. */
  readonly #listening = new Set<string>();

  constructor(
    private readonly self: string,
    private readonly onMissed: (count: number, sender: string) => void,
    /** Told of every stamped message from another process (its control, if it is one). */
    private readonly onHeard?: (sender: string, control: Control | undefined) => void,
  ) {}

  /**
   * `deliver` a message (first arrival, or unstamped); `drop` a duplicate or a control
   * message; `answer` an `ask` (send this process's state). `route` names the room route a
   * message came on (undefined: the channel itself).
   */
  accept(payload: Buffer, route?: string): Arrival {
    const stamp = readStamp(payload);
    if (stamp === undefined) {
      this.received++;
      return 'deliver';
    }
    const { seq, sender, control, n } = stamp;
    if (sender !== this.self) this.onHeard?.(sender, control);
    if (n !== undefined && route !== undefined && control === undefined)
      return this.#acceptRouted(sender, route, seq, n);
    if (control === undefined) {
      const track = this.#tracks.get(sender);
      if (track !== undefined && seq <= track.last) return this.#late(track, seq);
      // A message after `last` + 1: the ones between went missing.
      this.#advance(this.#track(sender, seq), sender, seq, seq - 1);
      this.received++;
      return 'deliver';
    }
    if (sender === this.self) return 'drop';
    const track = this.#tracks.get(sender);
    // A control message carries the sender's last number: up to it, what has not come is missed.
    if (track === undefined || seq > track.last)
      this.#advance(this.#track(sender, seq), sender, seq, seq);
    if (control === 'bye') {
      this.#tracks.delete(sender);
      this.#routed.delete(sender);
    }
    if (control === 'hello') this.#heardFromStart(sender);
    return control === 'ask' ? 'answer' : 'drop';
  }

  /**
   * This process (re)starts listening to a route: what was seen on it is forgotten, and what was
   * sent to it while it did not listen is not missed.
   */
  listen(route: string): void {
    this.#listening.add(route);
    for (const routes of this.#routed.values()) routes.delete(route);
  }

  /** This process stops listening to a route. */
  unlisten(route: string): void {
    this.#listening.delete(route);
    for (const routes of this.#routed.values()) routes.delete(route);
  }

  /**
   * A sender's first message: it published nothing before, so on every route listened to now
   * its messages are counted from the first (a first one lost is missed, not unseen).
   */
  #heardFromStart(sender: string): void {
    const routes = new Map<string, RoutedTrack>();
    for (const route of this.#listening)
      if (routes.size < MAX_ROUTES) routes.set(route, { last: 0, gaps: undefined, seq: 0 });
    makeRoom(this.#routed, sender, MAX_SENDERS);
    this.#routed.set(sender, routes);
  }

  /** A message on a room's route: numbered `n` on it, and `seq` among the sender's routed ones. */
  #acceptRouted(sender: string, route: string, seq: number, n: number): Arrival {
    let routes = this.#routed.get(sender);
    if (routes === undefined) {
      makeRoom(this.#routed, sender, MAX_SENDERS);
      this.#routed.set(sender, (routes = new Map<string, RoutedTrack>()));
    }
    const track = routes.get(route);
    if (track !== undefined && seq <= track.seq) return this.#late(track, n);
    if (track === undefined || n <= track.last) {
      // The first heard on it, or the sender started counting it again (it forgot the route).
      makeRoom(routes, route, MAX_ROUTES);
      routes.set(route, { last: n, gaps: undefined, seq });
    } else {
      this.#advance(track, sender, n, n - 1);
      track.seq = seq;
    }
    this.received++;
    return 'deliver';
  }

  /** The track of a sender on the channel, new (at `seq` - 1) when it was not heard before. */
  #track(sender: string, seq: number): Track {
    let track = this.#tracks.get(sender);
    if (track === undefined) {
      makeRoom(this.#tracks, sender, MAX_SENDERS);
      track = { last: seq, gaps: undefined };
      this.#tracks.set(sender, track);
    }
    return track;
  }

  /** A message numbered at or below the last seen: late if it was counted missed, else a duplicate. */
  #late(track: Track, seq: number): Arrival {
    if (track.gaps?.delete(seq) !== true) return 'drop';
    if (track.gaps.size === 0) track.gaps = undefined;
    this.missed--;
    this.received++;
    return 'deliver';
  }

  /**
   * `seq` is the sender's newest; the numbers after its last seen one up to `lastMissing` are
   * counted missed (and remembered, the newest {@link MAX_GAP_REMEMBERED}, in case they come late).
   */
  #advance(track: Track, sender: string, seq: number, lastMissing: number): void {
    const last = track.last;
    if (lastMissing > last && sender !== this.self) {
      const gap = lastMissing - last;
      this.missed += gap;
      this.onMissed(gap, sender);
      const remembered = track.gaps ?? new Set<number>();
      for (let n = Math.max(last + 1, lastMissing - MAX_GAP_REMEMBERED + 1); n <= lastMissing; n++)
        remembered.add(n);
      // Oldest first out (a Set iterates in insertion order, here ascending).
      for (const n of remembered) {
        if (remembered.size <= MAX_GAP_REMEMBERED) break;
        remembered.delete(n);
      }
      track.gaps = remembered;
    }
    track.last = seq;
  }
}
