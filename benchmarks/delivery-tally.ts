/**
 * Counts deliveries per client and message id (the routing, fan-out, queue and
 * scale benchmarks), so a duplicate of one message cannot stand in for the loss
 * of another, and a message a client should never get (a room it is not in, a
 * warm-up broadcast arriving late) shows up apart.
 */
import { readId, readIdBytes } from './load-client.js';

/** Where a benchmark message's id starts: every payload they send begins `{"i":<id>,…}`. */
const ID_MARK = '{"i":';

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

/**
 * The id in an event packet, as text or as the frame's bytes (no string is made
 * for a frame only counted): `42["news",{"i":12,...}]` gives 12.
 *
 * @example
 * ```ts
 * packetId('42["news",{"i":12,"text":"x"}]'); // 12
 * ```
 */
export function packetId(packet: string | Buffer): number | undefined {
  const at = packet.indexOf(ID_MARK);
  if (at < 0) return undefined;
  const from = at + ID_MARK.length;
  const id = typeof packet === 'string' ? readId(packet, from) : readIdBytes(packet, from);
  return id < 0 ? undefined : id;
}

/**
 * Each client's expected ids and arrivals; `done` runs once every client has
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

  /**
   * Client `client` got message `id` (undefined: a packet without one, a stray);
   * true when it is the first arrival of a message the client expects.
   */
  arrive(client: number, id: number | undefined): boolean {
    const arrived = this.#arrived[client];
    const expected = this.#expected[client];
    if (
      id === undefined ||
      arrived === undefined ||
      expected === undefined ||
      id >= arrived.length
    ) {
      this.#strays++;
      return false;
    }
    const seen = arrived[id] ?? 0;
    arrived[id] = Math.min(seen + 1, 0xffff);
    if (expected[id] !== 1) {
      this.#strays++;
      return false;
    }
    if (seen > 0) {
      this.#duplicates++;
      return false;
    }
    this.#delivered++;
    if (--this.#pending === 0) this.done();
    return true;
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
