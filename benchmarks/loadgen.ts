/**
 * The orchestrator's side of the load generators: forks them, splits clients
 * between them, sends jobs, and adds up their answers.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TallyFigures } from './delivery-tally.js';
import type { ClientKind, LoadJob, LoadReply } from './load-jobs.js';

type Reply<T extends LoadReply['type']> = Extract<LoadReply, { type: T }>;

/** One forked load generator and the answers it still owes. */
class Generator {
  readonly #waiting: ((reply: LoadReply) => void)[] = [];

  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: LoadReply) => this.#waiting.shift()?.(reply));
    child.on('exit', (code) => {
      for (const waiter of this.#waiting.splice(0))
        waiter({ type: 'failed', error: `load generator exited (code ${String(code)})` });
    });
  }

  send<T extends LoadReply['type']>(job: LoadJob, expect: T): Promise<Reply<T>> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error('load generator is gone'));
        return;
      }
      this.#waiting.push((reply) => {
        if (reply.type === expect) resolve(reply as Reply<T>);
        else if (reply.type === 'failed') reject(new Error(reply.error));
        else reject(new Error(`expected ${expect}, got ${reply.type}`));
      });
      this.child.send(job);
    });
  }
}

/** Summed CPU of the generators over a phase, as cores (1.0 = one core busy). */
export function coresUsed(replies: readonly { cpuMs: number; wallMs: number }[]): number {
  const wall = Math.max(...replies.map((r) => r.wallMs));
  return replies.reduce((sum, r) => sum + r.cpuMs, 0) / wall;
}

type Deliveries = Extract<LoadReply, { type: 'deliveries' }>;

/** The generators' tallies of one window of broadcast ids, added up. */
export interface DeliveryTotals extends TallyFigures {
  /** Expected (client, id) pairs. */
  readonly expected: number;
  /** Absolute time (ms) of the last first arrival of an expected id, over all generators. */
  readonly lastAt: number;
}

/**
 * Adds up the generators' tallies of one window of broadcast ids.
 *
 * @example
 * ```ts
 * const totals = deliveryTotals(await load.awaitDeliveries(3000));
 * ```
 */
export function deliveryTotals(replies: readonly Deliveries[]): DeliveryTotals {
  const sum = (key: 'expected' | 'delivered' | 'lost' | 'duplicates' | 'strays'): number =>
    replies.reduce((total, r) => total + r[key], 0);
  return {
    expected: sum('expected'),
    delivered: sum('delivered'),
    lost: sum('lost'),
    duplicates: sum('duplicates'),
    strays: sum('strays'),
    lastAt: Math.max(...replies.map((r) => r.lastAt)),
  };
}

/** What went wrong in a window of deliveries, for a scenario's notes. */
export function deliveryNotes(totals: DeliveryTotals, prefix = ''): string[] {
  return [
    ...(totals.lost > 0
      ? [`${prefix}${totals.lost} of ${totals.expected} (client, broadcast id) pairs lost`]
      : []),
    ...(totals.duplicates > 0 ? [`${prefix}${totals.duplicates} duplicate deliveries`] : []),
  ];
}

/**
 * A set of load-generator processes driven as one.
 *
 * @example
 * ```ts
 * const load = await LoadGenerators.start(2);
 * await load.connect('sio-ws', port, 50);
 * const replies = await load.ack({ event: 'echo', data: 1, inFlight: 1, seconds: 3 });
 * await load.close();
 * load.exit();
 * ```
 */
export class LoadGenerators {
  /** Source addresses handed out so far (clients connected with `spreadSources`). */
  #sourcesUsed = 0;

  private constructor(private readonly generators: readonly Generator[]) {}

