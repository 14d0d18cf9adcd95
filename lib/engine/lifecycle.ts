/**
 * Runs one connection's lifecycle machine (connection-machine.ts) as an actor: the
 * connection's own state (the machine's state value and context), a mailbox that takes
 * one event at a time, and xstate's own transition function to compute each step, whose
 * actions run in the order the machine declares them.
 *
 * Why not an xstate `Actor` per connection: the `Actor` object, its mailbox, observers,
 * listeners, bound callbacks and snapshot cost about 2.5 KB per connection and tens of
 * microseconds per handshake, and a connection uses none of what they offer (no
 * subscribers, no children, no inspection). And because the machine has no guards and
 * its context is only the host and the close reason, a step depends on the state value,
 * the reason and the event alone: xstate computes each distinct step once per process,
 * and every later connection replays its recorded actions with its own host.
 *
 * ```
 *  send(e) ──> mailbox ──> step seen before? ── yes ──> replay its actions (this host)
 *                 ^                └─ no ──> machine.transition(…) runs and records them
 *                 └──── an event an action sends waits here until the step is done
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
    actionExecutor: (action) => {
      recording?.push(action);
      action.exec?.(action.info, action.params);
    },
  };
})();

type ExecutedAction = Parameters<(typeof SCOPE)['actionExecutor']>[0];
type Context = ConnectionSnapshot['context'];

/** The actions of the transition being computed (null when none is recorded). */
let recording: ExecutedAction[] | null = null;

/**
 * A transition as xstate computed it once: the actions it ran, in order, and where it
 * led. The machine has no guards and its context is the host plus the close reason, so
 * a transition depends only on the state value, the reason and the event: replayed for
 * another connection with that connection's host, it makes the same calls.
 */
interface Step {
  readonly actions: readonly ExecutedAction[];
  readonly value: StateValue;
  /** The context after the step, when an assign changed it (its host is replaced). */
  readonly context: Context | null;
  readonly done: boolean;
}

/** Steps by state value, reason and event: a few dozen at most. */
const STEPS = new Map<string, Step>();

function stepKey(value: StateValue, context: Context, event: ConnectionEvent): string {
  const reason = event.type === 'CLOSE' ? event.reason : '';
  return `${KEYS.get(value) ?? JSON.stringify(value)}|${context.reason ?? ''}|${event.type}|${reason}`;
}

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
  #context: Context | undefined;
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
    this.#step(() =>
      this.#run('start', null, () =>
        connectionMachine.getInitialSnapshot(SCOPE, { host: this.host }),
      ),
    );
  }

  /** Processes `event` (after any in progress), running the actions of its transition. */
  send(event: ConnectionEvent): void {
    if (this.#mailbox !== null) {
      this.#mailbox.push(event);
      return;
    }
    this.#step(() => this.#next(event));
  }

  #next(event: ConnectionEvent): void {
    const value = this.#value;
    const context = this.#context;
    if (value === undefined || context === undefined || this.#done) return;
    this.#run(stepKey(value, context, event), context, () =>
      connectionMachine.transition(
        connectionMachine.resolveState({ value, context }),
        event,
        SCOPE,
      ),
    );
  }

  /**
   * Takes the step `key`: replayed with this connection's host when this process has
   * seen it, else computed by xstate (`compute`), its actions run and recorded.
   */
  #run(key: string, context: Context | null, compute: () => ConnectionSnapshot): void {
    const host = this.host;
    const known = STEPS.get(key);
    if (known !== undefined) {
      for (const action of known.actions) {
        const info = { ...action.info, context: { ...action.info.context, host } };
        action.exec?.(info, action.params);
      }
      this.#value = known.value;
      if (known.context !== null) this.#context = { ...known.context, host };
      this.#done = known.done;
      return;
    }
    const outer = recording;
    const actions: ExecutedAction[] = [];
    recording = actions;
    let next: ConnectionSnapshot;
    try {
      next = compute();
    } finally {
      recording = outer;
    }
    this.#keep(next);
    STEPS.set(key, {
      actions,
      value: shared(next.value),
      context: next.context === context ? null : next.context,
      done: this.#done,
    });
  }

  #keep(snapshot: ConnectionSnapshot): void {
    this.#value = shared(snapshot.value);
    this.#context = snapshot.context;
    this.#done = snapshot.status === 'done';
  }

  /** Runs one step, then the events its actions sent meanwhile, in the order sent. */
  #step(first: () => void): void {
    const mailbox: ConnectionEvent[] = [];
    this.#mailbox = mailbox;
    try {
      first();
      for (let event = mailbox.shift(); event !== undefined; event = mailbox.shift())
        this.#next(event);
    } finally {
      this.#mailbox = null;
    }
  }
}

/** One object per distinct state value (a handful), shared by every connection in it. */
const VALUES = new Map<string, StateValue>();
/** Each shared value's text, so a step's key is not serialised again per event. */
const KEYS = new Map<StateValue, string>();

function shared(value: StateValue): StateValue {
  const key = JSON.stringify(value);
  const known = VALUES.get(key);
  if (known !== undefined) return known;
  VALUES.set(key, value);
  KEYS.set(value, key);
  return value;
}
