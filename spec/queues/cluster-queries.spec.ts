/**
 * Cluster-wide sockets and server-side events: three real server processes on Redis, then on
 * RabbitMQ, with official socket.io-client peers spread over them. fetchSockets, socketsJoin,
 * socketsLeave, disconnectSockets and emitWithAck reach the clients of every process; a
 * fetched socket of another process can be acted on; serverSideEmit reaches the other
 * processes' onServerSide handlers and serverSideEmitWithAck collects their answers. Every
 * query has a timeout, and a process that dies mid-query is not waited for.
 */
import { expect } from 'chai';
import { delay } from '../helpers/raw-engine.js';
import { within } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';
import {
  BROKERS,
  Cluster,
  ServerProcess,
  ackOf,
  eventually,
  portOpen,
  publishRaw,
  received,
  settle,
  uniqueChannel,
} from '../helpers/queues.js';

interface Plain {
  id: string;
  namespace: string;
  rooms: string[];
  data: Record<string, unknown>;
  address: string;
  recovered: boolean;
}

/** The sid a client has on the server (socket.io-client's `socket.id`). */
function sid(peer: SioPeer): string {
  const id = peer.socket.id;
  if (id === undefined) throw new Error('the client has no sid');
  return id;
}

/** Waits until every server counts the other `n` processes (heartbeats exchanged). */
async function peersCounted(cluster: Cluster, n: number): Promise<void> {
  const ok = await eventually(async () => {
    const counts = await Promise.all(cluster.servers.map((s) => s.request({ op: 'peers' })));
    return counts.every((c) => c === n);
  }, 5000);
  expect(ok, `every process counts ${n} others`).to.equal(true);
}

