/**
 * Room-aware routing (`messageQueueOptions.routing: 'rooms'`): three real server
 * processes on Redis, then on RabbitMQ, with official socket.io-client peers. An emit to
 * one room travels on that room's route, which only the processes with members in the
 * room receive; broadcasts stay on the channel every process reads. Counted with the
 * processes' own queue counters: a process receives its rooms' share and nothing else,
 * a process's messages keep their order across the channel and a route, a route is let
 * go with its last member and heard again with the next, and it is heard again after the
 * broker connection comes back. (spec/queues/cluster.spec.ts runs every cluster case in
 * both routing modes, acks and calls included.)
 */
import { expect } from 'chai';
import { delay } from '../helpers/raw-engine.js';
import type { SioPeer } from '../helpers/socketio.js';
import {
  BROKERS,
  Cluster,
  PrivateRedis,
  ackOf,
  eventually,
  portOpen,
  rabbitmqctl,
  received,
  settle,
} from '../helpers/queues.js';
import type { Stats } from '../helpers/queues.js';

const ROUTING = { queueOptions: { routing: 'rooms' } };

/** Queue counters with the routes a process listens to. */
type RoutedStats = Stats & { routes: number };

async function statsOf(cluster: Cluster): Promise<RoutedStats[]> {
  return (await Promise.all(cluster.servers.map((s) => s.stats()))) as RoutedStats[];
}

/** Messages each process received between two readings of the counters. */
const receivedBetween = (before: RoutedStats[], after: RoutedStats[]): number[] =>
  after.map((s, i) => s.received - (before[i]?.received ?? 0));

/** The first argument of every `event` a peer received. */
const firsts = (peer: SioPeer, event: string): unknown[] => received(peer, event).map((a) => a[0]);

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

for (const broker of BROKERS) {
  describe(`room-aware routing on ${broker.name}: three processes`, function () {
    let cluster: Cluster;

    before(async function () {
      if (!(await portOpen(broker.port)))
        throw new Error(
          `${broker.name} is not listening on 127.0.0.1:${broker.port}; run scripts/services.sh`,
        );
      cluster = await Cluster.start(broker.url, 3, `rt-${broker.name.toLowerCase()}`, ROUTING);
    });

    after(async function () {
      await cluster?.kill();
    });

    beforeEach(async function () {
      await cluster.restart(`rt-${broker.name.toLowerCase()}`);
    });

    afterEach(function () {
      cluster.disconnectPeers();
    });

    it("gives each process its rooms' share and the broadcasts, nothing else", async function () {
      const [g0, g1, g2] = await cluster.spread(2);
      const [red, red2] = g0 as SioPeer[];
      const [blue] = g1 as SioPeer[];
      const [loner] = g2 as SioPeer[];
      // The join's ack comes once the process listens to the room's route.
      for (const peer of [red, red2] as SioPeer[]) await ackOf(peer, 'join', 'red');
      await ackOf(blue as SioPeer, 'join', 'blue');
      expect((await statsOf(cluster)).map((s) => s.routes)).to.deep.equal([1, 1, 0]);

      const before = await statsOf(cluster);
      // Process 2 has no member in either room: all of this room traffic crosses processes.
      for (const n of range(10)) {
        await cluster.server(2).emit('news', [n], { to: 'red' });
        await cluster.server(2).emit('news', [n], { to: 'blue' });
      }
      for (const n of range(3)) await cluster.server(1).emit('all', [n]);
      await settle([red, red2, blue, loner] as SioPeer[], 'all', 3);
      await settle([red, red2, blue] as SioPeer[], 'news', 10);
      const after = await statsOf(cluster);

      for (const peer of [red, red2, blue] as SioPeer[])
        expect(firsts(peer, 'news'), 'its room, in order, once').to.deep.equal(range(10));
      for (const peer of [red, red2, blue, loner] as SioPeer[])
        expect(firsts(peer, 'all')).to.deep.equal(range(3));
      expect(firsts(loner as SioPeer, 'news')).to.deep.equal([]);
      // Processes 0 and 1: their room's 10 and the 3 broadcasts; process 2: the broadcasts.
      expect(receivedBetween(before, after)).to.deep.equal([13, 13, 3]);
      expect(after.map((s) => s.missed)).to.deep.equal([0, 0, 0]);
      expect(after.map((s) => s.skipped)).to.deep.equal(before.map((s) => s.skipped));
    });

    it("keeps a process's order across the channel and a room's route", async function () {
      const [, g1] = await cluster.spread(1);
      const member = g1?.[0] as SioPeer;
      await ackOf(member, 'join', 'ordered');
      // Alternately to the room (its route) and to everyone (the channel), without waiting.
      await Promise.all(
        range(40).map((n) =>
          cluster.server(0).emit('seq', [n], n % 2 === 0 ? { to: 'ordered' } : {}),
        ),
      );
      await settle([member], 'seq', 40);
      expect(firsts(member, 'seq')).to.deep.equal(range(40));
    });

    it('lets a route go with its last member and hears it again with the next', async function () {
      const [, g1] = await cluster.spread(1);
      const member = g1?.[0] as SioPeer;
      await ackOf(member, 'join', 'green');
      expect(await cluster.server(1).stats()).to.include({ routes: 1 });
      await ackOf(member, 'leave', 'green');
      await cluster.server(1).request({ op: 'flush' });
      expect(await cluster.server(1).stats()).to.include({ routes: 0 });

      const before = await statsOf(cluster);
      for (const n of range(5)) await cluster.server(0).emit('green', [n], { to: 'green' });
      await cluster.server(0).emit('fence', []);
      await settle([member], 'fence', 1);
      expect(receivedBetween(before, await statsOf(cluster))[1], 'only the fence').to.equal(1);
      expect(received(member, 'green')).to.deep.equal([]);

      await ackOf(member, 'join', 'green');
      await cluster.server(0).emit('green', ['back'], { to: 'green' });
      await settle([member], 'green', 1);
      expect(firsts(member, 'green')).to.deep.equal(['back']);
      // Left and joined again: what was sent meanwhile is not counted missed.
      expect(((await cluster.server(1).stats()) as RoutedStats).missed).to.equal(0);
    });

    it('sends emits to a sid and to several rooms on the channel', async function () {
      const [g0, g1] = await cluster.spread(1);
      const a = g0?.[0] as SioPeer;
      const b = g1?.[0] as SioPeer;
      await ackOf(a, 'join', 'x');
      await ackOf(b, 'join', 'y');
      await cluster.server(2).emit('direct', ['to b'], { to: b.id });
      await cluster.server(2).emit('both', ['x and y'], { to: ['x', 'y'] });
      await settle([a, b], 'both', 1);
      expect(received(b, 'direct')).to.deep.equal([['to b']]);
      expect(received(a, 'both')).to.deep.equal([['x and y']]);
      expect(received(b, 'both')).to.deep.equal([['x and y']]);
      expect((await statsOf(cluster)).map((s) => s.routes)).to.deep.equal([1, 1, 0]);
    });
  });
}

