/**
 * The lifecycle of one Engine.IO connection, declared as data (xstate v5).
 * One definition is shared by every connection; a connection's own memory is
 * its context and the actor runtime.
 *
 * ```
 *  handshake --OPENED--> live ───────────────────────────────────────┐
 *                        ├ transport: connected <--UPGRADE / abort-- │
 *                        │            connected --PROBE--> upgrading │
 *                        └ heartbeat: waiting --pingInterval--> awaitingPong
 *                                     awaitingPong --PONG--> waiting
 *                                     awaitingPong --pingTimeout--> closed
 *  any --CLOSE(reason)--> closed (final, reason recorded)
 * ```
 *
 * Timers are delayed transitions on the clock passed to `createActor`, so a
 * virtual clock drives them in tests.
 */
import { assign, setup } from 'xstate';

/** Why a connection closed. */
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
 */
export const PHASES = ['handshake', 'connected', 'upgrading', 'closed'] as const;

/** One of {@link PHASES}. */
export type Phase = (typeof PHASES)[number];

/** What the machine asks of the connection that runs it. */
export interface ConnectionHost {
  enterPhase(phase: Phase): void;
  sendPing(): void;
  completeUpgrade(): void;
  abortUpgrade(): void;
  closed(reason: CloseReason): void;
}

/** Input of {@link connectionMachine}: the host and its timings in milliseconds. */
export interface ConnectionMachineInput {
  host: ConnectionHost;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  upgradeTimeoutMs: number;
}

interface ConnectionMachineContext extends ConnectionMachineInput {
  reason: CloseReason | null;
}

/** Lifecycle events; data packets never go through the machine. */
export type ConnectionEvent =
  | { type: 'OPENED' }
  | { type: 'PONG' }
  | { type: 'PROBE' }
  | { type: 'UPGRADE' }
  | { type: 'UPGRADE_FAILED' }
  | { type: 'CLOSE'; reason: CloseReason };

/**
 * The shared machine definition.
 *
 * @example
 * ```ts
 * const actor = createActor(connectionMachine, { input: { host, pingIntervalMs: 25000, pingTimeoutMs: 20000, upgradeTimeoutMs: 10000 }, clock });
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
  delays: {
    pingInterval: ({ context }) => context.pingIntervalMs,
    pingTimeout: ({ context }) => context.pingTimeoutMs,
    upgradeTimeout: ({ context }) => context.upgradeTimeoutMs,
  },
  actions: {
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
  context: ({ input }) => ({ ...input, reason: null }),
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
              entry: { type: 'enter', params: { phase: 'upgrading' } },
              on: {
                UPGRADE: { target: 'connected', actions: 'completeUpgrade' },
                UPGRADE_FAILED: { target: 'connected', actions: 'abortUpgrade' },
              },
              after: { upgradeTimeout: { target: 'connected', actions: 'abortUpgrade' } },
            },
          },
        },
        heartbeat: {
          initial: 'waiting',
          states: {
            waiting: {
              after: { pingInterval: { target: 'awaitingPong', actions: 'sendPing' } },
            },
            awaitingPong: {
              on: { PONG: 'waiting' },
              after: {
                pingTimeout: { target: '#connection.closed', actions: 'recordPingTimeout' },
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
