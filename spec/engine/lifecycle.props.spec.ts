/**
 * The connection lifecycle (lifecycle.ts: the machine's transition function over one
 * snapshot, with a mailbox) against an xstate `Actor` of the same machine: for random
 * sequences of lifecycle events, including events that the host sends back from inside
 * an action (a ping whose write fails and closes the connection, say), both must make
 * the same host calls in the same order and end in the same state.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { connectionMachine } from '../../lib/engine/connection-machine.js';
import type {
  CloseReason,
  ConnectionEvent,
  ConnectionHost,
  ConnectionTimer,
  Phase,
} from '../../lib/engine/connection-machine.js';
import { Lifecycle } from '../../lib/engine/lifecycle.js';
import { runParameters } from '../helpers/props.js';

const REASONS: readonly CloseReason[] = ['transport close', 'ping timeout', 'forced close'];

const lifecycleEvent: fc.Arbitrary<ConnectionEvent> = fc.oneof(
  fc.constantFrom<ConnectionEvent>(
    { type: 'OPENED' },
    { type: 'PONG' },
    { type: 'PROBE' },
    { type: 'UPGRADE' },
    { type: 'UPGRADE_FAILED' },
    { type: 'PING_DUE' },
    { type: 'PONG_TIMEOUT' },
    { type: 'UPGRADE_TIMEOUT' },
  ),
  fc.constantFrom(...REASONS).map<ConnectionEvent>((reason) => ({ type: 'CLOSE', reason })),
);

/** Mostly sequences that open first: what happens after OPENED is where the work is. */
const opened: fc.Arbitrary<ConnectionEvent[]> = fc.oneof(
  { arbitrary: fc.array(lifecycleEvent, { maxLength: 30 }), weight: 1 },
  {
    arbitrary: fc
      .array(lifecycleEvent, { maxLength: 30 })
      .map((rest) => [{ type: 'OPENED' } as const, ...rest]),
    weight: 4,
  },
);

/** Which host call sends an event back, and which. */
interface Echo {
  readonly on: 'sendPing' | 'completeUpgrade' | 'enter:upgrading';
  readonly event: ConnectionEvent;
}

/** Records every call; the `echo`'s call sends its event back through `send`. */
class RecordingHost implements ConnectionHost {
  readonly calls: string[] = [];
  send: (event: ConnectionEvent) => void = () => undefined;

  constructor(private readonly echo: Echo | undefined) {}

  #record(call: string): void {
    this.calls.push(call);
    if (this.echo?.on === call) this.send(this.echo.event);
  }
  enterPhase(phase: Phase): void {
    this.#record(`enter:${phase}`);
  }
  sendPing(): void {
    this.#record('sendPing');
  }
  completeUpgrade(): void {
    this.#record('completeUpgrade');
  }
  abortUpgrade(): void {
    this.#record('abortUpgrade');
  }
  closed(reason: CloseReason): void {
    this.#record(`closed:${reason}`);
  }
  startTimer(timer: ConnectionTimer): void {
    this.#record(`start:${timer}`);
  }
  stopTimer(timer: ConnectionTimer): void {
    this.#record(`stop:${timer}`);
  }
}

function viaActor(events: readonly ConnectionEvent[], echo: Echo | undefined) {
  const host = new RecordingHost(echo);
  const actor = createActor(connectionMachine, { input: { host } });
  host.send = (event) => actor.send(event);
  actor.start();
  for (const event of events) actor.send(event);
  const snapshot = actor.getSnapshot();
  return { calls: host.calls, value: snapshot.value, done: snapshot.status === 'done' };
}

function viaLifecycle(events: readonly ConnectionEvent[], echo: Echo | undefined) {
  const host = new RecordingHost(echo);
  const lifecycle = new Lifecycle(host);
  host.send = (event) => lifecycle.send(event);
  lifecycle.start();
  for (const event of events) lifecycle.send(event);
  return { calls: host.calls, value: lifecycle.value, done: lifecycle.done };
}

describe('Lifecycle: one connection machine without an xstate Actor', function () {
  it('makes the calls an Actor makes, in order, ending in the same state', function () {
    const echo: fc.Arbitrary<Echo | undefined> = fc.option(
      fc.record({
        on: fc.constantFrom<Echo['on']>('sendPing', 'completeUpgrade', 'enter:upgrading'),
        event: lifecycleEvent,
      }),
      { nil: undefined },
    );
    fc.assert(
      fc.property(opened, echo, (events, back) => {
        expect(viaLifecycle(events, back)).to.deep.equal(viaActor(events, back));
      }),
      runParameters(300, 5_000),
    );
  });

  it('runs an event sent from inside an action after the actions of the step that sent it', function () {
    const echo: Echo = { on: 'sendPing', event: { type: 'CLOSE', reason: 'transport close' } };
    const { calls } = viaLifecycle([{ type: 'OPENED' }, { type: 'PING_DUE' }], echo);
    expect(calls).to.deep.equal([
      'enter:handshake',
      'enter:connected',
      'start:pingInterval',
      'stop:pingInterval',
      'sendPing',
      'start:pingTimeout',
      'stop:pingTimeout',
      'enter:closed',
      'closed:transport close',
    ]);
  });

  it('ignores events after the final state and before start', function () {
    const host = new RecordingHost(undefined);
    const lifecycle = new Lifecycle(host);
    lifecycle.send({ type: 'OPENED' });
    expect(host.calls).to.deep.equal([]);
    lifecycle.start();
    lifecycle.send({ type: 'CLOSE', reason: 'forced close' });
    lifecycle.send({ type: 'OPENED' });
    expect(lifecycle.done).to.equal(true);
    expect(host.calls).to.deep.equal(['enter:handshake', 'enter:closed', 'closed:forced close']);
  });
});
