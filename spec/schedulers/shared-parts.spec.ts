/**
 * The main thread's record of which pool threads hold which shared parts
 * (schedulers/shared-parts.ts): a job carries its part until every thread has
 * reported a job of that key done, and the threads are told to drop a key once it
 * is forgotten and its last job is back, never before.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { SharedPartsHeld } from '../../schedulers/shared-parts.js';

/** A record whose forget messages and deferred flushes the test sees. */
function harness(threads: number) {
  const told: string[][] = [];
  const deferred: (() => void)[] = [];
  const held = new SharedPartsHeld(
    threads,
    (keys) => told.push(keys),
    (flush) => deferred.push(flush),
  );
  const flush = (): void => {
    for (const run of deferred.splice(0)) run();
  };
  return { held, told, flush };
}

describe('SharedPartsHeld (worker-pool shared parts)', function () {
  it('carries the value until every thread has run a job of the key, then only the key', function () {
    const { held } = harness(2);
    const part = { key: 'a', value: { headers: {} } };
    expect(held.leave(part)).to.deep.equal(part);
    held.done('a', 1);
    expect(held.leave(part), 'thread 2 has not had it').to.deep.equal(part);
    held.done('a', 1);
    expect(held.leave(part), 'still only thread 1').to.deep.equal(part);
    held.done('a', 2);
    expect(held.leave(part)).to.deep.equal({ key: 'a' });
  });

  it('tells the threads to drop a forgotten key once its last job is back, in one message per turn', function () {
    const { held, told, flush } = harness(1);
    for (const key of ['a', 'b']) {
      held.leave({ key, value: key });
      held.done(key, 1);
    }
    held.leave({ key: 'a', value: 'a' });
    held.forget('a');
    held.forget('b');
    flush();
    expect(told, 'a still has a job out').to.deep.equal([['b']]);
    held.done('a', 1);
    held.forget('a');
    flush();
    expect(told).to.deep.equal([['b'], ['a']]);
    expect(held.size).to.equal(0);
  });

  it('a forgotten key whose jobs are still out stays held: a late job of it travels without the value, and the threads drop it after that job', function () {
    const { held, told, flush } = harness(1);
    held.leave({ key: 'a', value: 1 });
    held.done('a', 1);
    held.leave({ key: 'a', value: 1 });
    held.forget('a');
    expect(held.leave({ key: 'a', value: 1 })).to.deep.equal({ key: 'a' });
    held.done('a', 1);
    flush();
    expect(told).to.deep.equal([]);
    held.done('a', 1);
    flush();
    expect(told).to.deep.equal([['a']]);
  });

  it('a job of a client that has gone carries its value once, untracked', function () {
    const { held, told, flush } = harness(1);
    held.leave({ key: 'a', value: 1 });
    held.done('a', 1);
    held.forget('a');
    expect(held.leave({ key: 'a', value: 1 })).to.deep.equal({ key: 'a', value: 1, once: true });
    held.done('a', 1);
    flush();
    expect(told).to.deep.equal([['a']]);
    expect(held.size).to.equal(0);
  });

  it('tells nothing about keys no thread holds (jobs that failed, or keys never sent)', function () {
    const { held, told, flush } = harness(2);
    held.leave({ key: 'a', value: 1 });
    held.done('a');
    held.forget('a');
    held.forget('never');
    flush();
    expect(told).to.deep.equal([]);
    expect(held.size).to.equal(0);
  });

  it('property: the value stops travelling only once every thread holds it, and a key is dropped once, after forget and its last job', function () {
    const threads = 2;
    const keys = ['a', 'b', 'c'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('leave' as const), key: fc.constantFrom(...keys) }),
      fc.record({
        kind: fc.constant('done' as const),
        key: fc.constantFrom(...keys),
        thread: fc.option(fc.integer({ min: 1, max: threads }), { nil: undefined }),
      }),
      fc.record({ kind: fc.constant('forget' as const), key: fc.constantFrom(...keys) }),
      fc.record({ kind: fc.constant('flush' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { held, told, flush } = harness(threads);
        // The model: per key, jobs out, threads that reported one done, and forgotten.
        const model = new Map<string, { out: number; threads: Set<number>; forgotten: boolean }>();
        const dropped: string[] = [];
        /** Keys dropped so far: a later job of one carries its value once, untracked. */
        const gone = new Set<string>();
        for (const step of ops) {
          const entry = step.kind === 'flush' ? undefined : model.get(step.key);
          if (step.kind === 'leave' && gone.has(step.key)) {
            const wire = held.leave({ key: step.key, value: step.key });
            expect(wire).to.deep.equal({ key: step.key, value: step.key, once: true });
          } else if (step.kind === 'leave') {
            const e = entry ?? { out: 0, threads: new Set<number>(), forgotten: false };
            model.set(step.key, e);
            const wire = held.leave({ key: step.key, value: step.key });
            expect('value' in wire).to.equal(e.threads.size < threads);
            e.out++;
          } else if (step.kind === 'done') {
            if (entry === undefined || entry.out === 0) continue; // only jobs that are out end
            held.done(step.key, step.thread);
            entry.out--;
            if (step.thread !== undefined) entry.threads.add(step.thread);
          } else if (step.kind === 'forget') {
            held.forget(step.key);
            if (entry !== undefined) entry.forgotten = true;
          } else flush();
          for (const [key, e] of model)
            if (e.forgotten && e.out === 0) {
              model.delete(key);
              gone.add(key);
              if (e.threads.size > 0) dropped.push(key);
            }
        }
        flush();
        expect(told.flat()).to.deep.equal(dropped);
        expect(held.size).to.equal(model.size);
      }),
      { numRuns: 300 },
    );
  });
});
