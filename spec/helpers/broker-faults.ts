/**
 * Helpers for the broker fault specs: two server processes on one channel, a
 * client of each, and ticks published by each server and counted at the other
 * server's client, so that a spec can check, for every tick sent, that it was
 * received there or counted as lost (by the publisher: `lost`; by the
 * receiver: `missed`), exactly.
 */
import { expect } from 'chai';
import { delay } from './raw-engine.js';
import { ServerProcess, eventually, openPeer, received, uniqueChannel } from './queues.js';
import type { LogLine, ServerSetup, Stats } from './queues.js';
import { within } from './socketio.js';
import type { SioPeer } from './socketio.js';

/** Ticks of server i are numbers from i * TICK_SPAN up. */
const TICK_SPAN = 1_000_000;

/** The `tick` numbers a peer received, in arrival order. */
export const ticks = (peer: SioPeer): number[] => received(peer, 'tick').map(([n]) => n as number);

/** The ticks one server publishes with `io.emit('tick', n)`, n counting up from its base. */
export class Ticker {
  /** Every tick the server accepted, in order. */
  readonly sent: number[] = [];
  #next: number;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(
    readonly server: ServerProcess,
    readonly base: number,
  ) {
    this.#next = base;
  }

  /** Whether `n` is one of this ticker's numbers. */
  owns(n: number): boolean {
    return n >= this.base && n < this.base + TICK_SPAN;
  }

  /** Emits the next tick; resolves its number once the server took the request. */
  async tick(): Promise<number> {
    const n = this.#next++;
    await this.server.emit('tick', [n]);
    this.sent.push(n);
    return n;
  }

  /** Emits `count` ticks one after the other. */
  async burst(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.tick();
  }

  /** Emits a tick every `everyMs` until {@link stop}. */
  start(everyMs = 20): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        await this.tick();
        await delay(everyMs);
      }
    })();
    // Handled here so that a tick failing before stop() is awaited is not an unhandled
    // rejection; stop() still rejects with it.
    this.#loop.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

/** What became of the ticks one server sent, as seen at the other server's client. */
export interface Tally {
  readonly sent: number;
  /** Distinct ticks that arrived. */
  readonly received: number;
  /** Arrivals beyond the first of a tick. */
  readonly duplicates: number;
  /** Counted by the publisher (`lost`). */
  readonly lost: number;
  /** Counted by the receiving server (`missed`). */
  readonly missed: number;
}

/** Two server processes on one channel, a client of each, and a ticker in each. */
export class Pair {
  readonly peers: SioPeer[] = [];
  readonly tickers: readonly [Ticker, Ticker];

  private constructor(
    readonly servers: readonly [ServerProcess, ServerProcess],
    readonly channel: string,
  ) {
    this.tickers = [new Ticker(servers[0], 0), new Ticker(servers[1], TICK_SPAN)];
  }

  static async fork(url: string, label: string, setup: ServerSetup = {}): Promise<Pair> {
    const channel = uniqueChannel(label);
    const servers = await Promise.all(
      [0, 1].map((i) => ServerProcess.fork(i, url, channel, setup)),
    );
    return new Pair(servers as [ServerProcess, ServerProcess], channel);
  }

  /** Connects one client to each server; resolves [client of 0, client of 1]. */
  async connect(): Promise<[SioPeer, SioPeer]> {
    const peers = this.servers.map((s) => openPeer(s.port));
    this.peers.push(...peers);
    await Promise.all(peers.map((p, i) => within(p.opened, `a client of server ${i}`, 5000)));
    return peers as [SioPeer, SioPeer];
  }

  async kill(): Promise<void> {
    // A spec that failed midway leaves its tickers running; their errors no longer matter.
    await Promise.allSettled(this.tickers.map((t) => t.stop()));
    for (const p of this.peers) p.socket.disconnect();
    await Promise.all(this.servers.map((s) => s.kill()));
  }

  expectAlive(): void {
    for (const s of this.servers)
      expect(s.alive, `server ${s.index} is alive (${s.exitReason ?? 'running'})`).to.equal(true);
  }

  async stats(): Promise<[Stats, Stats]> {
    return Promise.all([this.servers[0].stats(), this.servers[1].stats()]);
  }

