/**
 * The lifecycle of one process of a `--processes N` cluster against a model:
 * random runs of a process listening, exiting, being stopped and time passing on
 * a simulated clock. What the host is asked (start, stop, serving, died with a
 * delay, failed, stopped) must be exactly what the model expects: a process that
 * never served fails instead of restarting, the delay doubles while the process
 * keeps dying and starts over after it served `stableMs`, a restart comes when its
 * delay has passed and not before, and nothing starts after a stop.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { SimulatedClock, createActor } from 'xstate';
import { memberMachine, restartDelay } from '../../lib/cluster/member-machine.js';
import type { Backoff, MemberHost, ProcessExit } from '../../lib/cluster/member-machine.js';
import { runParameters } from '../helpers/props.js';

const BACKOFF: Backoff = { firstMs: 100, maxMs: 1600, stableMs: 5000 };

type Step =
  | { readonly type: 'listening' }
  | { readonly type: 'exit'; readonly signal: boolean }
  | { readonly type: 'stop' }
  | { readonly type: 'wait'; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ type: 'listening' }),
  fc.boolean().map<Step>((signal) => ({ type: 'exit', signal })),
  fc.constant<Step>({ type: 'stop' }),
  fc.integer({ min: 1, max: 7000 }).map<Step>((ms) => ({ type: 'wait', ms })),
);

type State = 'starting' | 'serving' | 'down' | 'stopping' | 'stopped' | 'failed';

/** What the machine should do, kept the plain way. */
class Model {
  state: State = 'starting';
  served = 0;
  deaths = 0;
  servingSince = 0;
  downUntil = 0;
  readonly calls: string[] = ['start'];

  apply(s: Step, now: number): void {
    if (s.type === 'listening' && this.state === 'starting') {
      this.served++;
      this.servingSince = now;
      this.state = 'serving';
      this.calls.push(`serving ${this.served - 1}`);
    } else if (s.type === 'exit') {
      if (this.state === 'stopping') {
        this.state = 'stopped';
        this.calls.push('stopped');
      } else if (this.state === 'starting' && this.served === 0) {
        this.state = 'failed';
        this.calls.push('failed');
      } else if (this.state === 'starting' || this.state === 'serving') {
        const stable = this.state === 'serving' && now - this.servingSince >= BACKOFF.stableMs;
        this.deaths = (stable ? 0 : this.deaths) + 1;
        const delay = restartDelay(BACKOFF, this.deaths);
        this.downUntil = now + delay;
        this.state = 'down';
        this.calls.push(`died ${delay}`);
      }
    } else if (s.type === 'stop') {
      if (this.state === 'starting' || this.state === 'serving') {
        this.state = 'stopping';
        this.calls.push('stop');
      } else if (this.state === 'down') {
        this.state = 'stopped';
        this.calls.push('stopped');
      }
    }
  }

  /** Time passes up to `now`: a restart that is due happens. */
  advance(now: number): void {
    if (this.state === 'down' && now >= this.downUntil) {
      this.state = 'starting';
      this.calls.push('start');
    }
  }
}

/** Whether a real process could send this now (an exit needs a running process). */
function possible(model: Model, s: Step): boolean {
  if (s.type !== 'exit') return true;
  return model.state === 'starting' || model.state === 'serving' || model.state === 'stopping';
}

describe('cluster member machine (property, against a model)', function () {
  this.timeout(20_000);

  it('starts, serves, restarts with a doubling delay, fails and stops as the model does', function () {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const clock = new SimulatedClock();
        const calls: string[] = [];
        const host: MemberHost = {
          start: () => calls.push('start'),
          stop: () => calls.push('stop'),
          serving: (_port, restarts) => calls.push(`serving ${restarts}`),
          died: (_exit: ProcessExit, delayMs) => calls.push(`died ${delayMs}`),
          failed: () => calls.push('failed'),
          stopped: () => calls.push('stopped'),
        };
        const actor = createActor(memberMachine, {
          clock,
          input: { host, backoff: BACKOFF, now: () => clock.now() },
        }).start();
        const model = new Model();
        for (const s of steps) {
          if (!possible(model, s)) continue;
          if (s.type === 'wait') {
            // Time passes in small steps: a restart fires when it is due, not at the end.
            for (let left = s.ms; left > 0; left -= 50) {
              clock.increment(Math.min(50, left));
              model.advance(clock.now());
            }
            continue;
          }
          model.apply(s, clock.now());
          if (s.type === 'listening') actor.send({ type: 'LISTENING', port: 40000 });
          else if (s.type === 'exit')
            actor.send({
              type: 'EXIT',
              code: s.signal ? null : 1,
              signal: s.signal ? 'SIGKILL' : null,
            });
          else actor.send({ type: 'STOP' });
          expect(calls).to.deep.equal(model.calls);
        }
        expect(calls).to.deep.equal(model.calls);
        const snapshot = actor.getSnapshot();
        expect(snapshot.value).to.equal(model.state);
        // Nothing is ever started after a stop or a failure.
        const end = calls.findIndex((c) => c === 'stopped' || c === 'failed');
        if (end >= 0) expect(calls.slice(end + 1)).to.deep.equal([]);
        actor.stop();
      }),
      runParameters(300, 8_000),
    );
  });

  it('doubles the delay from firstMs up to maxMs', function () {
    expect([1, 2, 3, 4, 5, 6, 40].map((n) => restartDelay(BACKOFF, n))).to.deep.equal([
      100, 200, 400, 800, 1600, 1600, 1600,
    ]);
  });
});
