/**
 * Runs one connection's lifecycle machine (connection-machine.ts) as an actor: the
 * connection's own snapshot, a mailbox that takes one event at a time, and xstate's
 * own transition function to compute each step, whose actions run as they are
 * resolved, in the order the machine declares them.
 *
 * Why not an xstate `Actor` per connection: the `Actor` object, its mailbox, observers,
 * listeners and bound callbacks cost about 2 KB per connection and a few tens of
 * microseconds per handshake, and a connection uses none of what they offer (no
 * subscribers, no children, no inspection). The machine is the same definition either
 * way; the snapshots and the order of actions are xstate's.
 *
 * ```
 *  send(e) ──> mailbox ──> machine.transition(snapshot, e, scope) ──> actions run
 *                          (the snapshot rebuilt from the kept state value and context)
 *                 ^                                                      │
 *                 └──────── an event an action sends waits here ─────────┘
 * ```
 */
import { createActor } from 'xstate';
import type { ActorScope, SnapshotFrom, StateValue } from 'xstate';
import { connectionMachine } from './connection-machine.js';
import type { ConnectionEvent, ConnectionHost } from './connection-machine.js';

type ConnectionSnapshot = SnapshotFrom<typeof connectionMachine>;

/** A host that does nothing, for the scope's own actor (which is never started). */
const NOBODY: ConnectionHost = {
  enterPhase: () => undefined,
  sendPing: () => undefined,
  completeUpgrade: () => undefined,
  abortUpgrade: () => undefined,
  closed: () => undefined,
  startTimer: () => undefined,
  stopTimer: () => undefined,
};

/**
 * The scope every lifecycle shares: actions run as the machine resolves them. The
 * machine spawns no children, sends to no other actor and emits nothing, so those
 * hooks have nothing to do, and nothing is deferred (xstate defers only the work of
 * those built-in actions).
 */
const SCOPE: ActorScope<ConnectionSnapshot, ConnectionEvent> = (() => {
  // `self` and `system` must exist; an actor of the machine that never starts runs nothing.
  const root = createActor(connectionMachine, { input: { host: NOBODY } });
  return {
    self: root,
    id: 'connection',
    sessionId: root.sessionId,
    system: root.system,
    logger: () => undefined,
    defer: (fn) => fn(),
    emit: () => undefined,
    stopChild: () => undefined,
    actionExecutor: (action) => action.exec?.(action.info, action.params),
  };
})();

/**
 * One connection's lifecycle: start it once, then send it events. An event sent while
 * an earlier one is being processed (by one of its actions) is processed after it, as
 * an xstate actor's mailbox would; events sent after the final state are ignored.
 *
 * @example
 * ```ts
 * const lifecycle = new Lifecycle(host);
 * lifecycle.start(); // host.enterPhase('handshake')
 * lifecycle.send({ type: 'OPENED' }); // host.enterPhase('connected'), host.startTimer('pingInterval')
 * ```
 */
export class Lifecycle {
  /** The state value (one shared object per distinct value); undefined before start. */
  #value: StateValue | undefined;
  #context: ConnectionSnapshot['context'] | undefined;
  #done = false;
  /** Events waiting for the one in progress; null when none is. */
  #mailbox: ConnectionEvent[] | null = null;

  constructor(private readonly host: ConnectionHost) {}

  /** The machine's current state value (undefined before {@link start}). */
  get value(): StateValue | undefined {
    return this.#value;
  }

  /** Whether the machine reached its final state. */
  get done(): boolean {
    return this.#done;
  }

  /** Enters the initial state, running its entry actions. */
  start(): void {
    if (this.#value !== undefined) return;
    this.#step(() => connectionMachine.getInitialSnapshot(SCOPE, { host: this.host }));
  }

  /** Processes `event` (after any in progress), running the actions of its transition. */
  send(event: ConnectionEvent): void {
    if (this.#mailbox !== null) {
      this.#mailbox.push(event);
      return;
    }
    this.#step(() => this.#next(event));
  }

  #next(event: ConnectionEvent): ConnectionSnapshot | undefined {
    const value = this.#value;
    if (value === undefined || this.#done) return undefined;
    // The snapshot is rebuilt from what is kept: lifecycle events are rare (a handshake,
    // two per heartbeat, a close), and a whole snapshot kept per connection is ~650 bytes.
    const snapshot = connectionMachine.resolveState({ value, context: this.#context });
    return connectionMachine.transition(snapshot, event, SCOPE);
  }

  #keep(snapshot: ConnectionSnapshot | undefined): void {
    if (snapshot === undefined) return;
    this.#value = shared(snapshot.value);
    this.#context = snapshot.context;
    this.#done = snapshot.status === 'done';
  }

  /** Runs one step, then the events its actions sent meanwhile, in the order sent. */
  #step(first: () => ConnectionSnapshot | undefined): void {
    const mailbox: ConnectionEvent[] = [];
    this.#mailbox = mailbox;
    try {
      this.#keep(first());
      for (let event = mailbox.shift(); event !== undefined; event = mailbox.shift())
        this.#keep(this.#next(event));
    } finally {
      this.#mailbox = null;
    }
  }
}

/** One object per distinct state value (a handful), shared by every connection in it. */
const VALUES = new Map<string, StateValue>();

function shared(value: StateValue): StateValue {
  const key = JSON.stringify(value);
  const known = VALUES.get(key);
  if (known !== undefined) return known;
  VALUES.set(key, value);
  return value;
}
