import { expect } from 'chai';
import fc from 'fast-check';
import { createActor } from 'xstate';
import type { Actor } from 'xstate';
import { PHASES, TIMER_EVENTS, connectionMachine } from '../../lib/engine/connection-machine.js';
import type {
  CloseReason,
  ConnectionEvent,
  ConnectionHost,
  ConnectionTimer,
  Phase,
} from '../../lib/engine/connection-machine.js';
import type { TimerHandle } from '../../schedulers/scheduler.js';
import { VirtualClock } from '../../schedulers/clock.js';
import { runParameters } from '../helpers/props.js';

const RUNS = positiveInt(process.env.FC_RUNS, 200);
const BUDGET_MS = 5_000;

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const CLOSE_REASONS: readonly CloseReason[] = [
  'transport close',
  'transport error',
  'ping timeout',
  'parse error',
  'forced close',
  'server shutdown',
  'outbox overflow',
  'payload too large',
  'overlapping request',
];

interface Timings {
  pingIntervalMs: number;
  pingTimeoutMs: number;
  upgradeTimeoutMs: number;
}

/**
 * Records every call the machine makes, in order, as `enter:<phase>`, `sendPing`, ...
 * (timer calls are not recorded: the clock shows them), and runs the machine's timers on a
 * virtual clock the way EngineConnection runs them on its clock.
 */
class RecordingHost implements ConnectionHost {
  readonly calls: string[] = [];
  readonly phases: Phase[] = [];
  readonly closes: CloseReason[] = [];
  pings = 0;
  completes = 0;
  aborts = 0;
  actor: Actor<typeof connectionMachine> | undefined;
  readonly #timers = new Map<ConnectionTimer, TimerHandle>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly timings: Timings,
  ) {}

  startTimer(timer: ConnectionTimer): void {
    this.stopTimer(timer);
    const ms = this.timings[`${timer}Ms`];
    const handle = this.clock.setTimeout(() => {
      this.#timers.delete(timer);
      this.actor?.send(TIMER_EVENTS[timer]);
    }, ms);
    this.#timers.set(timer, handle);
  }

  stopTimer(timer: ConnectionTimer): void {
    const handle = this.#timers.get(timer);
    if (handle === undefined) return;
    this.clock.clearTimeout(handle);
    this.#timers.delete(timer);
  }

  enterPhase(phase: Phase): void {
    this.calls.push(`enter:${phase}`);
    this.phases.push(phase);
  }
  sendPing(): void {
    this.calls.push('sendPing');
    this.pings++;
  }
  completeUpgrade(): void {
    this.calls.push('completeUpgrade');
    this.completes++;
  }
  abortUpgrade(): void {
    this.calls.push('abortUpgrade');
    this.aborts++;
  }
  closed(reason: CloseReason): void {
    this.calls.push(`closed:${reason}`);
    this.closes.push(reason);
  }

  get phase(): Phase | undefined {
    return this.phases.at(-1);
  }
}

const DEFAULT_TIMINGS: Timings = {
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  upgradeTimeoutMs: 10_000,
};

interface Harness {
  clock: VirtualClock;
  host: RecordingHost;
  actor: Actor<typeof connectionMachine>;
}

function start(timings: Timings = DEFAULT_TIMINGS): Harness {
  const clock = new VirtualClock();
  const host = new RecordingHost(clock, timings);
  const actor = createActor(connectionMachine, { input: { host } });
  host.actor = actor;
  actor.start();
  return { clock, host, actor };
}

/** The phase the actor's own snapshot says it is in. */
function snapshotPhase(actor: Actor<typeof connectionMachine>): Phase {
  const snapshot = actor.getSnapshot();
  if (snapshot.status === 'done') return 'closed';
  if (snapshot.matches('handshake')) return 'handshake';
  if (snapshot.matches({ live: { transport: 'upgrading' } })) return 'upgrading';
  if (snapshot.matches({ live: { transport: 'connected' } })) return 'connected';
  throw new Error(`unexpected state ${JSON.stringify(snapshot.value)}`);
}

function open(timings?: Timings): Harness {
  const harness = start(timings);
  harness.actor.send({ type: 'OPENED' });
  return harness;
}

