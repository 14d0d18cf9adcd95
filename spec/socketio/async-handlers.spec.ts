/**
 * `asyncHandlers`: by default one client's events are handled in arrival order
 * (a slow handler holds back the next event of that client, not other clients);
 * with `asyncHandlers: true` they overlap, as in python-socketio. Every mode.
 */
import { expect } from 'chai';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { SioHarness } from '../helpers/socketio.js';

/** The order in which one client's two acks arrive: a slow event sent first, a quick one second. */
async function ackOrder(h: SioHarness): Promise<string[]> {
  const peer = await h.connect();
  const order: string[] = [];
  const slow = peer.emitAck('slow').then(() => order.push('slow'));
  const quick = peer.emitAck('quick').then(() => order.push('quick'));
  await Promise.all([slow, quick]);
  return order;
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  describe(`one client's events in order, or overlapping with asyncHandlers [${asyncMode}]`, function () {
    const harnesses: SioHarness[] = [];
    afterEach(async () => {
      for (const h of harnesses.splice(0)) await h.stop();
    });

    async function start(asyncHandlers: boolean): Promise<SioHarness> {
      const h = await SioHarness.start({ asyncMode, asyncHandlers });
      harnesses.push(h);
      h.io.on('slow', () => h.io.sleep(0.2).then(() => 'slow'));
      h.io.on('quick', () => 'quick');
      return h;
    }

    it('handles them in arrival order by default: the quick ack waits for the slow one', async function () {
      expect(await ackOrder(await start(false))).to.deep.equal(['slow', 'quick']);
    });

    it('lets them overlap with asyncHandlers: true: the quick ack comes first', async function () {
      expect(await ackOrder(await start(true))).to.deep.equal(['quick', 'slow']);
    });

    it('never holds back another client behind a slow handler', async function () {
      const h = await start(false);
      const [busy, other] = [await h.connect(), await h.connect()];
      const order: string[] = [];
      const slow = busy.emitAck('slow').then(() => order.push('busy'));
      await other.emitAck('quick').then(() => order.push('other'));
      await slow;
      expect(order).to.deep.equal(['other', 'busy']);
    });
  });
}
