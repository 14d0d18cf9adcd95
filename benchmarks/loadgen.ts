/**
 * The orchestrator's side of the load generators: forks them, splits clients
 * between them, sends jobs, and adds up their answers.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
   */
  async connect(
    kind: ClientKind,
    port: number,
    count: number,
    options: { batch?: number; path?: string; timeEach?: boolean } = {},
  ): Promise<Reply<'connected'>[]> {
    const n = this.generators.length;
    const batch = Math.max(1, Math.round((options.batch ?? 50) / n));
    const replies = await Promise.all(
      this.generators.map((g, i) =>
        g.send(
          {
            type: 'connect',
            kind,
            port,
            path: options.path ?? '/',
            count: Math.floor(count / n) + (i < count % n ? 1 : 0),
            batch,
            timeEach: options.timeEach ?? false,
          },
          'connected',
        ),
      ),
    );
    const failed = replies.reduce((sum, r) => sum + r.failed, 0);
    if (failed > 0)
      throw new Error(
        `${failed} of ${count} clients failed to connect: ${replies.find((r) => r.firstError)?.firstError ?? '?'}`,
      );
    return replies;
  }

  /** Runs an acked-message window on every generator at once. */
  ack(job: Omit<Extract<LoadJob, { type: 'ack' }>, 'type'>): Promise<Reply<'acked'>[]> {
    return Promise.all(this.generators.map((g) => g.send({ type: 'ack', ...job }, 'acked')));
  }

  /** Has the first client of the first generator send `times` events. */
  emit(event: string, data: unknown, times: number): Promise<Reply<'emitted'>> {
    const first = this.generators[0];
    if (first === undefined) throw new Error('no load generator');
    return first.send({ type: 'emit', event, data, times }, 'emitted');
  }

  /**
   * Waits until every client got `perClient` events, or none arrives for `idleMs` (for
   * `firstMs` before the first one).
   */
  awaitEvents(perClient: number, idleMs: number, firstMs = idleMs): Promise<Reply<'events'>[]> {
    return Promise.all(
      this.generators.map((g) =>
        g.send({ type: 'await-events', perClient, idleMs, firstMs }, 'events'),
      ),
    );
  }

  /** Closes every client. */
  async close(): Promise<void> {
    await Promise.all(this.generators.map((g) => g.send({ type: 'close' }, 'closed')));
  }

  /** Ends the generator processes. */
  exit(): void {
    for (const g of this.generators) g.child.disconnect();
  }
}
