/**
 * Broker faults: the broker restarting or disappearing during traffic must not
 * crash a server. It keeps serving its local clients, counts what it could not
 * publish as lost (and logs it), reconnects, and cross-process delivery resumes.
 *
 * Redis: a private `redis-server` child on a free port (never the system one),
 * killed and started again on the same port.
 * RabbitMQ: a second node is too slow to start here, so the servers reach the
 * system broker through a TCP relay in this process, which can refuse
 * connections (no broker at all) and cut the established ones (the broker
 * going away), then accept again.
 */
import { expect } from 'chai';
import type { SioPeer } from '../helpers/socketio.js';
import { delay } from '../helpers/raw-engine.js';
import {
  PrivateRedis,
  Relay,
  ServerProcess,
  ackOf,
  eventually,
  openPeer,
  portOpen,
  received,
  uniqueChannel,
} from '../helpers/queues.js';
import { within } from '../helpers/socketio.js';

/** Two server processes and their clients for one fault scenario. */
class Pair {
  readonly peers: SioPeer[] = [];
  constructor(readonly servers: readonly [ServerProcess, ServerProcess]) {}

  static async fork(url: string, label: string): Promise<Pair> {
    const channel = uniqueChannel(label);
    const servers = await Promise.all([0, 1].map((i) => ServerProcess.fork(i, url, channel)));
    return new Pair(servers as [ServerProcess, ServerProcess]);
  }

  async connect(i: 0 | 1): Promise<SioPeer> {
    const peer = openPeer(this.servers[i].port);
    this.peers.push(peer);
    await within(peer.opened, `a client of server ${i}`, 5000);
    return peer;
  }

  async kill(): Promise<void> {
    for (const p of this.peers) p.socket.disconnect();
    await Promise.all(this.servers.map((s) => s.kill()));
  }

  expectAlive(): void {
    for (const s of this.servers)
      expect(s.alive, `server ${s.index} is alive (${s.exitReason ?? 'running'})`).to.equal(true);
  }
}

/** The numbers a peer received as `tick`s. */
const ticks = (peer: SioPeer): number[] => received(peer, 'tick').map(([n]) => n as number);

/**
 * Publishes `tick` n, n+1, ... from `server` every 20 ms until stopped; the
 * returned function stops it and resolves with the next number.
 */
function traffic(server: ServerProcess, from: number): { stop(): Promise<number>; next(): number } {
  let n = from;
  let running = true;
  const loop = (async () => {
    while (running) {
      await server.emit('tick', [n++]);
      await delay(20);
    }
  })();
  return {
    next: () => n,
    stop: async () => {
      running = false;
      await loop;
      return n;
    },
  };
}

/** Keeps publishing from `from` until `to` has a tick published after `after`. */
/** Whether both servers are connected to the broker again, each after a reconnect (10 s at most). */
function bothReconnected(a: ServerProcess, b: ServerProcess): Promise<boolean> {
  return eventually(
    async () => {
      const [x, y] = await Promise.all([a.stats(), b.stats()]);
      return x.connected && y.connected && x.reconnects >= 1 && y.reconnects >= 1;
    },
    10_000,
    50,
  );
}

async function resumes(from: ServerProcess, to: SioPeer, after: number): Promise<boolean> {
  let n = after + 1_000_000;
  return eventually(
    async () => {
      await from.emit('tick', [n++]);
      return ticks(to).some((t) => t > after);
    },
    15_000,
    100,
  );
}