  /** The ticks server `from` sent, as the client of the other server saw them. */
  async tally(from: 0 | 1): Promise<Tally> {
    const to = from === 0 ? 1 : 0;
    const ticker = this.tickers[from];
    const arrived = ticks(this.#peer(to)).filter((n) => ticker.owns(n));
    const distinct = new Set(arrived);
    const stats = await this.stats();
    return {
      sent: ticker.sent.length,
      received: distinct.size,
      duplicates: arrived.length - distinct.size,
      lost: stats[from].lost,
      missed: stats[to].missed,
    };
  }

  #peer(i: 0 | 1): SioPeer {
    const peer = this.peers[i];
    if (peer === undefined) throw new Error(`no client of server ${i}`);
    return peer;
  }

  /**
   * Waits (10 s at most) until, both ways, every tick sent was received or counted, then a
   * quiet half second; checks it then holds exactly (nothing received twice, nothing both
   * received and counted) and resolves the tallies.
   */
  async expectReconciled(): Promise<[Tally, Tally]> {
    const balanced = (t: Tally): boolean => t.received + t.lost + t.missed === t.sent;
    await eventually(
      async () => balanced(await this.tally(0)) && balanced(await this.tally(1)),
      10_000,
      100,
    );
    await delay(500);
    const tallies: [Tally, Tally] = [await this.tally(0), await this.tally(1)];
    for (const [i, t] of tallies.entries()) {
      const what = `server ${i}'s ticks: ${JSON.stringify(t)}`;
      expect(t.duplicates, what).to.equal(0);
      expect(t.received + t.lost + t.missed, `sent = received + lost + missed; ${what}`).to.equal(
        t.sent,
      );
    }
    return tallies;
  }

  /**
   * The end of a fault that must lose nothing: the tickers stop, delivery resumes both ways,
   * every tick sent was received (exactly) and reached its own client. Resolves the tallies.
   */
  async expectNothingLost(): Promise<[Tally, Tally]> {
    await Promise.all(this.tickers.map((t) => t.stop()));
    await this.expectResumed();
    const tallies = await this.expectReconciled();
    for (const t of tallies) expect(t.received, JSON.stringify(t)).to.equal(t.sent);
    this.expectLocalDelivery();
    return tallies;
  }

  /** Every tick a server sent reached its own client, in order. */
  expectLocalDelivery(): void {
    for (const [i, ticker] of this.tickers.entries()) {
      const local = ticks(this.#peer(i as 0 | 1)).filter((n) => ticker.owns(n));
      expect(local, `server ${i}'s ticks at its own client`).to.deep.equal(ticker.sent);
    }
  }

  /** Both ways, a tick sent now reaches the other server's client (15 s at most each). */
  async expectResumed(): Promise<void> {
    for (const from of [0, 1] as const) {
      const peer = this.#peer(from === 0 ? 1 : 0);
      const ticker = this.tickers[from];
      const resumed = await eventually(
        async () => {
          const n = await ticker.tick();
          return eventually(() => ticks(peer).includes(n), 1000);
        },
        15_000,
        0,
      );
      expect(resumed, `server ${from} → client of server ${from === 0 ? 1 : 0}`).to.equal(true);
    }
  }

  /** Whether both servers are connected again, each after `reconnects` reconnections (10 s at most). */
  reconnected(reconnects: number): Promise<boolean> {
    return eventually(
      async () => (await this.stats()).every((s) => s.connected && s.reconnects >= reconnects),
      10_000,
      50,
    );
  }
}

/** A server's log lines at one level, as text. */
export function logged(server: ServerProcess, level: string): string[] {
  return server.logs.filter((l: LogLine) => l.level === level).map((l) => l.text);
}

/** Expects a server to have logged, at warn, a line matching each pattern, and no error. */
export function expectWarned(server: ServerProcess, ...patterns: RegExp[]): void {
  const warnings = logged(server, 'warn');
  for (const pattern of patterns)
    expect(
      warnings.some((w) => pattern.test(w)),
      `server ${server.index} warned ${String(pattern)}; it warned:\n${warnings.join('\n')}`,
    ).to.equal(true);
  expect(logged(server, 'error'), `server ${server.index}'s errors`).to.deep.equal([]);
}
