/**
 * Short broker outages during traffic, on real brokers and real server
 * processes with the default logger: the broker closing the connections
 * (Redis `CLIENT KILL`, RabbitMQ `rabbitmqctl close_connection`) and Redis
 * pausing (`DEBUG SLEEP`). Both servers publish ticks; for every tick, it
 * reached the other server's client or it was counted as lost, exactly:
 *
 *   sent = received + lost (by the publisher) + missed (by the receiver)
 *
 * and the outage, the reconnection and every loss were logged at warn.
 */
import { expect } from 'chai';
import { delay } from '../helpers/raw-engine.js';
import { Pair, expectWarned, logged } from '../helpers/broker-faults.js';
import {
  PrivateRedis,
  Relay,
  closeRabbitConnections,
  eventually,
  portOpen,
  rabbitmqctl,
} from '../helpers/queues.js';
import type { ServerProcess } from '../helpers/queues.js';

/** Every `missed N messages` a server warned about, added up. */
function missedLogged(server: ServerProcess): number {
  return logged(server, 'warn')
    .map((line) => /missed (\d+) messages? from host [0-9a-f]+/.exec(line)?.[1])
    .reduce((sum, n) => sum + Number(n ?? 0), 0);
}

/** Expects each server's warnings to add up to what it counted as missed. */
async function expectMissesLogged(pair: Pair): Promise<void> {
  const stats = await pair.stats();
  for (const [i, server] of pair.servers.entries())
    expect(missedLogged(server), `missed messages server ${i} logged`).to.equal(stats[i]?.missed);
}

