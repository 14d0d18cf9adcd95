/**
 * Connection state recovery across processes: two real server processes on Redis, then on
 * RabbitMQ, with recovery on; an official socket.io-client reaches them through a TCP relay
 * (a load balancer). The client is cut off from process 0, 100 packets are emitted to its
 * room meanwhile (half by process 0, half by process 1), and the relay sends it back to
 * process 1: process 0 hands the session over, and the client gets its sid, its rooms, its
 * session and all 100 packets, in order, once.
 */
import { expect } from 'chai';
import { delay, waitFor } from '../helpers/raw-engine.js';
import type { SioPeer } from '../helpers/socketio.js';
import { BROKERS, Cluster, Relay, ackOf, portOpen } from '../helpers/queues.js';
import { cutAndWait as cutRelay, range, ticks, viaRelay, welcome } from '../helpers/recovery.js';

interface Plain {
  id: string;
}

for (const broker of BROKERS) {
  describe(`connection state recovery across processes on ${broker.name}`, function () {
    let cluster: Cluster;
    let relay: Relay | undefined;
    const peers: SioPeer[] = [];

    before(async function () {
      if (!(await portOpen(broker.port)))
        throw new Error(
          `${broker.name} is not listening on 127.0.0.1:${broker.port}; run scripts/services.sh`,
        );
      cluster = await Cluster.start(broker.url, 2, `cr-${broker.name.toLowerCase()}`, {
        recovery: true,
      });
    });

    after(async function () {
      await cluster?.kill();
    });

    beforeEach(async function () {
      await cluster.restartMet(`cr-${broker.name.toLowerCase()}`);
    });

    afterEach(async function () {
      for (const peer of peers.splice(0)) peer.socket.disconnect();
      await relay?.cut();
      relay = undefined;
    });

    /** A client of process 0 through a new relay (kept in `relay`). */
    async function clientOfProcess0(): Promise<{ peer: SioPeer; relay: Relay }> {
      const fresh = await Relay.create(cluster.server(0).port);
      relay = fresh;
      await fresh.listen();
      const peer = await viaRelay(fresh);
      peers.push(peer);
      return { peer, relay: fresh };
    }

    /** Cuts the relay and waits until process `owner` let the client's socket go. */
    async function cutAndWait(peer: SioPeer, sid: string, owner: number): Promise<void> {
      if (relay !== undefined) await cutRelay(relay, peer, sid, cluster.server(owner));
    }

    it('a client cut off from one process and back on another gets its sid, rooms, session and the 100 packets it missed, in order, once', async function () {
      const { peer, relay } = await clientOfProcess0();
      const [sid, recovered, index] = await welcome(peer);
      expect([recovered, index]).to.deep.equal([false, 0]);
      await ackOf(peer, 'join', 'r');
      await ackOf(peer, 'remember', { level: 3 });

      await cutAndWait(peer, sid, 0);
      for (const n of range(0, 50)) await cluster.server(0).emit('tick', [n], { to: 'r' });
      // Process 1's emits reach process 0 through the broker, after its own.
      await delay(300);
      for (const n of range(50, 100)) await cluster.server(1).emit('tick', [n], { to: 'r' });
      await delay(300);

      // The load balancer sends the client to process 1 now.
      relay.target = cluster.server(1).port;
      await relay.listen();
      const [sidAgain, recoveredNow, indexNow] = await welcome(peer);
      expect([sidAgain, recoveredNow, indexNow]).to.deep.equal([sid, true, 1]);
      expect(peer.socket.recovered).to.equal(true);
      const arrived = await waitFor(() => peer.inbox('tick').items.length >= 100, 5000);
      expect(arrived, `100 ticks, got ${peer.inbox('tick').items.length}`).to.equal(true);
      await delay(200);
      expect(ticks(peer)).to.deep.equal(range(0, 100));
      expect((await ackOf(peer, 'rooms'))[0]).to.have.members([sid, 'r']);
      expect(await ackOf(peer, 'remember', 'again')).to.deep.equal([true]);

      // Live again, on process 1: an emit to the room from process 0 reaches it once.
      await cluster.server(0).emit('tick', [100], { to: 'r' });
      await waitFor(() => peer.inbox('tick').items.length >= 101, 3000);
      await delay(200);
      expect(ticks(peer)).to.deep.equal(range(0, 101));
      // The session left process 0: nobody keeps it twice.
      const everywhere = (await cluster.server(0).request({ op: 'fetchSockets' })) as Plain[];
      expect(everywhere.map((s) => s.id)).to.deep.equal([sid]);
    });

    it('emits that go on during the handover reach the client once, none lost, in each sender order', async function () {
      const { peer, relay } = await clientOfProcess0();
      const [sid] = await welcome(peer);
      await ackOf(peer, 'join', 'r');
      // Both processes emit to the room every 2 ms, before, during and after the cut.
      await Promise.all(
        cluster.servers.map((s) => s.request({ op: 'ticker', room: 'r', everyMs: 2 })),
      );
      await delay(200);
      await cutAndWait(peer, sid, 0);
      await delay(200);
      relay.target = cluster.server(1).port;
      await relay.listen();
      const [, recovered] = await welcome(peer);
      expect(recovered).to.equal(true);
      await delay(300);
      const sent = (await Promise.all(
        cluster.servers.map((s) => s.request({ op: 'ticker', room: 'r', everyMs: 0 })),
      )) as number[];
      await delay(300);
      const got = peer.inbox('tick').items.map((args) => String(args[0]));
      for (const [index, count] of sent.entries()) {
        const mine = got.filter((t) => t.startsWith(`${index}:`)).map((t) => Number(t.slice(2)));
        expect(mine, `the ticks of process ${index}`).to.deep.equal(range(0, count));
      }
    });

    it('a client whose process stopped meanwhile connects fresh on another (its session went with it)', async function () {
      const { peer, relay } = await clientOfProcess0();
      const [sid] = await welcome(peer);
      await cutAndWait(peer, sid, 0);
      // Past no window yet, but process 0 stops (its sessions go with it): process 1 has
      // nobody to ask, and the client connects fresh, with a new sid.
      await cluster.server(0).request({ op: 'stop' });
      relay.target = cluster.server(1).port;
      await relay.listen();
      const [sidNow, recovered, index] = await welcome(peer);
      expect(recovered).to.equal(false);
      expect(index).to.equal(1);
      expect(sidNow).to.not.equal(sid);
    });
  });
}