describe('room-aware routing: a route is heard again after the broker connection comes back', function () {
  this.timeout(30_000);

  it('Redis (a private redis-server): CLIENT KILL of the subscribers, SSUBSCRIBE again', async function () {
    const redis = await PrivateRedis.start();
    const cluster = await Cluster.start(redis.url, 2, 'rt-kill', ROUTING);
    try {
      const member = await cluster.connect(1);
      await ackOf(member, 'join', 'kept');
      await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
      const back = await eventually(
        async () => ((await cluster.server(1).stats()) as RoutedStats).reconnects > 0,
        5000,
      );
      expect(back, 'process 1 reconnected').to.equal(true);
      await cluster.server(1).request({ op: 'flush' });
      await delay(100);
      await cluster.server(0).emit('after', ['again'], { to: 'kept' });
      await settle([member], 'after', 1);
      expect(received(member, 'after')).to.deep.equal([['again']]);
    } finally {
      await cluster.kill();
      await redis.down();
    }
  });

  it('RabbitMQ: close_connection, the queue bound to the route again', async function () {
    const cluster = await Cluster.start(BROKERS[1].url, 2, 'rt-close', ROUTING);
    try {
      const member = await cluster.connect(1);
      await ackOf(member, 'join', 'kept');
      // The connections of this cluster's processes, by the name they give the broker.
      const lines = (await rabbitmqctl(['list_connections', 'pid', 'client_properties'])).split(
        '\n',
      );
      const pids = lines
        .filter((line) => line.includes(cluster.channel))
        .map((line) => line.split('\t')[0] ?? '');
      expect(pids, 'both processes connected').to.have.length(2);
      for (const pid of pids) await rabbitmqctl(['close_connection', pid, 'routing spec']);
      const back = await eventually(
        async () => ((await cluster.server(1).stats()) as RoutedStats).reconnects > 0,
        8000,
      );
      expect(back, 'process 1 reconnected').to.equal(true);
      await eventually(async () => (await cluster.server(0).stats()).connected, 8000);
      await cluster.server(1).request({ op: 'flush' });
      await cluster.server(0).emit('after', ['again'], { to: 'kept' });
      await settle([member], 'after', 1);
      expect(received(member, 'after')).to.deep.equal([['again']]);
    } finally {
      await cluster.kill();
    }
  });
});
