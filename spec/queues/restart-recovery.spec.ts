/**
 * Connection state recovery with its sessions kept in Redis (`store: 'redis'`): real server
 * processes on the real Redis, an official socket.io-client through a TCP relay (a load
 * balancer). A session now outlives the process that kept it: the client comes back after its
 * server was restarted gracefully (even the only one), or on another process, and gets its
 * sid, rooms, session and every packet sent to its rooms meanwhile, in order, once. Past
 * maxDisconnectionDuration it connects fresh.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { SocketIO } from '../../lib/index.js';
import { delay, waitFor } from '../helpers/raw-engine.js';
import type { SioPeer } from '../helpers/socketio.js';
import { Cluster, REDIS_URL, Relay, ServerProcess, ackOf, portOpen } from '../helpers/queues.js';
import type { ServerSetup } from '../helpers/queues.js';
import { cutAndWait, range, ticks, viaRelay, welcome } from '../helpers/recovery.js';

/** Long enough for a restart on a busy 2-core machine (a process fork and start under load). */
const WINDOW_SECONDS = 8;
const SETUP: ServerSetup = {
  recovery: true,
  recoveryStore: 'redis',
  recoverySeconds: WINDOW_SECONDS,
};

/** Waits for `count` ticks, then a quiet moment (duplicates would have come by then). */
async function receiveTicks(peer: SioPeer, count: number): Promise<void> {
  const arrived = await waitFor(() => peer.inbox('tick').items.length >= count, 5000);
  expect(arrived, `${count} ticks, got ${peer.inbox('tick').items.length}`).to.equal(true);
  await delay(200);
}

