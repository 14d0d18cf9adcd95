/**
 * The server processes of a `--processes N` cluster: starts them, knows which
 * ones serve and on which port, restarts one that dies (its lifecycle is
 * member-machine.ts) and says so in the log, once when it dies and once when it
 * is back.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createActor } from 'xstate';
import type { Actor } from 'xstate';
import { FRONT_ENV } from '../engine/cluster-front.js';
import { DEFAULT_BACKOFF, memberMachine } from './member-machine.js';
import type { Backoff, MemberHost, ProcessExit } from './member-machine.js';
import { isWorkerReport } from './worker.js';

/** A process refused to start (a usage mistake such as the status page's rule), in one line. */
export class ProcessRefused extends Error {}

/** How long a process may take to end after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 5000;

/** What the supervisor needs to start the processes. */
export interface SupervisorOptions {
  readonly script: string;
  readonly args: readonly string[];
  readonly processes: number;
  /** Added to each process's environment (besides its index). */
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  readonly backoff?: Backoff;
}

/** A process that serves, and where. */
export interface Target {
  readonly index: number;
  readonly port: number;
}

function describeExit(exit: ProcessExit): string {
  return exit.signal !== null
    ? `was killed by ${exit.signal}`
    : `exited with code ${String(exit.code)}`;
}

/** One process slot: the process running in it now, and the actor of its lifecycle. */
class Member implements MemberHost {
  readonly actor: Actor<typeof memberMachine>;
  #child: ChildProcess | undefined;
  #port = 0;
  /** What the current process said when it refused to start. */
  #refusal: string | undefined;
  #diedAt = 0;
  readonly #ended: Promise<void>;
  #end!: (failure?: Error) => void;

  constructor(
    readonly index: number,
    private readonly supervisor: Supervisor,
    private readonly options: SupervisorOptions,
  ) {
    this.#ended = new Promise<void>((resolve, reject) => {
      this.#end = (failure) => (failure === undefined ? resolve() : reject(failure));
    });
    // Awaited by stop() or start(), not both: a failure must not be unhandled meanwhile.
    this.#ended.catch(() => undefined);
    this.actor = createActor(memberMachine, {
      input: {
        host: this,
        backoff: options.backoff ?? DEFAULT_BACKOFF,
        now: () => performance.now(),
      },
    });
    // Observers run once the new state is in place (the machine's actions run before).
    this.actor.subscribe(() => supervisor.changed());
  }

  /** Where it serves, while it does. */
  get target(): Target | undefined {
    return this.actor.getSnapshot().matches('serving')
      ? { index: this.index, port: this.#port }
      : undefined;
  }

  /** Settles when the slot ends: stopped (resolves) or failed its first start (rejects). */
  get ended(): Promise<void> {
    return this.#ended;
  }

  start(): void {
    this.#refusal = undefined;
    const child = fork(this.options.script, [...this.options.args], {
      env: { ...process.env, ...this.options.env, [FRONT_ENV.index]: String(this.index) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child = child;
    child.on('message', (message) => {
      if (!isWorkerReport(message)) return;
      if (message.type === 'refused') this.#refusal = message.message;
      else {
        this.#port = message.port;
        this.actor.send({ type: 'LISTENING', port: message.port });
      }
    });
    child.once('exit', (code, signal) => {
      this.#diedAt = performance.now();
      this.actor.send({ type: 'EXIT', code, signal });
    });
    child.on('error', () => {
      // A fork that could not spawn (EAGAIN at the process limit, say) never exits: count it
      // as a death so the slot is tried again.
      if (child.pid === undefined) this.actor.send({ type: 'EXIT', code: null, signal: null });
    });
  }

  stop(): void {
    const child = this.#child;
    if (child === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => clearTimeout(timer));
  }

  serving(port: number, restarts: number): void {
    if (restarts > 0) {
      const down = Math.round(performance.now() - this.#diedAt);
      this.options.log(
        `process ${this.index} is back (pid ${String(this.#child?.pid)}, port ${port}), ${down} ms after it died`,
      );
    }
  }

  died(exit: ProcessExit, delayMs: number): void {
    const refusal = this.#refusal === undefined ? '' : ` (${this.#refusal})`;
    this.options.log(
      `process ${this.index} (pid ${String(this.#child?.pid)}) ${describeExit(exit)}${refusal}; new sessions go to the others; restarting it in ${delayMs} ms`,
    );
  }

  failed(exit: ProcessExit): void {
    this.#end(
      this.#refusal !== undefined
        ? new ProcessRefused(this.#refusal)
        : new Error(`process ${this.index} ${describeExit(exit)} before it listened`),
    );
  }

  stopped(): void {
    this.#end();
  }
}

/**
 * Starts the processes and keeps them running.
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor({ script, args, processes: 3, env: {}, log: console.log });
 * await supervisor.start();
 * supervisor.next(new Set())?.port; // where a new session may go
 * ```
 */
export class Supervisor {
  readonly #members: Member[];
  #next = 0;
  readonly #waiters = new Set<() => void>();

  constructor(options: SupervisorOptions) {
    this.#members = Array.from(
      { length: options.processes },
      (_, index) => new Member(index, this, options),
    );
  }

  /**
   * Starts every process; resolves once each listens. When one ends before it listened,
   * stops the others and rejects ({@link ProcessRefused} when it said why).
   */
  async start(): Promise<void> {
    for (const member of this.#members) member.actor.start();
    const listening = (async () => {
      while (!this.#members.every((m) => m.target !== undefined)) await this.whenChanged();
    })();
    try {
      await Promise.race([listening, ...this.#members.map((m) => m.ended)]);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** The process `index`, if it serves now. */
  target(index: number): Target | undefined {
    return this.#members[index]?.target;
  }

  /** The next serving process in turn whose port is not in `skip`. */
  next(skip: ReadonlySet<number>): Target | undefined {
    const count = this.#members.length;
    for (let i = 0; i < count; i++) {
      const target = this.#members[(this.#next + i) % count]?.target;
      if (target !== undefined && !skip.has(target.port)) {
        this.#next = (this.#next + i + 1) % count;
        return target;
      }
    }
    return undefined;
  }

  /**
   * Resolves true when a process changes state (starts serving, say) within `ms`
   * (undefined: however long it takes), false otherwise.
   */
  whenChanged(ms?: number): Promise<boolean> {
    return new Promise((resolve) => {
      const changed = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer =
        ms === undefined
          ? undefined
          : setTimeout(() => {
              this.#waiters.delete(changed);
              resolve(false);
            }, ms);
      this.#waiters.add(changed);
    });
  }

  /** Called when a member's state changed. */
  changed(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }

  /** Stops every process and every pending restart; restarts none. */
  async stop(): Promise<void> {
    for (const member of this.#members)
      if (member.actor.getSnapshot().status === 'active') member.actor.send({ type: 'STOP' });
    await Promise.allSettled(this.#members.map((m) => m.ended));
  }
}
