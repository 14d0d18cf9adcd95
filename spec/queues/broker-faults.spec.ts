/**
 * Broker faults: the broker restarting or disappearing during traffic must not
 * crash a server. It keeps serving its local clients, reconnects, resumes, and
 * for every message sent, the other process's client received it or it was
 * counted as lost (by the publisher: `lost`; by the receiver: `missed`),
 * exactly; the outage and the losses are logged with the default logger.
 *
 * Redis: a private `redis-server` child on a free port (never the system one),
 * killed and started again on the same port.
 * RabbitMQ: a second node is too slow to start here, so the servers reach the
 * system broker through a TCP relay in this process, which can refuse
 * connections (no broker at all) and cut the established ones (the broker
 * going away), then accept again.
 */
import { expect } from 'chai';
import { delay } from '../helpers/raw-engine.js';
import { Pair, expectWarned, ticks } from '../helpers/broker-faults.js';
import { PrivateRedis, Relay, ackOf, eventually, portOpen } from '../helpers/queues.js';

describe('broker faults', function () {
  this.timeout(30_000);

  describe('Redis restarting during traffic (a private redis-server)', function () {
    let redis: PrivateRedis | undefined;
    let pair: Pair | undefined;

    before(async function () {
      redis = await PrivateRedis.start();
    });

    after(async function () {
      await pair?.kill();
      await redis?.down();
    });

    it('survives, keeps serving local clients, reconnects, resumes and accounts for every message', async function () {
      const r = redis as PrivateRedis;
      pair = await Pair.fork(r.url, 'redis-fault', { defaultLogger: true });
      const [s0, s1] = pair.servers;
      const [a, b] = await pair.connect();
      const [t0, t1] = pair.tickers;
      t0.start();
      t1.start();
      await delay(200);
      await r.down();
      const away = await eventually(
        async () => (await pair?.stats())?.every((s) => !s.connected) === true,
        3000,
      );
      expect(away, 'both servers see Redis gone').to.equal(true);
      const before = ticks(a).length;
      await delay(300);
      // While the broker is away: still serving local clients (events and emits).
      expect(ticks(a).length, 'local ticks while Redis is down').to.be.greaterThan(before);
      expect(await ackOf(a, 'whoami')).to.deep.equal([0]);
      expect(await ackOf(b, 'whoami')).to.deep.equal([1]);

      await r.up();
      // Each of the two connections of each server (publisher, subscriber), once.
      expect(await pair.reconnected(2), 'both servers reconnected').to.equal(true);
      await delay(300);
      await Promise.all([t0.stop(), t1.stop()]);
      pair.expectAlive();
      await pair.expectResumed();

      const tallies = await pair.expectReconciled();
      pair.expectLocalDelivery();
      expect((await pair.stats()).map((s) => s.reconnects)).to.deep.equal([2, 2]);
      for (const s of [s0, s1])
        expectWarned(
          s,
          /message queue redis:\/\/127\.0\.0\.1:\d+\/0 \(publisher\): connection closed.*; reconnecting/,
          /\(publisher\) is back after/,
          /\(subscriber\) is back after/,
        );
      console.info(`      Redis restart: ${JSON.stringify(tallies)}`);
      pair.expectAlive();
    });
  });

  describe('RabbitMQ unreachable, then going away during traffic (through a TCP relay)', function () {
    let relay: Relay | undefined;
    let pair: Pair | undefined;

    before(async function () {
      if (!(await portOpen(5672)))
        throw new Error('RabbitMQ is not listening on 127.0.0.1:5672; run scripts/services.sh');
      relay = await Relay.create(5672);
    });

    afterEach(async function () {
      await pair?.kill();
      pair = undefined;
      await relay?.cut();
    });

    it('starts with no broker, serves local clients, counts lost publishes, then connects', async function () {
      const r = relay as Relay;
      // Nothing listens on the relay's port yet.
      pair = await Pair.fork(`amqp://guest:guest@127.0.0.1:${r.port}/`, 'amqp-absent', {
        defaultLogger: true,
      });
      const [s0, s1] = pair.servers;
      const [a] = await pair.connect();
      const [t0] = pair.tickers;
      await t0.burst(3);
      await eventually(() => ticks(a).length === 3, 3000);
      expect(ticks(a)).to.deep.equal([0, 1, 2]);
      expect(await ackOf(a, 'whoami')).to.deep.equal([0]);
      const absent = await s0.stats();
      expect(absent.connected).to.equal(false);
      expect(absent.lost).to.equal(3);
      expect(absent.published).to.equal(0);
      expectWarned(s0, /cannot connect.*reconnecting/);
      pair.expectAlive();

      await r.listen();
      expect(await pair.reconnected(1), 'both servers connected once the broker is there').to.equal(
        true,
      );
      expect((await s0.stats()).reconnects).to.equal(1);
      await pair.expectResumed();
      const [tally] = await pair.expectReconciled();
      expect(tally).to.include({ received: tally.sent - 3, lost: 3, missed: 0 });
      expectWarned(s0, /is back after .*3 messages .*lost/);
      expectWarned(s1, /is back after/);
      pair.expectAlive();
    });

    it('survives the broker connection being cut during traffic, loses nothing and resumes', async function () {
      const r = relay as Relay;
      await r.listen();
      pair = await Pair.fork(`amqp://guest:guest@127.0.0.1:${r.port}/`, 'amqp-cut', {
        defaultLogger: true,
      });
      const [s0, s1] = pair.servers;
      const [a, b] = await pair.connect();
      expect(await pair.reconnected(0), 'both servers connected').to.equal(true);
      expect(r.connections).to.be.at.least(2);

      const [t0, t1] = pair.tickers;
      t0.start();
      t1.start();
      await delay(200);
      await r.cut();
      const away = await eventually(
        async () => (await pair?.stats())?.every((s) => !s.connected) === true,
        3000,
      );
      expect(away, 'both servers see the broker gone').to.equal(true);
      const before = ticks(a).length;
      await delay(400);
      expect(ticks(a).length, 'local ticks while the broker is away').to.be.greaterThan(before);
      expect(await ackOf(b, 'whoami')).to.deep.equal([1]);

      await r.listen();
      expect(await pair.reconnected(1), 'both servers reconnected').to.equal(true);
      await delay(300);
      // Each process's queue outlived the cut: what was published meanwhile waited there.
      const tallies = await pair.expectNothingLost();
      for (const s of [s0, s1]) expectWarned(s, /connection closed.*reconnecting/, /is back after/);
      console.info(`      relay cut: ${JSON.stringify(tallies)}`);
      pair.expectAlive();
    });
  });
});
