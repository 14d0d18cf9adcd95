import { expect } from 'chai';
import fc from 'fast-check';
import { realClock, VirtualClock } from '../../schedulers/clock.js';
import { runParameters } from '../helpers/props.js';

const RUNS = positiveInt(process.env.FC_RUNS, 200);
const BUDGET_MS = 3_000;

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

describe('VirtualClock', function () {
  it('starts at 0 and moves only when advanced', function () {
    const clock = new VirtualClock();
    expect(clock.now()).to.equal(0);
    clock.advance(1500);
    expect(clock.now()).to.equal(1500);
    clock.advance(0);
    expect(clock.now()).to.equal(1500);
  });

  it('fires timers in due order whatever order they were set in', function () {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('c'), 300);
    clock.setTimeout(() => fired.push('a'), 100);
    clock.setTimeout(() => fired.push('b'), 200);
    clock.advance(1000);
    expect(fired).to.deep.equal(['a', 'b', 'c']);
  });

  it('fires timers due at the same time in the order they were set', function () {
    const clock = new VirtualClock();
    const fired: number[] = [];
    for (let i = 0; i < 10; i++) clock.setTimeout(() => fired.push(i), 50);
    clock.advance(50);
    expect(fired).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('advance fires exactly the timers due up to and including the target', function () {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 10);
    clock.setTimeout(() => fired.push(clock.now()), 20);
    clock.setTimeout(() => fired.push(clock.now()), 21);
    clock.advance(20);
    // Each callback sees the time it was due at.
    expect(fired).to.deep.equal([10, 20]);
    expect(clock.pending).to.equal(1);
    expect(clock.nextDue()).to.equal(21);
  });

  it('fires a timer set by a callback when it falls due within the same advance', function () {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 30);
    }, 10);
    clock.advance(40);
    expect(fired).to.deep.equal([10, 40]);
    expect(clock.now()).to.equal(40);
  });

  it('clearTimeout cancels a timer and ignores unknown or cleared handles', function () {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const keep = clock.setTimeout(() => fired.push('keep'), 10);
    const drop = clock.setTimeout(() => fired.push('drop'), 10);
    expect(clock.pending).to.equal(2);
    clock.clearTimeout(drop);
    clock.clearTimeout(drop);
    clock.clearTimeout({ id: 9999 });
    expect(clock.pending).to.equal(1);
    clock.advance(10);
    expect(fired).to.deep.equal(['keep']);
    clock.clearTimeout(keep);
    expect(clock.pending).to.equal(0);
  });

  it('treats a negative delay as 0', function () {
    const clock = new VirtualClock();
    clock.advance(100);
    clock.setTimeout(() => undefined, -50);
    expect(clock.nextDue()).to.equal(100);
  });

  it('reports pending timers and the next due time', function () {
    const clock = new VirtualClock();
    expect(clock.pending).to.equal(0);
    expect(clock.nextDue()).to.equal(undefined);
    clock.setTimeout(() => undefined, 70);
    clock.setTimeout(() => undefined, 30);
    expect(clock.pending).to.equal(2);
    expect(clock.nextDue()).to.equal(30);
  });

  it('runNext fires the earliest timer, moving time to it, and returns false when idle', function () {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('late'), 500);
    clock.setTimeout(() => fired.push('early'), 200);
    expect(clock.runNext()).to.equal(true);
    expect(fired).to.deep.equal(['early']);
    expect(clock.now()).to.equal(200);
    expect(clock.runNext()).to.equal(true);
    expect(clock.now()).to.equal(500);
    expect(clock.runNext()).to.equal(false);
    expect(clock.now()).to.equal(500);
  });

  describe('property', function () {
    this.timeout(BUDGET_MS * 3);

    it('fires any set of timers in (due, set order), each at its due time, once', function () {
      const op = fc.oneof(
        fc.record({ set: fc.integer({ min: -5, max: 100 }) }),
        fc.record({ advance: fc.integer({ min: 0, max: 60 }) }),
        fc.record({ clear: fc.nat() }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
          const clock = new VirtualClock();
          const timers: { id: number; due: number; handle: object | number; live: boolean }[] = [];
          const fired: { id: number; at: number }[] = [];
          for (const o of ops) {
            if ('set' in o) {
              const id = timers.length;
              const handle = clock.setTimeout(() => fired.push({ id, at: clock.now() }), o.set);
              timers.push({ id, due: clock.now() + Math.max(0, o.set), handle, live: true });
            } else if ('clear' in o) {
              const timer = timers[o.clear % Math.max(1, timers.length)];
              if (timer) {
                clock.clearTimeout(timer.handle);
                timer.live = false;
              }
            } else {
              const from = fired.length;
              const target = clock.now() + o.advance;
              const due = timers
                .filter((t) => t.live && t.due <= target)
                .sort((a, b) => a.due - b.due || a.id - b.id);
              clock.advance(o.advance);
              expect(fired.slice(from)).to.deep.equal(due.map((t) => ({ id: t.id, at: t.due })));
              for (const t of due) t.live = false;
              expect(clock.now()).to.equal(target);
            }
            expect(clock.pending).to.equal(timers.filter((t) => t.live).length);
          }
        }),
        runParameters(RUNS, BUDGET_MS),
      );
    });
  });
});

describe('realClock', function () {
  it('fires a timer after its delay on Node’s timers', async function () {
    const began = realClock.now();
    await new Promise<void>((resolve) => realClock.setTimeout(resolve, 10));
    expect(realClock.now() - began).to.be.at.least(9);
  });

  it('clearTimeout cancels a timer', async function () {
    let fired = false;
    const handle = realClock.setTimeout(() => (fired = true), 1);
    realClock.clearTimeout(handle);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).to.equal(false);
  });
});
