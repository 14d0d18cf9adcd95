/**
 * The ledger behind `io.flush()`: it waits for the publishes issued before a
 * flush (never for later ones), counts each one the broker did not take once,
 * and stops waiting at its deadline, on a virtual clock.
 */
import { expect } from 'chai';
import { VirtualClock } from '../../schedulers/clock.js';
import { Deliveries } from '../../lib/queues/deliveries.js';
import { deferred } from '../helpers/socketio.js';
import type { Deferred } from '../helpers/socketio.js';
import { hasSettled } from '../helpers/schedulers.js';

/** A ledger and `count` publishes it tracks, each settled by the test. */
function track(deliveries: Deliveries, count: number): Deferred<boolean>[] {
  return Array.from({ length: count }, () => {
    const publish = deferred<boolean>();
    deliveries.track(publish.promise);
    return publish;
  });
}

describe('deliveries (what flush() waits for)', function () {
  let clock: VirtualClock;
  let deliveries: Deliveries;

  beforeEach(function () {
    clock = new VirtualClock();
    deliveries = new Deliveries(clock);
  });

  it('resolves 0 at once when nothing was published', async function () {
    expect(await deliveries.flush(5000)).to.equal(0);
    expect(clock.pending, 'no timer left behind').to.equal(0);
  });

  it('waits for every publish issued before it, and resolves 0 when the broker took them all', async function () {
    const [a, b] = track(deliveries, 2) as [Deferred<boolean>, Deferred<boolean>];
    const flushed = deliveries.flush(5000);
    a.resolve(true);
    expect(await hasSettled(flushed), 'settled with one publish unconfirmed').to.equal(false);
    b.resolve(true);
    expect(await flushed).to.equal(0);
    expect(clock.pending, 'its deadline is cleared').to.equal(0);
  });

  it('counts publishes that failed or threw, including those that failed before the call', async function () {
    const [early, refused, threw, taken] = track(deliveries, 4) as [
      Deferred<boolean>,
      Deferred<boolean>,
      Deferred<boolean>,
      Deferred<boolean>,
    ];
    early.resolve(false);
    await hasSettled(early.promise);
    const flushed = deliveries.flush(5000);
    refused.resolve(false);
    threw.reject(new Error('connection closed'));
    taken.resolve(true);
    expect(await flushed).to.equal(3);
    expect(await deliveries.flush(5000), 'each loss is reported once').to.equal(0);
  });

  it('never waits for what was published after it; the next flush reports that', async function () {
    const [before] = track(deliveries, 1) as [Deferred<boolean>];
    const flushed = deliveries.flush(5000);
    const [after] = track(deliveries, 1) as [Deferred<boolean>];
    before.resolve(true);
    expect(await flushed).to.equal(0);
    after.resolve(false);
    expect(await deliveries.flush(5000)).to.equal(1);
  });

  it('gives up at its deadline, counting what is still unconfirmed once', async function () {
    const [confirmed, hung] = track(deliveries, 2) as [Deferred<boolean>, Deferred<boolean>];
    confirmed.resolve(true);
    const flushed = deliveries.flush(5000);
    clock.advance(4999);
    expect(await hasSettled(flushed), 'settled before its deadline').to.equal(false);
    clock.advance(1);
    expect(await flushed).to.equal(1);
    // Settling late (either way) does not count again.
    hung.resolve(false);
    expect(await deliveries.flush(5000)).to.equal(0);
  });

  it('lets overlapping flushes report each loss once, the later one its own at least', async function () {
    const [first] = track(deliveries, 1) as [Deferred<boolean>];
    const earlier = deliveries.flush(5000);
    const [second] = track(deliveries, 1) as [Deferred<boolean>];
    const later = deliveries.flush(5000);
    second.resolve(false);
    first.resolve(false);
    const [reportedEarlier, reportedLater] = await Promise.all([earlier, later]);
    expect(reportedEarlier, 'the flush that saw only the first publish').to.be.at.most(1);
    expect(reportedLater, 'the flush that saw both').to.be.at.least(1);
    expect(reportedEarlier + reportedLater).to.equal(2);
  });
});
