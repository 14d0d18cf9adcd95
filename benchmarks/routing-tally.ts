/**
 * Counts the routing benchmark's deliveries per client and message id, so a
 * duplicate of one message cannot stand in for the loss of another, and a
 * message a client should never get (a room it is not in) shows up apart.
 */

/** What the clients got, against what they should have. */
export interface TallyFigures {
  /** First arrivals of expected messages. */
  readonly delivered: number;
  /** Expected (client, message) pairs that never arrived. */
  readonly lost: number;
  /** Arrivals after the first of the same message at the same client. */
  readonly duplicates: number;
  /** Arrivals of messages the client should not get. */
  readonly strays: number;
}

/** The id in a `news` packet's text: `42["news",{"i":12,...}]`. */
export function packetId(text: string): number | undefined {
  const at = text.indexOf('{"i":');
  if (at < 0) return undefined;
  let id = 0;
  let i = at + 5;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i))
    id = id * 10 + (c - 48);
  return i === at + 5 ? undefined : id;
}

/**
 * One client's expected ids and arrivals; `done` runs once every client has
 * every expected message.
 *
 * @example
 * ```ts
 * const tally = new Tally(messages.length, [plan.expectedIds(['room-0'])], () => finish());
 * client.onEvent = (_name, text) => tally.arrive(0, packetId(text));
 * ```
 */
export class Tally {
  readonly #expected: Uint8Array[];
  readonly #arrived: Uint16Array[];
  #pending = 0;
  #delivered = 0;
  #duplicates = 0;
  #strays = 0;

  constructor(
    messages: number,
    expected: readonly (readonly number[])[],
    private readonly done: () => void,
  ) {
    this.#expected = expected.map((ids) => {
      const mask = new Uint8Array(messages);
      for (const id of ids) mask[id] = 1;
      this.#pending += ids.length;
      return mask;
    });
    this.#arrived = expected.map(() => new Uint16Array(messages));
    if (this.#pending === 0) done();
  }

  /** Client `client` got message `id` (undefined: a packet without one, a stray). */
  arrive(client: number, id: number | undefined): void {
    const arrived = this.#arrived[client];
    const expected = this.#expected[client];
    if (id === undefined || arrived === undefined || expected === undefined || id >= arrived.length)
      return void this.#strays++;
    const seen = arrived[id] ?? 0;
    arrived[id] = Math.min(seen + 1, 0xffff);
    if (expected[id] !== 1) return void this.#strays++;
    if (seen > 0) return void this.#duplicates++;
    this.#delivered++;
    if (--this.#pending === 0) this.done();
  }

  get figures(): TallyFigures {
    return {
      delivered: this.#delivered,
      lost: this.#pending,
      duplicates: this.#duplicates,
      strays: this.#strays,
    };
  }
}
