/**
 * The worker-pool's job batches (schedulers/job-batches.ts): jobs leave each exactly once,
 * each lane's (client's) in the order they were queued and lane-less ones in queue order,
 * in batches bounded by size and by measured cost, with at most `maxInFlight` batches out
 * at once and no lane in two of them.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { JobBatches } from '../../schedulers/job-batches.js';
import type { BatchLimits, WireJob } from '../../schedulers/job-batches.js';

/** A JobBatches whose flushes and batch completions the test drives by hand. */
function harness(limits: BatchLimits) {
  const deferred: (() => void)[] = [];
  const out: { jobs: WireJob[]; end: () => void }[] = [];
  const sent: WireJob[][] = [];
  const batches = new JobBatches(
    limits,
    (jobs) => {
      sent.push(jobs);
      return new Promise<void>((resolve) => out.push({ jobs, end: resolve }));
    },
    (flush) => deferred.push(flush),
  );
  return { batches, deferred, out, sent };
}

describe('JobBatches (worker-pool batching)', function () {
  it('sends the jobs queued in one turn as one batch', function () {
    const { batches, deferred, sent } = harness({ maxJobs: 64, budgetMs: 1, maxInFlight: 2 });
    batches.measured('echo', 0.01);
    for (let id = 1; id <= 10; id++) batches.push('echo', { id, request: id });
    expect(sent).to.have.length(0);
    expect(deferred).to.have.length(1);
    deferred[0]?.();
    expect(sent.map((jobs) => jobs.map((job) => job.id))).to.deep.equal([
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ]);
  });

  it('keeps a job kind measured at the budget, or never measured, in a batch of its own', function () {
    const { batches, deferred, sent } = harness({ maxJobs: 64, budgetMs: 1, maxInFlight: 8 });
    batches.measured('cpu', 1);
    batches.measured('echo', 0.01);
    batches.push('echo', { id: 1, request: null });
    batches.push('cpu', { id: 2, request: null });
    batches.push('cpu', { id: 3, request: null });
    batches.push('new', { id: 4, request: null });
    batches.push('echo', { id: 5, request: null });
    batches.push('echo', { id: 6, request: null });
    deferred[0]?.();
    expect(sent.map((jobs) => jobs.map((job) => job.id))).to.deep.equal([
      [1],
      [2],
      [3],
      [4],
      [5, 6],
    ]);
  });

  it('a preempted thread’s spike moves a cheap kind’s estimate at most 4x, while a kind that really got dearer climbs', function () {
    const { batches } = harness({ maxJobs: 64, budgetMs: 1, maxInFlight: 2 });
    batches.measured('echo', 0.05);
    batches.measured('echo', 5);
    expect(batches.cost('echo')).to.be.closeTo(0.05 + 0.25 * (0.2 - 0.05), 1e-9);
    for (let i = 0; i < 8; i++) batches.measured('echo', 2);
    expect(batches.cost('echo')).to.be.greaterThan(1);
  });

  it('sends what waits when a batch comes back', async function () {
    const { batches, deferred, out, sent } = harness({ maxJobs: 64, budgetMs: 1, maxInFlight: 1 });
    batches.measured('echo', 0.01);
    batches.push('echo', { id: 1, request: null });
    deferred.shift()?.();
    batches.push('echo', { id: 2, request: null });
    batches.push('echo', { id: 3, request: null });
    deferred.shift()?.();
    expect(sent).to.have.length(1);
    out[0]?.end();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent.map((jobs) => jobs.map((job) => job.id))).to.deep.equal([[1], [2, 3]]);
  });

  it('keeps a lane’s later jobs back while a batch holding that lane is out, and lets other lanes go', async function () {
    const { batches, deferred, out, sent } = harness({ maxJobs: 1, budgetMs: 1, maxInFlight: 4 });
    batches.push('a', { id: 1, request: null, lane: 'alice' });
    batches.push('a', { id: 2, request: null, lane: 'alice' });
    batches.push('a', { id: 3, request: null, lane: 'bob' });
    batches.push('a', { id: 4, request: null });
    deferred.shift()?.();
    // Four slots, but alice's second job waits for her first.
    expect(sent.map((jobs) => jobs.map((job) => job.id))).to.deep.equal([[1], [3], [4]]);
    expect(batches.queued).to.equal(1);
    out[1]?.end(); // bob's batch back: nothing of alice's moves
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).to.have.length(3);
    out[0]?.end(); // alice's batch back
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent.map((jobs) => jobs.map((job) => job.id))).to.deep.equal([[1], [3], [4], [2]]);
    expect(batches.queued).to.equal(0);
  });

  it('property: every job leaves once, each lane in queue order, no lane in two batches out, within the bounds', async function () {
    const step = fc.oneof(
      fc.record({
        op: fc.constant('push' as const),
        key: fc.constantFrom('a', 'b', 'c', 'd'),
        lane: fc.constantFrom(undefined, 'x', 'y', 'z'),
      }),
      fc.record({
        op: fc.constant('measure' as const),
        key: fc.constantFrom('a', 'b', 'c'),
        ms: fc.double({ min: 0, max: 3, noNaN: true }),
      }),
      fc.record({ op: fc.constant('turn' as const) }),
      fc.record({ op: fc.constant('end' as const), which: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxJobs: fc.integer({ min: 1, max: 8 }),
          budgetMs: fc.double({ min: 0.1, max: 2, noNaN: true }),
          maxInFlight: fc.integer({ min: 1, max: 4 }),
        }),
        fc.array(step, { maxLength: 80 }),
        async (limits, steps) => {
          const { batches, deferred, out, sent } = harness(limits);
          let nextId = 0;
          const pushed: WireJob[] = [];
          const check = (): void => {
            expect(batches.inFlight).to.be.at.most(limits.maxInFlight);
            expect(out.length).to.equal(batches.inFlight);
            const lanesOut = out.flatMap(({ jobs }) => [
              ...new Set(jobs.flatMap((job) => (job.lane === undefined ? [] : [job.lane]))),
            ]);
            expect(lanesOut.length, `lanes out: ${lanesOut.join()}`).to.equal(
              new Set(lanesOut).size,
            );
          };
          for (const s of steps) {
            if (s.op === 'push') {
              const job: WireJob = { id: ++nextId, request: s.key, lane: s.lane };
              batches.push(s.key, job);
              pushed.push(job);
            } else if (s.op === 'measure') {
              batches.measured(s.key, s.ms);
            } else if (s.op === 'turn') {
              for (const flush of deferred.splice(0)) flush();
            } else if (out.length > 0) {
              const [done] = out.splice(s.which % out.length, 1);
              done?.end();
              await Promise.resolve();
              await Promise.resolve();
            }
            check();
            for (const jobs of sent.slice(-limits.maxInFlight * 2)) {
              expect(jobs.length).to.be.within(1, limits.maxJobs);
            }
          }
          // Drain: every batch comes back, every turn ends.
          while (out.length > 0 || deferred.length > 0) {
            for (const flush of deferred.splice(0)) flush();
            for (const done of out.splice(0)) done.end();
            await Promise.resolve();
            await Promise.resolve();
          }
          expect(batches.queued).to.equal(0);
          const left = sent.flat();
          expect(left.map((job) => job.id).sort((a, b) => a - b)).to.deep.equal(
            pushed.map((job) => job.id),
          );
          // Lane by lane (lane-less jobs together), the order they were pushed in.
          const ofLane = (jobs: readonly WireJob[], lane: string | undefined): number[] =>
            jobs.filter((job) => job.lane === lane).map((job) => job.id);
          for (const lane of [undefined, 'x', 'y', 'z'])
            expect(ofLane(left, lane), `lane ${String(lane)}`).to.deep.equal(ofLane(pushed, lane));
        },
      ),
      { numRuns: 200, interruptAfterTimeLimit: 4000 },
    );
  });

  it('property: a batch of several jobs fits the budget by the estimates it was taken with', function () {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.double({ min: 0, max: 1.5, noNaN: true })),
          {
            maxLength: 3,
          },
        ),
        fc.array(fc.constantFrom('a', 'b', 'c', 'unmeasured'), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 16 }),
        (measures, keys, maxJobs) => {
          const batches = new JobBatches(
            { maxJobs, budgetMs: 1, maxInFlight: 1 },
            () => Promise.resolve(),
            () => undefined,
          );
          for (const [key, ms] of measures) batches.measured(key, ms);
          keys.forEach((key, id) => batches.push(key, { id, request: key }));
          const taken: WireJob[] = [];
          while (batches.queued > 0) {
            const batch = batches.take();
            const { jobs } = batch;
            expect(jobs.length).to.be.within(1, maxJobs);
            if (jobs.length > 1) {
              const cost = jobs.reduce((sum, job) => sum + batches.cost(String(job.request)), 0);
              expect(cost).to.be.at.most(1 + 1e-9);
            }
            taken.push(...jobs);
            batches.release(batch);
          }
          expect(taken.map((job) => job.id)).to.deep.equal(keys.map((_, id) => id));
        },
      ),
      { numRuns: 300, interruptAfterTimeLimit: 3000 },
    );
  });
});