describe('broker outages during traffic', function () {
  this.timeout(30_000);

  describe('Redis (a private redis-server)', function () {
    let redis: PrivateRedis | undefined;
    let pair: Pair | undefined;

    before(async function () {
      redis = await PrivateRedis.start();
    });

    afterEach(async function () {
      await pair?.kill();
      pair = undefined;
    });

    after(async function () {
      await redis?.down();
    });

    it('CLIENT KILL of both processes’ connections: reconnects, counts every loss, resumes', async function () {
      const r = redis as PrivateRedis;
      pair = await Pair.fork(r.url, 'redis-kill', { defaultLogger: true });
      const [s0, s1] = pair.servers;
      await pair.connect();
      const [t0, t1] = pair.tickers;
      t0.start();
      t1.start();
      await delay(300);
      // The server closes them cleanly: no error, just an end of stream.
      await r.command('CLIENT', 'KILL', 'TYPE', 'normal');
      await r.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
      // Whether a process is still down when asked races its reconnect (CI once saw one
      // back already); that each noticed the outage shows in its reconnect count and warn
      // lines, asserted below.
      expect(await pair.reconnected(2), 'both servers reconnected').to.equal(true);
      await delay(300);
      await Promise.all([t0.stop(), t1.stop()]);
      await pair.expectResumed();

      const tallies = await pair.expectReconciled();
      pair.expectLocalDelivery();
      const stats = await pair.stats();
      // Both connections of each, each once.
      expect(stats.map((s) => s.reconnects)).to.deep.equal([2, 2]);
      for (const s of [s0, s1])
        expectWarned(s, /\(publisher\).*closed.*reconnecting/, /\(publisher\) is back after/);
      await expectMissesLogged(pair);
      console.info(`      CLIENT KILL: ${JSON.stringify(tallies)}`);
      pair.expectAlive();
    });

    it('CLIENT KILL of the subscribers with traffic ending meanwhile: the tail loss is counted', async function () {
      const r = redis as PrivateRedis;
      pair = await Pair.fork(r.url, 'redis-tail', { defaultLogger: true });
      const [, s1] = pair.servers;
      await pair.connect();
      const [t0] = pair.tickers;
      await t0.burst(5);
      await eventually(async () => (await pair?.tally(0))?.received === 5, 3000);
      await r.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
      // Published while server 1 is not subscribed, and nothing from server 0 after it.
      await t0.burst(20);
      expect(await pair.reconnected(1), 'both subscribers reconnected').to.equal(true);

      const [tally] = await pair.expectReconciled();
      expect(tally.missed, 'ticks server 1 counted as missed').to.be.greaterThan(0);
      expectWarned(s1, /\(subscriber\).*closed.*reconnecting/, /\(subscriber\) is back after/);
      await expectMissesLogged(pair);
      console.info(`      subscribers killed, tail: ${JSON.stringify(tally)}`);
      await pair.expectResumed();
      await pair.expectReconciled();
      pair.expectAlive();
    });

    it('DEBUG SLEEP (the server paused, connections kept): nothing lost, nothing counted', async function () {
      const r = redis as PrivateRedis;
      pair = await Pair.fork(r.url, 'redis-sleep', { defaultLogger: true });
      await pair.connect();
      const [t0, t1] = pair.tickers;
      t0.start();
      t1.start();
      await delay(300);
      await r.command('DEBUG', 'SLEEP', '2');
      await delay(300);
      await Promise.all([t0.stop(), t1.stop()]);

      const tallies = await pair.expectReconciled();
      for (const t of tallies) {
        expect(t.received, JSON.stringify(t)).to.equal(t.sent);
        expect(t.sent).to.be.greaterThan(100);
      }
      pair.expectLocalDelivery();
      const stats = await pair.stats();
      expect(stats.map((s) => [s.lost, s.missed, s.reconnects])).to.deep.equal([
        [0, 0, 0],
        [0, 0, 0],
      ]);
      for (const s of pair.servers) expect(s.logs, `server ${s.index} logged`).to.deep.equal([]);
      console.info(`      DEBUG SLEEP 2: ${JSON.stringify(tallies)}`);
      pair.expectAlive();
    });

    it('a restart with a small maxBuffered: what overflows the buffer is counted lost by the publisher', async function () {
      const r = redis as PrivateRedis;
      pair = await Pair.fork(r.url, 'redis-buffer', {
        defaultLogger: true,
        queueOptions: { maxBuffered: 10 },
      });
      const [s0] = pair.servers;
      await pair.connect();
      const [t0] = pair.tickers;
      t0.start();
      await delay(200);
      await r.down();
      await eventually(async () => (await s0.stats()).lost > 0, 3000);
      const away = await s0.stats();
      expect(away.buffered, 'held for the broker').to.equal(10);
      await r.up();
      expect(await pair.reconnected(1), 'both servers reconnected').to.equal(true);
      await t0.stop();
      await pair.expectResumed();

      const [tally] = await pair.expectReconciled();
      expect(tally.lost, 'ticks server 0 could not keep').to.be.greaterThan(0);
      expectWarned(s0, /maxBuffered/);
      console.info(`      restart, maxBuffered 10: ${JSON.stringify(tally)}`);
      pair.expectAlive();
    });
  });

  describe('RabbitMQ (through a TCP relay, to find the connections)', function () {
    let relay: Relay | undefined;
    let pair: Pair | undefined;

    before(async function () {
      if (!(await portOpen(5672)))
        throw new Error('RabbitMQ is not listening on 127.0.0.1:5672; run scripts/services.sh');
      relay = await Relay.create(5672);
      await relay.listen();
    });

    afterEach(async function () {
      await pair?.kill();
      pair = undefined;
    });

    after(async function () {
      await relay?.cut();
    });

    it('close_connection of both processes’ connections: nothing lost, reconnects, resumes', async function () {
      const r = relay as Relay;
      pair = await Pair.fork(`amqp://guest:guest@127.0.0.1:${r.port}/`, 'amqp-close', {
        defaultLogger: true,
      });
      const [s0, s1] = pair.servers;
      await pair.connect();
      expect(await pair.reconnected(0), 'both servers connected').to.equal(true);
      const [t0, t1] = pair.tickers;
      t0.start();
      t1.start();
      await delay(300);
      expect(await closeRabbitConnections(r.brokerSidePorts), 'connections closed').to.equal(2);
      expect(await pair.reconnected(1), 'both servers reconnected').to.equal(true);
      await delay(300);
      const tallies = await pair.expectNothingLost();
      expect((await pair.stats()).map((s) => s.reconnects)).to.deep.equal([1, 1]);
      for (const s of [s0, s1]) expectWarned(s, /closed.*reconnecting/, /is back after/);
      console.info(`      close_connection: ${JSON.stringify(tallies)}`);
      pair.expectAlive();
    });

    it('leaves no queue behind: deleted on stop, expired (x-expires) after a crash', async function () {
      const r = relay as Relay;
      pair = await Pair.fork(`amqp://guest:guest@127.0.0.1:${r.port}/`, 'amqp-queues', {
        defaultLogger: true,
        queueOptions: { queueExpires: 1 },
      });
      const { channel } = pair;
      const [s0, s1] = pair.servers;
      const queues = async (): Promise<string[]> =>
        (await rabbitmqctl(['list_queues', '--no-table-headers', 'name']))
          .split('\n')
          .map((line) => line.trim())
          .filter((name) => name.includes(channel));
      await pair.connect();
      expect(await queues(), 'a queue per process').to.have.length(2);
      await s0.request({ op: 'stop' });
      expect(await queues(), 'once server 0 stopped').to.have.length(1);
      await s1.kill();
      expect(
        await eventually(async () => (await queues()).length === 0, 10_000, 250),
        'the queue of the killed server expired',
      ).to.equal(true);
    });
  });
});
