/**
 * The lifecycle of one Engine.IO connection, declared as data (xstate v5).
 * One definition is shared by every connection; a connection keeps only its
 * state value and context (lifecycle.ts runs the machine for it).
 *
 * ```
 *  handshake --OPENED--> live ───────────────────────────────────────┐
 *                        ├ transport: connected <--UPGRADE / abort-- │
 *                        │            connected --PROBE--> upgrading │
 *                        └ heartbeat: waiting --PING_DUE--> awaitingPong
 *                                     awaitingPong --PONG--> waiting
 *                                     awaitingPong --PONG_TIMEOUT--> closed
 *  any --CLOSE(reason)--> closed (final, reason recorded)
 * ```
 *
 * Timers are declared here and run by the host on its clock: a state's entry
 * action starts its timer, its exit action stops it, and an expired timer comes
 * back as an event (PING_DUE, PONG_TIMEOUT, UPGRADE_TIMEOUT) whose transition
 * says what happens. (xstate's own delayed transitions keep per-system
 * bookkeeping that made every close scan all live actors' timers and cost about
 * 600 bytes per connection.) A virtual clock drives them in tests.
 */
import { assign, setup } from 'xstate';

/**
 * Why a connection closed.
 *
 * @group Engine
 */
export type CloseReason =
  | 'transport close'
  | 'transport error'
  | 'ping timeout'
  | 'parse error'
  | 'forced close'
  | 'server shutdown'
  | 'outbox overflow'
  | 'payload too large'
  | 'overlapping request';

/**
 * The four phases every connection is in exactly one of.
 *
 * @example
 * ```ts
 * PHASES.includes(conn.phase); // always true
 * ```
 *
 * @group Engine
 */
export const PHASES = ['handshake', 'connected', 'upgrading', 'closed'] as const;

/**
 * One of {@link PHASES}.
 *
 * @group Engine
 */
export type Phase = (typeof PHASES)[number];

/** The machine's timers; each one's length is the connection option of the same name. */
export type ConnectionTimer = 'pingInterval' | 'pingTimeout' | 'upgradeTimeout';

/** The event an expired timer sends back to the actor. */
export const TIMER_EVENTS = {
  pingInterval: { type: 'PING_DUE' },
  pingTimeout: { type: 'PONG_TIMEOUT' },
  upgradeTimeout: { type: 'UPGRADE_TIMEOUT' },
} as const satisfies Record<ConnectionTimer, { type: string }>;

/** What the machine asks of the connection that runs it. */
export interface ConnectionHost {
  enterPhase(phase: Phase): void;
  sendPing(): void;
  completeUpgrade(): void;
  abortUpgrade(): void;
  closed(reason: CloseReason): void;
  /** Starts `timer` on the host's clock; when it expires, send its {@link TIMER_EVENTS} event. */
  startTimer(timer: ConnectionTimer): void;
  /** Stops `timer` if it runs. */
  stopTimer(timer: ConnectionTimer): void;
}

/** Input of {@link connectionMachine}. */
export interface ConnectionMachineInput {
  host: ConnectionHost;
}

interface ConnectionMachineContext extends ConnectionMachineInput {
  reason: CloseReason | null;
}

/** Lifecycle events (timer events come from the host's timers); data packets never go through the machine. */
export type ConnectionEvent =
  | { type: 'OPENED' }
  | { type: 'PONG' }
  | { type: 'PROBE' }
  | { type: 'UPGRADE' }
  | { type: 'UPGRADE_FAILED' }
  | { type: 'CLOSE'; reason: CloseReason }
  | (typeof TIMER_EVENTS)[ConnectionTimer];

/**
 * The shared machine definition.
 *
 * @example
 * ```ts
 * const actor = createActor(connectionMachine, { input: { host } });
 * actor.start();
 * actor.send({ type: 'OPENED' });
 * ```
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionMachineContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionMachineInput,
  },
  actions: {
    startTimer: ({ context }, params: { timer: ConnectionTimer }) =>
      context.host.startTimer(params.timer),
    stopTimer: ({ context }, params: { timer: ConnectionTimer }) =>
      context.host.stopTimer(params.timer),
    enter: ({ context }, params: { phase: Phase }) => context.host.enterPhase(params.phase),
    sendPing: ({ context }) => context.host.sendPing(),
    completeUpgrade: ({ context }) => context.host.completeUpgrade(),
    abortUpgrade: ({ context }) => context.host.abortUpgrade(),
    recordReason: assign({
      reason: ({ event }) => (event.type === 'CLOSE' ? event.reason : 'forced close'),
    }),
    recordPingTimeout: assign({ reason: 'ping timeout' as CloseReason }),
    notifyClosed: ({ context }) => context.host.closed(context.reason ?? 'forced close'),
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({ host: input.host, reason: null }),
  initial: 'handshake',
  on: {
    CLOSE: { target: '.closed', actions: 'recordReason' },
  },
  states: {
    handshake: {
      entry: { type: 'enter', params: { phase: 'handshake' } },
      on: { OPENED: 'live' },
    },
    live: {
      type: 'parallel',
      states: {
        transport: {
          initial: 'connected',
          states: {
            connected: {
              entry: { type: 'enter', params: { phase: 'connected' } },
              on: { PROBE: 'upgrading' },
            },
            upgrading: {
              entry: [
                { type: 'enter', params: { phase: 'upgrading' } },
                { type: 'startTimer', params: { timer: 'upgradeTimeout' } },
              ],
              exit: { type: 'stopTimer', params: { timer: 'upgradeTimeout' } },
              on: {
                UPGRADE: { target: 'connected', actions: 'completeUpgrade' },
                UPGRADE_FAILED: { target: 'connected', actions: 'abortUpgrade' },
                UPGRADE_TIMEOUT: { target: 'connected', actions: 'abortUpgrade' },
              },
            },
          },
        },
        heartbeat: {
          initial: 'waiting',
          states: {
            waiting: {
              entry: { type: 'startTimer', params: { timer: 'pingInterval' } },
              exit: { type: 'stopTimer', params: { timer: 'pingInterval' } },
              on: { PING_DUE: { target: 'awaitingPong', actions: 'sendPing' } },
            },
            awaitingPong: {
              entry: { type: 'startTimer', params: { timer: 'pingTimeout' } },
              exit: { type: 'stopTimer', params: { timer: 'pingTimeout' } },
              on: {
                PONG: 'waiting',
                PONG_TIMEOUT: { target: '#connection.closed', actions: 'recordPingTimeout' },
              },
            },
          },
        },
      },
    },
    closed: {
      type: 'final',
      entry: [{ type: 'enter', params: { phase: 'closed' } }, 'notifyClosed'],
    },
  },
});