describe('connection state recovery kept in Redis, across processes and restarts', function () {
  let cluster: Cluster;
  let redis: Redis;
  let relay: Relay | undefined;
  const peers: SioPeer[] = [];
  /** Processes a test started, killed after it. */
  const started: ServerProcess[] = [];

  before(async function () {
    if (!(await portOpen(6379)))
      throw new Error('Redis is not listening on 127.0.0.1:6379; run scripts/services.sh');
    redis = new Redis(REDIS_URL);
    cluster = await Cluster.start(REDIS_URL, 2, 'rr', SETUP);
  });

  after(async function () {
    await cluster?.kill();
    await redis?.quit();
  });

  beforeEach(async function () {
    await cluster.restartMet('rr');
  });

  afterEach(async function () {
    for (const peer of peers.splice(0)) peer.socket.disconnect();
    await relay?.cut();
    relay = undefined;
    await Promise.all(started.splice(0).map((s) => s.kill()));
    // The channel starts every key of the run: sessions and the stream go with it.
    const keys = await redis.keys(`${cluster.channel}#*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  /** A client of process `i` through a new relay, in room `r`, with a session. */
  async function clientOf(i: number): Promise<{ peer: SioPeer; relay: Relay; sid: string }> {
    const fresh = await Relay.create(cluster.server(i).port);
    relay = fresh;
    await fresh.listen();
    const peer = await viaRelay(fresh);
    peers.push(peer);
    const [sid, recovered, index] = await welcome(peer);
    expect([recovered, index]).to.deep.equal([false, i]);
    await ackOf(peer, 'join', 'r');
    await ackOf(peer, 'remember', { level: 3 });
    return { peer, relay: fresh, sid };
  }

  /** A new server process on the cluster's channel (a restart of `index`). */
  async function startAnother(index: number): Promise<ServerProcess> {
    const server = await ServerProcess.fork(index, REDIS_URL, cluster.channel, SETUP);
    started.push(server);
    return server;
  }

  /** The client is back as `sid`, recovered, on `index`, in room r, with its session. */
  async function expectRecovered(peer: SioPeer, sid: string, index: number): Promise<void> {
    const [sidAgain, recovered, indexNow] = await welcome(peer);
    expect([sidAgain, recovered, indexNow]).to.deep.equal([sid, true, index]);
    expect(peer.socket.recovered).to.equal(true);
    expect((await ackOf(peer, 'rooms'))[0]).to.have.members([sid, 'r']);
    expect(await ackOf(peer, 'remember', 'again')).to.deep.equal([true]);
  }

  /** Emits ticks from..to to room r, half from process 0 and half from process 1. */
  async function emitFromBoth(from: number, to: number): Promise<void> {
    const middle = from + (to - from) / 2;
    for (const n of range(from, middle)) await cluster.server(0).emit('tick', [n], { to: 'r' });
    // Process 1's emits reach process 0 through Redis, after its own.
    await delay(200);
    for (const n of range(middle, to)) await cluster.server(1).emit('tick', [n], { to: 'r' });
    await delay(200);
  }

  for (const back of ['on the other process', 'on its restarted process'] as const)
    it(`a client cut off from process 0 and back ${back} gets the 100 packets it missed, in order, once`, async function () {
      const { peer, relay, sid } = await clientOf(0);
      for (const n of range(0, 10)) await cluster.server(0).emit('tick', [n], { to: 'r' });
      await receiveTicks(peer, 10);
      await cutAndWait(relay, peer, sid, cluster.server(0));
      await emitFromBoth(10, 110);

      let index = 1;
      if (back === 'on its restarted process') {
        // A graceful restart: the old process stops, a new one starts on the same queue.
        await cluster.server(0).request({ op: 'stop' });
        relay.target = (await startAnother(2)).port;
        index = 2;
      } else relay.target = cluster.server(1).port;
      await relay.listen();
      await expectRecovered(peer, sid, index);
      await receiveTicks(peer, 110);
      expect(ticks(peer)).to.deep.equal(range(0, 110));

      // Live again: an emit from process 1 reaches it once.
      await cluster.server(1).emit('tick', [110], { to: 'r' });
      await receiveTicks(peer, 111);
      expect(ticks(peer)).to.deep.equal(range(0, 111));
    });

  it('a client back past maxDisconnectionDuration connects fresh', async function () {
    const { peer, relay, sid } = await clientOf(0);
    await cutAndWait(relay, peer, sid, cluster.server(0));
    await cluster.server(1).emit('tick', [0], { to: 'r' });
    await delay(WINDOW_SECONDS * 1000 + 500);
    relay.target = cluster.server(1).port;
    await relay.listen();
    const [sidNow, recovered, index] = await welcome(peer);
    expect([recovered, index]).to.deep.equal([false, 1]);
    expect(sidNow).to.not.equal(sid);
    expect(peer.socket.recovered).to.equal(false);
    expect((await ackOf(peer, 'rooms'))[0]).to.deep.equal([sidNow]);
    expect(peer.inbox('tick').items).to.deep.equal([]);
  });

  it('a connected client of the only process recovers across a graceful restart, with what was sent meanwhile', async function () {
    // Process 1 leaves: process 0 is the only server.
    await cluster.server(1).request({ op: 'stop' });
    const { peer, relay, sid } = await clientOf(0);
    for (const n of range(0, 10)) await cluster.server(0).emit('tick', [n], { to: 'r' });
    await receiveTicks(peer, 10);

    // SIGTERM's stop(): the client is cut with 'server shutdown', its session written first.
    await cluster.server(0).request({ op: 'stop' });
    expect(await waitFor(() => !peer.socket.connected, 3000), 'the client saw it').to.equal(true);
    // Nobody serves now; an external emitter on the queue sends to the room meanwhile.
    const emitter = new SocketIO({
      messageQueue: REDIS_URL,
      channel: cluster.channel,
      connectionStateRecovery: { store: 'redis' },
    });
    for (const n of range(10, 60)) emitter.emit('tick', n, { to: 'r' });
    await emitter.stop();

    relay.target = (await startAnother(3)).port;
    await expectRecovered(peer, sid, 3);
    await receiveTicks(peer, 60);
    expect(ticks(peer)).to.deep.equal(range(0, 60));
  });
});