for (const broker of BROKERS) {
  describe(`cluster queries on ${broker.name}: three processes`, function () {
    let cluster: Cluster;

    before(async function () {
      if (!(await portOpen(broker.port)))
        throw new Error(
          `${broker.name} is not listening on 127.0.0.1:${broker.port}; run scripts/services.sh`,
        );
      cluster = await Cluster.start(broker.url, 3, `cq-${broker.name.toLowerCase()}`);
    });

    after(async function () {
      await cluster?.kill();
    });

    beforeEach(async function () {
      await cluster.restart(`cq-${broker.name.toLowerCase()}`);
      await peersCounted(cluster, 2);
    });

    afterEach(function () {
      cluster.disconnectPeers();
    });

    /** A test that also fails when a server process logged an error during it. */
    function it(title: string, body: (this: Mocha.Context) => Promise<void>): void {
      globalThis.it(title, async function () {
        await body.call(this);
        for (const server of cluster.servers) {
          const errors = server.logs.filter((l) => l.level === 'error');
          expect(errors, `errors logged by server ${server.index}`).to.deep.equal([]);
        }
      });
    }

    it('fetchSockets returns the clients of every process, with rooms, session and handshake', async function () {
      const groups = await cluster.spread(2);
      const [a, b] = groups[1] ?? [];
      if (a === undefined || b === undefined) throw new Error('no peers');
      await ackOf(a, 'join', 'blue');
      await ackOf(a, 'remember', { level: 7 });
      await ackOf(b, 'join', 'green');

      const all = (await cluster.server(0).request({ op: 'fetchSockets' })) as Plain[];
      expect(all.map((s) => s.id).sort()).to.deep.equal(groups.flat().map(sid).sort());
      const fetchedA = all.find((s) => s.id === sid(a));
      expect(fetchedA?.rooms).to.deep.equal([sid(a), 'blue'].sort());
      expect(fetchedA?.data).to.deep.equal({ remembered: { level: 7 } });
      expect(fetchedA?.namespace).to.equal('/');
      expect(fetchedA?.address).to.equal('127.0.0.1');
      expect(fetchedA?.recovered).to.equal(false);

      const blue = (await cluster
        .server(2)
        .request({ op: 'fetchSockets', room: 'blue' })) as Plain[];
      expect(blue.map((s) => s.id)).to.deep.equal([sid(a)]);
      const local = (await cluster
        .server(0)
        .request({ op: 'fetchSockets', local: true })) as Plain[];
      expect(local.map((s) => s.id).sort()).to.deep.equal((groups[0] ?? []).map(sid).sort());
    });

    it('socketsJoin and socketsLeave reach every process and resolve once all applied them', async function () {
      const peers = (await cluster.spread(2)).flat();
      await cluster.server(1).request({ op: 'sockets', fn: 'socketsJoin', rooms: ['all', 'x'] });
      // Resolved: every process has applied it, so a room emit from any process reaches all.
      await cluster.server(2).emit('news', ['to all'], { to: 'all' });
      await settle(peers, 'news', 1);
      for (const peer of peers) expect(received(peer, 'news')).to.deep.equal([['to all']]);

      const [first] = peers;
      if (first === undefined) throw new Error('no peers');
      await ackOf(first, 'join', 'special');
      await cluster
        .server(2)
        .request({ op: 'sockets', fn: 'socketsLeave', to: 'special', rooms: ['all'] });
      const inAll = (await cluster
        .server(0)
        .request({ op: 'fetchSockets', room: 'all' })) as Plain[];
      expect(inAll.map((s) => s.id).sort()).to.deep.equal(peers.slice(1).map(sid).sort());
    });

    it('disconnectSockets disconnects the clients of a room on every process', async function () {
      const groups = await cluster.spread(2);
      const leaving = groups.map((g) => g[0]).filter((p): p is SioPeer => p !== undefined);
      for (const peer of leaving) await ackOf(peer, 'join', 'leaving');
      await cluster.server(0).request({ op: 'sockets', fn: 'disconnectSockets', to: 'leaving' });
      const reasons = await Promise.all(
        leaving.map((p) => within(p.disconnects.next(), 'a disconnect', 3000)),
      );
      expect(reasons).to.deep.equal(leaving.map(() => 'io server disconnect'));
      const left = (await cluster.server(1).request({ op: 'fetchSockets' })) as Plain[];
      expect(left).to.have.length(3);
    });

    it('io.to(room).except(room) skips the excepted members of every process', async function () {
      const groups = await cluster.spread(2);
      for (const group of groups) {
        const [inVip, plain] = group;
        if (inVip === undefined || plain === undefined) throw new Error('no peers');
        await ackOf(inVip, 'join', 'all');
        await ackOf(inVip, 'join', 'vip');
        await ackOf(plain, 'join', 'all');
      }
      await cluster.server(0).request({
        op: 'emitExcept',
        event: 'news',
        values: ['not vip'],
        to: 'all',
        except: 'vip',
      });
      const plain = groups.map((g) => g[1]).filter((p): p is SioPeer => p !== undefined);
      await settle(plain, 'news', 1);
      for (const group of groups) {
        expect(received(group[0] as SioPeer, 'news'), 'a vip').to.deep.equal([]);
        expect(received(group[1] as SioPeer, 'news'), 'not a vip').to.deep.equal([['not vip']]);
      }
    });

    it('emitWithAck collects the acks of the clients of every process', async function () {
      const peers = (await cluster.spread(2)).flat();
      peers.forEach((peer, i) =>
        peer.socket.on('vote', (_q: string, ack: (v: number) => void) => ack(i)),
      );
      const votes = (await cluster
        .server(1)
        .request({ op: 'emitWithAck', event: 'vote', values: ['lunch?'], timeout: 3 })) as number[];
      expect([...votes].sort()).to.deep.equal([0, 1, 2, 3, 4, 5]);
    });

    it('emitWithAck rejects naming how many clients of the cluster answered', async function () {
      const peers = (await cluster.spread(1)).flat();
      // The client of process 2 never answers.
      peers.forEach((peer, i) => {
        if (i !== 2) peer.socket.on('vote', (ack: (v: number) => void) => ack(i));
      });
      const error = await cluster
        .server(0)
        .request({ op: 'emitWithAck', event: 'vote', values: [], timeout: 0.5 })
        .then(
          () => undefined,
          (e: Error & { code?: string }) => e,
        );
      expect(error?.code).to.equal('SIO_ERR_TIMEOUT');
      expect(error?.message).to.contain('2 of 3 clients acknowledged "vote" within 0.5 s');
    });

    it('acts on a fetched socket of another process: emit, join, leave, emitWithAck, disconnect', async function () {
      const far = await cluster.connect(2);
      far.socket.on('ping?', (n: number, ack: (v: number) => void) => ack(n * 2));
      const id = sid(far);
      const server = cluster.server(0);
      await server.request({
        op: 'remoteSocket',
        sid: id,
        action: 'emit',
        values: ['hello', 1, 'a'],
      });
      await within(far.inbox('hello').next(), 'hello', 3000);
      expect(received(far, 'hello')).to.deep.equal([[1, 'a']]);

      // join and leave on a remote socket are messages to its process (as in socket.io, they
      // return before it applied them): its rooms change shortly after.
      const inVip = async (): Promise<boolean> =>
        ((await ackOf(far, 'rooms'))[0] as string[]).includes('vip');
      await server.request({ op: 'remoteSocket', sid: id, action: 'join', values: ['vip'] });
      expect(await eventually(inVip, 3000), 'joined vip').to.equal(true);
      await server.request({ op: 'remoteSocket', sid: id, action: 'leave', values: ['vip'] });
      expect(await eventually(async () => !(await inVip()), 3000), 'left vip').to.equal(true);

      const doubled = await server.request({
        op: 'remoteSocket',
        sid: id,
        action: 'emitWithAck',
        values: ['ping?', 21],
      });
      expect(doubled).to.equal(42);

      await server.request({ op: 'remoteSocket', sid: id, action: 'disconnect', values: [true] });
      expect(await within(far.disconnects.next(), 'a disconnect', 3000)).to.equal(
        'io server disconnect',
      );
    });

    it('serverSideEmit reaches the other processes, not the sender', async function () {
      await cluster.server(0).request({ op: 'serverSideEmit', event: 'note', values: ['hi', 2] });
      const ok = await eventually(async () => {
        const notes = await Promise.all(cluster.servers.map((s) => s.request({ op: 'notes' })));
        return JSON.stringify(notes) === JSON.stringify([[], [['hi', 2]], [['hi', 2]]]);
      }, 3000);
      expect(ok, 'processes 1 and 2 got the note once, process 0 none').to.equal(true);
    });

    it('serverSideEmitWithAck resolves with every other process answer', async function () {
      const answers = (await cluster
        .server(1)
        .request({ op: 'serverSideEmitWithAck', event: 'sum?', values: [10, 20] })) as number[];
      expect([...answers].sort()).to.deep.equal([30, 32]);
      const who = (await cluster
        .server(2)
        .request({ op: 'serverSideEmitWithAck', event: 'whoami?', values: [] })) as number[];
      expect([...who].sort()).to.deep.equal([0, 1]);
    });

    it("serverSideEmit with socket.io's callback gets (null, answers)", async function () {
      const [error, answers] = (await cluster
        .server(0)
        .request({ op: 'serverSideEmitCallback', event: 'whoami?', values: [] })) as [
        string | null,
        number[],
      ];
      expect(error).to.equal(null);
      expect([...answers].sort()).to.deep.equal([1, 2]);
    });

    it('serverSideEmitWithAck rejects after its timeout, naming how many processes answered', async function () {
      // slow? answers after 1500 ms; the timeout is 0.3 s.
      const error = await cluster
        .server(0)
        .request({ op: 'serverSideEmitWithAck', event: 'slow?', values: [1500], timeout: 0.3 })
        .then(
          () => undefined,
          (e: Error & { code?: string }) => e,
        );
      expect(error?.code).to.equal('MQ_ERR_TIMEOUT');
      expect(error?.message).to.contain(
        'serverSideEmitWithAck("slow?"): 0 of 2 processes answered within 0.3 s',
      );
    });

    it('a process killed mid-query is not waited for', async function () {
      // A fourth process on this test's channel, killed while the query waits for it.
      const extra = await ServerProcess.fork(3, cluster.url, cluster.channel);
      try {
        await peersCounted(cluster, 3);
        const started = Date.now();
        const pending = cluster
          .server(0)
          .request(
            { op: 'serverSideEmitWithAck', event: 'slow?', values: [800], timeout: 20 },
            25_000,
          );
        await delay(100);
        await extra.kill();
        const answers = (await pending) as number[];
        expect([...answers].sort()).to.deep.equal([1, 2]);
        // Not the 20 s timeout: the heartbeats (3 s without one) tell the process is gone.
        expect(Date.now() - started).to.be.below(8000);
      } finally {
        await extra.kill();
      }
    });

    it('a process that stops says goodbye: queries stop counting it at once', async function () {
      const extra = await ServerProcess.fork(3, cluster.url, cluster.channel);
      await peersCounted(cluster, 3);
      await extra.request({ op: 'stop' });
      await extra.kill();
      await peersCounted(cluster, 2);
      const who = (await cluster
        .server(0)
        .request({ op: 'serverSideEmitWithAck', event: 'whoami?', values: [] })) as number[];
      expect([...who].sort()).to.deep.equal([1, 2]);
    });

    it('a query read after its deadline is not applied (RabbitMQ keeps one for a process that was away)', async function () {
      const [[a]] = (await cluster.spread(1)) as [SioPeer[]];
      const query = (room: string, expires: number): string =>
        JSON.stringify({
          method: 'sa_query',
          host_id: 'f'.repeat(32),
          id: 1,
          expires,
          request: {
            kind: 'sockets',
            target: { nsp: '/', to: null, except: null },
            op: 'join',
            rooms: [room],
            close: false,
          },
        });
      // Published as a process gone for 10 s would have left it; then one still on time.
      await publishRaw(cluster.url, cluster.channel, query('stale', Date.now() - 10_000));
      await publishRaw(cluster.url, cluster.channel, query('fresh', Date.now() + 5_000));
      const joined = await eventually(
        async () => ((await ackOf(a as SioPeer, 'rooms'))[0] as string[]).includes('fresh'),
        3000,
      );
      expect(joined, 'the query on time applied').to.equal(true);
      const rooms = (await ackOf(a as SioPeer, 'rooms'))[0] as string[];
      expect([...rooms].sort()).to.deep.equal([sid(a as SioPeer), 'fresh'].sort());
    });
  });
}

describe('cluster queries without a message queue', function () {
  it('a lone process: serverSideEmitWithAck resolves with no answers', async function () {
    const { SocketIO } = await import('../../lib/index.js');
    const io = new SocketIO();
    expect(await io.serverSideEmitWithAck('anyone?')).to.deep.equal([]);
    expect(io.serverSideEmit('note', 1)).to.equal(true);
  });

  it('a channel with one process: queries resolve at once with its own clients', async function () {
    const { SocketIO } = await import('../../lib/index.js');
    const [broker] = BROKERS;
    const io = new SocketIO({ messageQueue: broker.url, channel: uniqueChannel('cq-alone') });
    try {
      await io.run(undefined, { host: '127.0.0.1', port: 0 });
      const started = Date.now();
      expect(await io.fetchSockets()).to.deep.equal([]);
      expect(await io.serverSideEmitWithAck('anyone?')).to.deep.equal([]);
      expect(Date.now() - started).to.be.below(1000);
    } finally {
      await io.stop();
    }
  });
});
