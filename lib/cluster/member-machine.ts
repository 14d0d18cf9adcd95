/**
 * The lifecycle of one server process of a `--processes N` cluster, declared as
 * data (xstate v5). The front routes new sessions to a process only while it is
 * `serving`; a process that dies is started again (same index, so its session-id
 * prefix `p<i>.` keeps meaning it) after a back-off that doubles while it keeps
 * dying and starts over once it stayed up a while.
 *
 * ```
 *  starting --LISTENING--> serving --EXIT--> down --(back-off)--> starting
 *     │ EXIT, never served                        ▲                  │ EXIT
 *     ▼                                           └──────────────────┘
 *   failed (the cluster does not start)
 *  starting | serving --STOP--> stopping --EXIT--> stopped;  down --STOP--> stopped
 * ```
 */
import { assign, setup } from 'xstate';

/** How the back-off grows. */
export interface Backoff {
  /** The delay before the first restart, in ms. */
  readonly firstMs: number;
  /** The longest delay, in ms. */
  readonly maxMs: number;
  /** A process that served this long before it died is restarted after `firstMs` again. */
  readonly stableMs: number;
}

/**
 * The back-off of `socketio-actors run --processes`: 100 ms doubling to 30 s, back to
 * 100 ms for a process that served 30 s.
 *
 * @example
 * ```ts
 * restartDelay(DEFAULT_BACKOFF, 3); // 800
 * ```
 */
export const DEFAULT_BACKOFF: Backoff = { firstMs: 100, maxMs: 30_000, stableMs: 30_000 };

/**
 * The delay before a restart after `deaths` deaths in a row (1 for the first).
 *
 * @example
 * ```ts
 * restartDelay(DEFAULT_BACKOFF, 1); // 100
 * ```
 */
export function restartDelay(backoff: Backoff, deaths: number): number {
  return Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.max(0, Math.min(deaths - 1, 30)));
}

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What the machine asks of the member that runs it. */
export interface MemberHost {
  /** Starts a new process. */
  start(): void;
  /** Asks the current process to stop (SIGTERM). */
  stop(): void;
  /** The process listens on `port`: new sessions may go to it. */
  serving(port: number, restarts: number): void;
  /** The process died; it is started again after `delayMs`. */
  died(exit: ProcessExit, delayMs: number): void;
  /** The process died before it ever served: the cluster cannot start. */
  failed(exit: ProcessExit): void;
  /** Stopped on request; nothing more happens. */
  stopped(): void;
}

/** Input of {@link memberMachine}. */
export interface MemberMachineInput {
  readonly host: MemberHost;
  readonly backoff: Backoff;
  /** The clock's now(), in ms. */
  readonly now: () => number;
}

interface MemberContext extends MemberMachineInput {
  /** Times it reached `serving`. */
  served: number;
  /** Deaths since it last served `stableMs`. */
  deaths: number;
  /** When it last reached `serving`. */
  servingSince: number;
  delayMs: number;
}

/** What happens to a member. */
export type MemberEvent =
  { type: 'LISTENING'; port: number } | ({ type: 'EXIT' } & ProcessExit) | { type: 'STOP' };

/**
 * The shared machine definition.
 *
 * @example
 * ```ts
 * const actor = createActor(memberMachine, { input: { host, backoff: DEFAULT_BACKOFF, now: Date.now } });
 * actor.start(); // starting: host.start() forks the process
 * actor.send({ type: 'LISTENING', port: 40123 });
 * ```
 */
export const memberMachine = setup({
  types: {
    context: {} as MemberContext,
    events: {} as MemberEvent,
    input: {} as MemberMachineInput,
  },
  delays: {
    backoff: ({ context }) => context.delayMs,
  },
  guards: {
    neverServed: ({ context }) => context.served === 0,
  },
  actions: {
    start: ({ context }) => context.host.start(),
    stop: ({ context }) => context.host.stop(),
    serve: assign({
      served: ({ context }) => context.served + 1,
      servingSince: ({ context }) => context.now(),
    }),
    announce: ({ context, event }) => {
      if (event.type === 'LISTENING') context.host.serving(event.port, context.served - 1);
    },
    countDeath: assign(({ context }, params: { whileServing: boolean }) => {
      // Only a process that died while serving can have been up a while: one that dies
      // while starting is still in the same run of deaths.
      const stable =
        params.whileServing && context.now() - context.servingSince >= context.backoff.stableMs;
      const deaths = (stable ? 0 : context.deaths) + 1;
      return { deaths, delayMs: restartDelay(context.backoff, deaths) };
    }),
    reportDeath: ({ context, event }) => {
      if (event.type === 'EXIT') context.host.died(event, context.delayMs);
    },
    reportFailure: ({ context, event }) => {
      if (event.type === 'EXIT') context.host.failed(event);
    },
    reportStopped: ({ context }) => context.host.stopped(),
  },
}).createMachine({
  id: 'member',
  context: ({ input }) => ({ ...input, served: 0, deaths: 0, servingSince: 0, delayMs: 0 }),
  initial: 'starting',
  states: {
    starting: {
      entry: 'start',
      on: {
        LISTENING: { target: 'serving', actions: ['serve', 'announce'] },
        EXIT: [
          { guard: 'neverServed', target: 'failed' },
          {
            target: 'down',
            actions: [{ type: 'countDeath', params: { whileServing: false } }, 'reportDeath'],
          },
        ],
        STOP: 'stopping',
      },
    },
    serving: {
      on: {
        EXIT: {
          target: 'down',
          actions: [{ type: 'countDeath', params: { whileServing: true } }, 'reportDeath'],
        },
        STOP: 'stopping',
      },
    },
    down: {
      after: { backoff: 'starting' },
      on: { STOP: 'stopped' },
    },
    stopping: {
      entry: 'stop',
      on: { EXIT: 'stopped' },
    },
    failed: {
      type: 'final',
      entry: 'reportFailure',
    },
    stopped: {
      type: 'final',
      entry: 'reportStopped',
    },
  },
});