describe('broker faults', function () {
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

    it('survives, keeps serving local clients, counts lost messages, reconnects and resumes', async function () {
      const r = redis as PrivateRedis;
      pair = await Pair.fork(r.url, 'redis-fault');
      const [s0, s1] = pair.servers;
      const a = await pair.connect(0);
      const b = await pair.connect(1);

      // Cross-process delivery works before the fault.
      await s0.emit('tick', [-1]);
      await eventually(() => ticks(b).includes(-1), 3000);
      expect(ticks(b)).to.deep.equal([-1]);

      const flow = traffic(s0, 0);
      await delay(200);
      // Ticks from here on may be in flight when Redis dies.
      const killedAt = flow.next() - 2;
      await r.down();
      await eventually(async () => (await s0.stats()).lost > 0, 3000);
      await delay(500);
      const before = ticks(a).length;
      await delay(300);
      // While the broker is away: still serving local clients (events and emits).
      expect(ticks(a).length, 'local ticks while Redis is down').to.be.greaterThan(before);
      expect(await ackOf(a, 'whoami')).to.deep.equal([0]);
      expect(await ackOf(b, 'whoami')).to.deep.equal([1]);
      const down = await s0.stats();
      expect(down.connected).to.equal(false);
      expect(down.lost).to.be.greaterThan(0);
      const lostWhileDown = down.lost;

      await r.up();
      const back = await bothReconnected(s0, s1);
      expect(back, 'both servers reconnected').to.equal(true);
      const last = await flow.stop();
      pair.expectAlive();

      // Cross-process delivery resumes, both ways.
      expect(await resumes(s0, b, last), 'server 0 → client of server 1').to.equal(true);
      expect(await resumes(s1, a, last + 2_000_000), 'server 1 → client of server 0').to.equal(
        true,
      );

      // Every tick reached the local client; the remote one missed those lost while Redis was down.
      const local = ticks(a).filter((t) => t >= 0 && t < last);
      expect(local).to.deep.equal(Array.from({ length: last }, (_, i) => i));
      const remote = new Set(ticks(b).filter((t) => t >= 0 && t < last));
      expect(remote.size).to.be.lessThan(last);
      for (let t = 0; t < killedAt; t++) expect(remote.has(t), `tick ${t}`).to.equal(true);
      const stats = await s0.stats();
      expect(stats.lost).to.be.at.least(lostWhileDown);
      // Nothing counted lost was delivered: lost and delivered ticks add up to at most all ticks.
      expect(stats.lost + remote.size).to.be.at.most(last);

      // It said so in its logs: a warning when Redis went, the loss counted when it came back.
      const text = s0.logs.map((l) => `${l.level}: ${l.text}`).join('\n');
      expect(text).to.match(/warn: message queue redis:\/\/127\.0\.0\.1:\d+\/0 .*reconnecting/);
      expect(text).to.match(/info: message queue .* is back; \d+ messages were lost/);
      expect(s0.logs.filter((l) => l.level === 'error')).to.deep.equal([]);
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
      pair = await Pair.fork(`amqp://guest:guest@127.0.0.1:${r.port}/`, 'amqp-absent');
      const [s0, s1] = pair.servers;
      const a = await pair.connect(0);
      const b = await pair.connect(1);
      for (let n = 0; n < 3; n++) await s0.emit('tick', [n]);
      await eventually(() => ticks(a).length === 3, 3000);
      expect(ticks(a)).to.deep.equal([0, 1, 2]);
      expect(await ackOf(a, 'whoami')).to.deep.equal([0]);
      const absent = await s0.stats();
      expect(absent.connected).to.equal(false);
      expect(absent.lost).to.equal(3);
      expect(absent.published).to.equal(0);
      expect(s0.logs.some((l) => l.level === 'warn' && /reconnecting/.test(l.text))).to.equal(true);
      pair.expectAlive();

      await r.listen();
      const up = await eventually(
        async () => {
          const [x, y] = await Promise.all([s0.stats(), s1.stats()]);
          return x.connected && y.connected;
        },
        10_000,
        50,
      );
      expect(up, 'both servers connected once the broker is there').to.equal(true);
      expect((await s0.stats()).reconnects).to.equal(1);
      expect(await resumes(s0, b, 2), 'server 0 → client of server 1').to.equal(true);
      expect(await resumes(s1, a, 3_000_000), 'server 1 → client of server 0').to.equal(true);
      expect(ticks(b).filter((t) => t < 3)).to.deep.equal([]);
      expect(
        s0.logs.some((l) => l.level === 'info' && /is back; 3 messages were lost/.test(l.text)),
      ).to.equal(true);
      pair.expectAlive();
    });

    it('survives the broker connection being cut during traffic, counts lost messages and resumes', async function () {
      const r = relay as Relay;
      await r.listen();
      pair = await Pair.fork(`amqp://guest:guest@127.0.0.1:${r.port}/`, 'amqp-cut');
      const [s0, s1] = pair.servers;
      const a = await pair.connect(0);
      const b = await pair.connect(1);
      await s0.emit('tick', [-1]);
      await eventually(() => ticks(b).includes(-1), 3000);
      expect(ticks(b)).to.deep.equal([-1]);
      expect(r.connections).to.be.at.least(2);

      const flow = traffic(s0, 0);
      await delay(200);
      await r.cut();
      await eventually(async () => (await s0.stats()).lost > 0, 3000);
      const before = ticks(a).length;
      await delay(400);
      expect(ticks(a).length, 'local ticks while the broker is away').to.be.greaterThan(before);
      expect(await ackOf(b, 'whoami')).to.deep.equal([1]);
      const away = await s0.stats();
      expect(away.connected).to.equal(false);
      expect(away.lost).to.be.greaterThan(0);

      await r.listen();
      const back = await bothReconnected(s0, s1);
      expect(back, 'both servers reconnected').to.equal(true);
      const last = await flow.stop();
      expect(await resumes(s0, b, last), 'server 0 → client of server 1').to.equal(true);
      expect(await resumes(s1, a, last + 2_000_000), 'server 1 → client of server 0').to.equal(
        true,
      );
      const local = ticks(a).filter((t) => t >= 0 && t < last);
      expect(local).to.deep.equal(Array.from({ length: last }, (_, i) => i));
      const remote = new Set(ticks(b).filter((t) => t >= 0 && t < last));
      expect(remote.size).to.be.lessThan(last);
      expect(s0.logs.filter((l) => l.level === 'error')).to.deep.equal([]);
      pair.expectAlive();
    });
  });
});