describe('connectionMachine', function () {
  describe('handshake', function () {
    it('starts in handshake with no timer running', function () {
      const { host, clock, actor } = start();
      expect(host.calls).to.deep.equal(['enter:handshake']);
      expect(snapshotPhase(actor)).to.equal('handshake');
      expect(clock.pending).to.equal(0);
    });

    it('moves to connected on OPENED and arms the ping interval', function () {
      const { host, clock, actor } = open();
      expect(host.calls).to.deep.equal(['enter:handshake', 'enter:connected']);
      expect(snapshotPhase(actor)).to.equal('connected');
      expect(clock.pending).to.equal(1);
      expect(clock.nextDue()).to.equal(25_000);
    });

    it('ignores lifecycle events that need an open connection', function () {
      for (const type of ['PONG', 'PROBE', 'UPGRADE', 'UPGRADE_FAILED'] as const) {
        const { host, clock, actor } = start();
        actor.send({ type });
        clock.advance(3_600_000);
        expect(host.calls, type).to.deep.equal(['enter:handshake']);
        expect(snapshotPhase(actor), type).to.equal('handshake');
        expect(clock.pending, type).to.equal(0);
      }
    });
  });

  describe('heartbeat', function () {
    it('sends a ping after pingInterval, not before', function () {
      const { host, clock } = open();
      clock.advance(24_999);
      expect(host.pings).to.equal(0);
      clock.advance(1);
      expect(host.pings).to.equal(1);
      expect(clock.nextDue()).to.equal(45_000);
    });

    it('closes with "ping timeout" 20 s after an unanswered ping, in well under a second of real time', function () {
      const began = performance.now();
      const { host, clock, actor } = open();
      clock.advance(25_000);
      expect(host.pings).to.equal(1);
      clock.advance(19_999);
      expect(host.phase).to.equal('connected');
      expect(host.closes).to.deep.equal([]);
      clock.advance(1);
      expect(host.phase).to.equal('closed');
      expect(host.closes).to.deep.equal(['ping timeout']);
      expect(actor.getSnapshot().status).to.equal('done');
      expect(actor.getSnapshot().context.reason).to.equal('ping timeout');
      expect(clock.now()).to.equal(45_000);
      expect(clock.pending).to.equal(0);
      expect(performance.now() - began).to.be.below(1000);
    });

    it('re-arms the cycle on PONG, so many intervals pass without closing', function () {
      const { host, clock, actor } = open();
      for (let cycle = 1; cycle <= 200; cycle++) {
        clock.advance(25_000);
        expect(host.pings).to.equal(cycle);
        clock.advance(19_999);
        actor.send({ type: 'PONG' });
        expect(clock.pending).to.equal(1);
      }
      expect(host.closes).to.deep.equal([]);
      expect(snapshotPhase(actor)).to.equal('connected');
      // The next ping counts from the last PONG.
      clock.advance(24_999);
      expect(host.pings).to.equal(200);
      clock.advance(1);
      expect(host.pings).to.equal(201);
    });

    it('ignores a PONG that answers no ping: the interval is not reset', function () {
      const { host, clock, actor } = open();
      clock.advance(10_000);
      actor.send({ type: 'PONG' });
      clock.advance(15_000);
      expect(host.pings).to.equal(1);
    });

    it('keeps running while an upgrade is in progress', function () {
      const { host, clock, actor } = open({ ...DEFAULT_TIMINGS, upgradeTimeoutMs: 60_000 });
      clock.advance(20_000);
      actor.send({ type: 'PROBE' });
      clock.advance(5_000);
      expect(host.pings).to.equal(1);
      expect(host.phase).to.equal('upgrading');
      clock.advance(20_000);
      expect(host.closes).to.deep.equal(['ping timeout']);
      expect(host.aborts).to.equal(0);
      expect(clock.pending).to.equal(0);
    });
  });

  describe('upgrade', function () {
    it('PROBE -> upgrading, UPGRADE -> connected with completeUpgrade', function () {
      const { host, clock, actor } = open();
      actor.send({ type: 'PROBE' });
      expect(snapshotPhase(actor)).to.equal('upgrading');
      expect(clock.pending).to.equal(2);
      actor.send({ type: 'UPGRADE' });
      expect(snapshotPhase(actor)).to.equal('connected');
      expect(host.calls.slice(2)).to.deep.equal([
        'enter:upgrading',
        'completeUpgrade',
        'enter:connected',
      ]);
      expect(host.aborts).to.equal(0);
      // The upgrade timer is cleared, the heartbeat one remains.
      expect(clock.pending).to.equal(1);
      clock.advance(10_000);
      expect(host.aborts).to.equal(0);
    });

    it('UPGRADE_FAILED -> connected with abortUpgrade', function () {
      const { host, clock, actor } = open();
      actor.send({ type: 'PROBE' });
      actor.send({ type: 'UPGRADE_FAILED' });
      expect(snapshotPhase(actor)).to.equal('connected');
      expect(host.calls.slice(2)).to.deep.equal([
        'enter:upgrading',
        'abortUpgrade',
        'enter:connected',
      ]);
      expect(host.completes).to.equal(0);
      expect(clock.pending).to.equal(1);
    });

    it('aborts after upgradeTimeout without an UPGRADE', function () {
      const { host, clock, actor } = open();
      clock.advance(1_000);
      actor.send({ type: 'PROBE' });
      clock.advance(9_999);
      expect(host.phase).to.equal('upgrading');
      expect(host.aborts).to.equal(0);
      clock.advance(1);
      expect(host.phase).to.equal('connected');
      expect(host.aborts).to.equal(1);
      expect(host.completes).to.equal(0);
      // A late UPGRADE finds no upgrade in progress.
      actor.send({ type: 'UPGRADE' });
      expect(host.completes).to.equal(0);
    });

    it('allows a second upgrade attempt after a failed one', function () {
      const { host, actor } = open();
      actor.send({ type: 'PROBE' });
      actor.send({ type: 'UPGRADE_FAILED' });
      actor.send({ type: 'PROBE' });
      actor.send({ type: 'UPGRADE' });
      expect(host.aborts).to.equal(1);
      expect(host.completes).to.equal(1);
      expect(host.phase).to.equal('connected');
    });

    it('ignores PROBE while upgrading and UPGRADE while connected', function () {
      const { host, clock, actor } = open();
      actor.send({ type: 'UPGRADE' });
      actor.send({ type: 'UPGRADE_FAILED' });
      expect(host.completes + host.aborts).to.equal(0);
      actor.send({ type: 'PROBE' });
      actor.send({ type: 'PROBE' });
      expect(host.phases.filter((p) => p === 'upgrading')).to.have.length(1);
      expect(clock.pending).to.equal(2);
    });
  });

  describe('close', function () {
    const reach: Record<string, (h: Harness) => void> = {
      handshake: () => undefined,
      connected: ({ actor }) => actor.send({ type: 'OPENED' }),
      'connected, awaiting a pong': ({ actor, clock }) => {
        actor.send({ type: 'OPENED' });
        clock.advance(25_000);
      },
      upgrading: ({ actor }) => {
        actor.send({ type: 'OPENED' });
        actor.send({ type: 'PROBE' });
      },
    };

    for (const [state, getThere] of Object.entries(reach)) {
      it(`CLOSE from ${state} -> closed, final, reason recorded, closed() once, no timers`, function () {
        const harness = start();
        const { host, clock, actor } = harness;
        getThere(harness);
        actor.send({ type: 'CLOSE', reason: 'transport error' });
        expect(host.phase).to.equal('closed');
        expect(host.calls.slice(-2)).to.deep.equal(['enter:closed', 'closed:transport error']);
        expect(host.closes).to.deep.equal(['transport error']);
        const snapshot = actor.getSnapshot();
        expect(snapshot.status).to.equal('done');
        expect(snapshot.context.reason).to.equal('transport error');
        expect(clock.pending).to.equal(0);

        // Nothing moves a closed connection.
        const before = [...host.calls];
        const events: ConnectionEvent[] = [
          { type: 'OPENED' },
          { type: 'PONG' },
          { type: 'PROBE' },
          { type: 'UPGRADE' },
          { type: 'UPGRADE_FAILED' },
          { type: 'CLOSE', reason: 'forced close' },
        ];
        for (const event of events) actor.send(event);
        clock.advance(24 * 3_600_000);
        expect(host.calls).to.deep.equal(before);
        expect(actor.getSnapshot().context.reason).to.equal('transport error');
        expect(clock.pending).to.equal(0);
      });
    }

    it('records each close reason as given', function () {
      for (const reason of CLOSE_REASONS) {
        const { host, actor } = open();
        actor.send({ type: 'CLOSE', reason });
        expect(host.closes).to.deep.equal([reason]);
        expect(actor.getSnapshot().context.reason).to.equal(reason);
      }
    });
  });

  describe('model-based property', function () {
    this.timeout(BUDGET_MS * 3);

    type Step = { kind: 'event'; event: ConnectionEvent } | { kind: 'advance'; ms: number };
    type TimerKind = 'pingInterval' | 'pingTimeout' | 'upgradeTimeout';

    /** A reference model of the machine, timers included, written from its diagram. */
    class Model {
      phase: Phase = 'handshake';
      awaitingPong = false;
      reason: CloseReason | null = null;
      now = 0;
      seq = 0;
      timers: { kind: TimerKind; due: number; seq: number }[] = [];
      readonly calls: string[] = ['enter:handshake'];

      constructor(readonly timings: Timings) {}

      arm(kind: TimerKind, ms: number): void {
        this.timers.push({ kind, due: this.now + ms, seq: this.seq++ });
      }
      disarm(kind: TimerKind): void {
        this.timers = this.timers.filter((t) => t.kind !== kind);
      }
      enter(phase: Phase): void {
        this.phase = phase;
        this.calls.push(`enter:${phase}`);
      }
      close(reason: CloseReason): void {
        this.timers = [];
        this.reason = reason;
        this.enter('closed');
        this.calls.push(`closed:${reason}`);
      }

      apply(event: ConnectionEvent): void {
        if (this.phase === 'closed') return;
        if (event.type === 'CLOSE') return this.close(event.reason);
        if (event.type === 'OPENED' && this.phase === 'handshake') {
          this.enter('connected');
          this.arm('pingInterval', this.timings.pingIntervalMs);
        } else if (event.type === 'PONG' && this.phase !== 'handshake' && this.awaitingPong) {
          this.awaitingPong = false;
          this.disarm('pingTimeout');
          this.arm('pingInterval', this.timings.pingIntervalMs);
        } else if (event.type === 'PROBE' && this.phase === 'connected') {
          this.enter('upgrading');
          this.arm('upgradeTimeout', this.timings.upgradeTimeoutMs);
        } else if (this.phase === 'upgrading' && event.type === 'UPGRADE') {
          this.disarm('upgradeTimeout');
          this.calls.push('completeUpgrade');
          this.enter('connected');
        } else if (this.phase === 'upgrading' && event.type === 'UPGRADE_FAILED') {
          this.disarm('upgradeTimeout');
          this.calls.push('abortUpgrade');
          this.enter('connected');
        }
      }

      advance(ms: number): void {
        const target = this.now + ms;
        for (;;) {
          const next = [...this.timers]
            .sort((a, b) => a.due - b.due || a.seq - b.seq)
            .find((t) => t.due <= target);
          if (next === undefined) break;
          this.timers = this.timers.filter((t) => t !== next);
          this.now = next.due;
          if (next.kind === 'pingInterval') {
            this.calls.push('sendPing');
            this.awaitingPong = true;
            this.arm('pingTimeout', this.timings.pingTimeoutMs);
          } else if (next.kind === 'pingTimeout') {
            this.close('ping timeout');
          } else {
            this.calls.push('abortUpgrade');
            this.enter('connected');
          }
        }
        this.now = target;
      }
    }

    const timings = fc.record({
      pingIntervalMs: fc.integer({ min: 1, max: 30_000 }),
      pingTimeoutMs: fc.integer({ min: 1, max: 30_000 }),
      upgradeTimeoutMs: fc.integer({ min: 1, max: 30_000 }),
    });
    const event: fc.Arbitrary<ConnectionEvent> = fc.oneof(
      fc.constantFrom<ConnectionEvent>(
        { type: 'OPENED' },
        { type: 'PONG' },
        { type: 'PROBE' },
        { type: 'UPGRADE' },
        { type: 'UPGRADE_FAILED' },
      ),
      fc
        .constantFrom(...CLOSE_REASONS)
        .map((reason): ConnectionEvent => ({ type: 'CLOSE', reason })),
    );
    const step: fc.Arbitrary<Step> = fc.oneof(
      { arbitrary: event.map((e): Step => ({ kind: 'event', event: e })), weight: 3 },
      {
        arbitrary: fc.integer({ min: 0, max: 40_000 }).map((ms): Step => ({ kind: 'advance', ms })),
        weight: 2,
      },
    );

    it('matches the reference model and keeps its invariants after every step', function () {
      fc.assert(
        fc.property(timings, fc.array(step, { maxLength: 60 }), (t, steps) => {
          const { host, clock, actor } = start(t);
          const model = new Model(t);
          // Most interesting runs begin with an open connection.
          for (const s of [{ kind: 'event', event: { type: 'OPENED' } } as Step, ...steps]) {
            if (s.kind === 'event') {
              actor.send(s.event);
              model.apply(s.event);
            } else {
              clock.advance(s.ms);
              model.advance(s.ms);
            }
            expect(host.calls).to.deep.equal(model.calls);
            // Exactly one phase, the same seen by the host and held by the actor.
            expect(PHASES).to.include(host.phase);
            expect(host.phase).to.equal(snapshotPhase(actor));
            expect(clock.pending).to.equal(model.timers.length);
            expect(clock.now()).to.equal(model.now);
            if (host.phase === 'closed') {
              expect(actor.getSnapshot().status).to.equal('done');
              expect(host.closes).to.have.length(1);
              expect(host.closes[0]).to.equal(actor.getSnapshot().context.reason);
              expect(clock.pending).to.equal(0);
            } else {
              expect(host.closes).to.deep.equal([]);
              expect(actor.getSnapshot().context.reason).to.equal(null);
            }
          }
        }),
        runParameters(RUNS, BUDGET_MS),
      );
    });
  });
});