  /** Forks `count` generator processes. */
  static start(count: number): LoadGenerators {
    const script = fileURLToPath(new URL('./loadgen-process.js', import.meta.url));
    return new LoadGenerators(
      Array.from(
        { length: count },
        () => new Generator(fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })),
      ),
    );
  }

  get size(): number {
    return this.generators.length;
  }

  /** Process ids of the generators. */
  get pids(): number[] {
    return this.generators.map((g) => g.child.pid ?? -1);
  }

  /**
   * Opens `count` clients split evenly between the generators, each in
   * batches of `batch / size` (so about `batch` connect at once overall).
   * `spreadSources` binds them to source addresses across 127.0.0.0/8
   * (`sourceAddress`); `limits` stops each generator starting batches past an
   * absolute time or a number of failures. Throws when any client failed,
   * unless `partial` (then the replies say how far each got).
   */
  async connect(
    kind: ClientKind,
    port: number,
    count: number,
    options: {
      batch?: number;
      path?: string;
      timeEach?: boolean;
      spreadSources?: boolean;
      limits?: Extract<LoadJob, { type: 'connect' }>['limits'];
      partial?: boolean;
    } = {},
  ): Promise<Reply<'connected'>[]> {
    const n = this.generators.length;
    const batch = Math.max(1, Math.round((options.batch ?? 50) / n));
    const shares = this.generators.map((_, i) => Math.floor(count / n) + (i < count % n ? 1 : 0));
    const replies = await Promise.all(
      this.generators.map((g, i) =>
        g.send(
          {
            type: 'connect',
            kind,
            port,
            path: options.path ?? '/',
            count: shares[i] ?? 0,
            batch,
            timeEach: options.timeEach ?? false,
            // Each generator's clients get addresses of their own: it starts where the previous one's end.
            sourceIndex: options.spreadSources
              ? this.#sourcesUsed + shares.slice(0, i).reduce((sum, s) => sum + s, 0)
              : null,
            limits: options.limits ?? null,
          },
          'connected',
        ),
      ),
    );
    if (options.spreadSources) this.#sourcesUsed += count;
    const failed = replies.reduce((sum, r) => sum + r.failed, 0);
    if (failed > 0 && options.partial !== true)
      throw new Error(
        `${failed} of ${count} clients failed to connect: ${replies.find((r) => r.firstError)?.firstError ?? '?'}`,
      );
    return replies;
  }

  /** Runs an acked-message window on every generator at once. */
  ack(job: Omit<Extract<LoadJob, { type: 'ack' }>, 'type'>): Promise<Reply<'acked'>[]> {
    return Promise.all(this.generators.map((g) => g.send({ type: 'ack', ...job }, 'acked')));
  }

  /**
   * Has the first `senders` clients of the first generator send `count` events
   * `{ i: firstId + k, text }` between them (ids in turn), after every generator starts
   * counting those ids.
   */
  async emit(
    event: string,
    text: string,
    firstId: number,
    count: number,
    senders = 1,
  ): Promise<Reply<'emitted'>> {
    const first = this.generators[0];
    if (first === undefined) throw new Error('no load generator');
    await Promise.all(
      this.generators.map((g) => g.send({ type: 'expect', firstId, count }, 'expecting')),
    );
    return first.send({ type: 'emit', event, text, firstId, count, senders }, 'emitted');
  }

  /**
   * Waits until every client got every id emitted last, or deliveries stall for `idleMs`
   * (for `firstMs` before the first one).
   */
  awaitDeliveries(idleMs: number, firstMs = idleMs): Promise<Reply<'deliveries'>[]> {
    return Promise.all(
      this.generators.map((g) =>
        g.send({ type: 'await-deliveries', idleMs, firstMs }, 'deliveries'),
      ),
    );
  }

  /** Every generator's ping gaps over the next `seconds` (ms, one per ping). */
  async pingGaps(seconds: number): Promise<number[]> {
    const replies = await Promise.all(
      this.generators.map((g) => g.send({ type: 'ping-gaps', seconds }, 'ping-gaps')),
    );
    return replies.flatMap((r) => r.gaps);
  }

  /** Closes every client. */
  async close(): Promise<void> {
    await Promise.all(this.generators.map((g) => g.send({ type: 'close' }, 'closed')));
    this.#sourcesUsed = 0;
  }

  /** Ends the generator processes. */
  exit(): void {
    for (const g of this.generators) g.child.disconnect();
  }
}
