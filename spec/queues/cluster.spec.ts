/**
 * Three server processes sharing their clients through a real message queue,
 * once on Redis and once on RabbitMQ, plus an external emitter (a SocketIO with
 * a queue and no app, in this process). Clients are official socket.io-client
 * peers over WebSocket, spread over the processes.
 *
 * The processes are forked once per broker and routing mode (everything on the
 * channel, and room-aware routing, where an emit to one room travels on that
 * room's route); every test restarts their servers on a channel of its own, so no
 * test sees another's messages.
 */
import { expect } from 'chai';
import { SocketIO, args } from '../../lib/index.js';
import { delay, waitFor } from '../helpers/raw-engine.js';
import { bytesOf, within } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';
import {
  BROKERS,
  Cluster,
  ackOf,
  eventually,
  portOpen,
  received,
  settle,
} from '../helpers/queues.js';

/** Asks a client's own server for its rooms, until `check` holds (or 3 s pass). */
async function roomsUntil(peer: SioPeer, check: (rooms: string[]) => boolean): Promise<string[]> {
  let rooms: string[] = [];
  await eventually(async () => {
    rooms = (await ackOf(peer, 'rooms'))[0] as string[];
    return check(rooms);
  }, 3000);
  return rooms;
}

for (const [broker, routing] of BROKERS.flatMap((b) =>
  (['channel', 'rooms'] as const).map((r) => [b, r] as const),
)) {
  describe(`message queue on ${broker.name}, routing '${routing}': three processes`, function () {
    let cluster: Cluster;

    before(async function () {
      if (!(await portOpen(broker.port)))
        throw new Error(
          `${broker.name} is not listening on 127.0.0.1:${broker.port}; run scripts/services.sh`,
        );
      cluster = await Cluster.start(broker.url, 3, broker.name.toLowerCase(), {
        queueOptions: { routing },
      });
    });

    after(async function () {
      await cluster?.kill();
    });

    beforeEach(async function () {
      await cluster.restart(broker.name.toLowerCase());
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

    it('serves clients in each of the three processes', async function () {
      const groups = await cluster.spread(2);
      const answers = await Promise.all(groups.flat().map((p) => ackOf(p, 'whoami')));
      expect(answers).to.deep.equal([[0], [0], [1], [1], [2], [2]]);
      const ports = new Set(cluster.servers.map((s) => s.port));
      expect(ports.size).to.equal(3);
    });

    it('delivers io.emit() broadcasts to every client of every process exactly once, in order', async function () {
      const peers = (await cluster.spread(2)).flat();
      for (let n = 0; n < 5; n++) await cluster.server(0).emit('news', [n]);
      await settle(peers, 'news', 5);
      for (const peer of peers)
        expect(received(peer, 'news')).to.deep.equal([[0], [1], [2], [3], [4]]);
    });

    it('delivers a handler broadcast to every client exactly once, the sender included', async function () {
      const groups = await cluster.spread(2);
      const peers = groups.flat();
      const sender = groups[1]?.[0] as SioPeer;
      expect(await ackOf(sender, 'shout', 'hello all')).to.deep.equal([true]);
      await settle(peers, 'shout', 1);
      for (const peer of peers) expect(received(peer, 'shout')).to.deep.equal([['hello all', 1]]);
    });

    it('routes an emit from one process to a room joined in others', async function () {
      const [g0, g1, g2] = await cluster.spread(2);
      const [a, outsider0] = g0 as SioPeer[];
      const [speaker, outsider1] = g1 as SioPeer[];
      const [c, outsider2] = g2 as SioPeer[];
      expect(await ackOf(a as SioPeer, 'join', 'blue')).to.deep.equal([[a?.id, 'blue']]);
      expect(await ackOf(c as SioPeer, 'join', 'blue')).to.deep.equal([[c?.id, 'blue']]);
      await ackOf(speaker as SioPeer, 'say', { room: 'blue', text: 'to blue' });
      await settle([a, c] as SioPeer[], 'said', 1);
      expect(received(a as SioPeer, 'said')).to.deep.equal([['to blue', 1]]);
      expect(received(c as SioPeer, 'said')).to.deep.equal([['to blue', 1]]);
      for (const peer of [speaker, outsider0, outsider1, outsider2] as SioPeer[])
        expect(received(peer, 'said'), 'a client not in the room').to.deep.equal([]);

      // The server API too: process 2 emits to the room; process 1 has no member.
      await cluster.server(2).emit('bulletin', ['blue news']);
      await settle([a, c] as SioPeer[], 'bulletin', 1);
      expect(received(a as SioPeer, 'bulletin')).to.deep.equal([['blue news']]);
      expect(received(c as SioPeer, 'bulletin')).to.deep.equal([['blue news']]);
      // That emit was to everyone (no room): every client has one.
      for (const peer of [speaker, outsider0, outsider1, outsider2] as SioPeer[])
        expect(received(peer, 'bulletin')).to.deep.equal([['blue news']]);
      await cluster.server(2).emit('bulletin', ['blue only'], { to: 'blue' });
      await settle([a, c] as SioPeer[], 'bulletin', 2);
      expect(received(a as SioPeer, 'bulletin')).to.have.length(2);
      expect(received(outsider1 as SioPeer, 'bulletin')).to.have.length(1);
    });

    it('lets a process that has no client in the target room skip the message after routing', async function () {
      const [g0, g1] = await cluster.spread(1);
      const a = g0?.[0] as SioPeer;
      await ackOf(a, 'join', 'only-here');
      const before = await cluster.server(1).stats();
      await cluster.server(2).emit('narrow', ['x'], { to: 'only-here' });
      await settle([a], 'narrow', 1);
      expect(received(a, 'narrow')).to.deep.equal([['x']]);
      expect(received(g1?.[0] as SioPeer, 'narrow')).to.deep.equal([]);
      const after = await cluster.server(1).stats();
      // On the channel, process 1 receives it and finds no target; routed, it never receives it.
      const reached = routing === 'channel' ? 1 : 0;
      expect(after.received - before.received).to.equal(reached);
      expect(after.skipped - before.skipped).to.equal(reached);
    });

    it('joins and leaves a room for a client owned by another process', async function () {
      const [g0, g1, g2] = await cluster.spread(1);
      const a = g0?.[0] as SioPeer;
      const b = g1?.[0] as SioPeer;
      const c = g2?.[0] as SioPeer;
      // b's process puts c (a client of process 2) in 'red'.
      expect(await ackOf(b, 'join-sid', c.id, 'red')).to.deep.equal([true]);
      const joined = await roomsUntil(c, (r) => r.includes('red'));
      expect([...joined].sort()).to.deep.equal([c.id, 'red'].sort());
      // With routing, process 2 listens to the room's route from here on.
      await cluster.server(2).request({ op: 'flush' });
      await cluster.server(0).emit('alert', ['red alert'], { to: 'red' });
      await settle([c], 'alert', 1);
      expect(received(c, 'alert')).to.deep.equal([['red alert']]);
      expect(received(a, 'alert')).to.deep.equal([]);
      expect(received(b, 'alert')).to.deep.equal([]);

      expect(await ackOf(b, 'leave-sid', c.id, 'red')).to.deep.equal([true]);
      expect(await roomsUntil(c, (r) => !r.includes('red'))).to.deep.equal([c.id]);
      await cluster.server(0).emit('alert', ['second'], { to: 'red' });
      await cluster.server(0).emit('alert', ['fence']);
      await settle([a, b, c], 'alert', 1);
      expect(received(c, 'alert')).to.deep.equal([['red alert'], ['fence']]);
    });

    it('honours skipSid and includeSelf across processes', async function () {
      const [g0, g1, g2] = await cluster.spread(1);
      const a = g0?.[0] as SioPeer;
      const b = g1?.[0] as SioPeer;
      const c = g2?.[0] as SioPeer;
      for (const p of [a, b, c]) await ackOf(p, 'join', 'green');

      // a (process 0) skips c (process 2).
      await ackOf(a, 'say', { room: 'green', text: 'not for c', skipSid: c.id });
      // b (process 1) leaves itself out.
      await ackOf(b, 'say', { room: 'green', text: 'not for b', includeSelf: false });
      // The server API: process 1 skips a (process 0).
      await cluster.server(1).emit('said', ['not for a', 9], { to: 'green', skipSid: a.id });
      await settle([a, b, c], 'said', 2);
      // Each client gets exactly these two, once each. Their order is not defined: one came
      // through the queue from another process, the other from the client's own process.
      const sorted = (p: SioPeer): unknown[] =>
        [...received(p, 'said')].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
      expect(sorted(a)).to.deep.equal([
        ['not for b', 1],
        ['not for c', 0],
      ]);
      expect(sorted(b)).to.deep.equal([
        ['not for a', 9],
        ['not for c', 0],
      ]);
      expect(sorted(c)).to.deep.equal([
        ['not for a', 9],
        ['not for b', 1],
      ]);
    });

    it('closes a room in every process', async function () {
      const [g0, g1, g2] = await cluster.spread(1);
      const peers = [g0?.[0], g1?.[0], g2?.[0]] as SioPeer[];
      for (const p of peers) await ackOf(p, 'join', 'temp');
      // The server API in process 1.
      await cluster.server(1).request({ op: 'closeRoom', room: 'temp' });
      for (const p of peers)
        expect(await roomsUntil(p, (r) => !r.includes('temp'))).to.deep.equal([p.id]);
      await cluster.server(2).emit('after', ['closed?'], { to: 'temp' });
      await cluster.server(2).emit('after', ['fence']);
      await settle(peers, 'after', 1);
      for (const p of peers) expect(received(p, 'after')).to.deep.equal([['fence']]);

      // The context function in a handler of process 0.
      for (const p of peers) await ackOf(p, 'join', 'temp2');
      expect(await ackOf(peers[0] as SioPeer, 'close', 'temp2')).to.deep.equal([true]);
      for (const p of peers)
        expect(await roomsUntil(p, (r) => !r.includes('temp2'))).to.deep.equal([p.id]);
    });

    it('disconnects a client owned by another process', async function () {
      const [g0, g1, g2] = await cluster.spread(1);
      const a = g0?.[0] as SioPeer;
      const b = g1?.[0] as SioPeer;
      const c = g2?.[0] as SioPeer;
      expect(await ackOf(a, 'kick', c.id)).to.deep.equal([true]);
      expect(
        await within(c.disconnects.next(), 'the kicked client to be disconnected', 3000),
      ).to.equal('io server disconnect');
      expect(a.socket.connected).to.equal(true);
      expect(b.socket.connected).to.equal(true);
      expect(await ackOf(b, 'whoami')).to.deep.equal([1]);
      // Process 2 forgot the client: a broadcast reaches the other two only.
      await cluster.server(2).emit('still-here', ['?']);
      await settle([a, b], 'still-here', 1);
      expect(received(a, 'still-here')).to.deep.equal([['?']]);
      expect(received(c, 'still-here')).to.deep.equal([]);
    });

    it('resolves an emit callback with the ack of a client owned by another process', async function () {
      const [, g1] = await cluster.spread(1);
      const b = g1?.[0] as SioPeer;
      b.socket.on('question', (q: string, n: number, respond: (...values: unknown[]) => void) =>
        respond(`answer to ${q}`, n + 1, { from: 'b' }),
      );
      const acked = await cluster.server(0).request({
        op: 'emitAck',
        event: 'question',
        values: ['why', 41],
        sid: b.id,
        timeoutMs: 5000,
      });
      expect(acked).to.deep.equal(['answer to why', 42, { from: 'b' }]);
    });

    it('answers io.call() and a handler call() across processes', async function () {
      const [g0, g1, g2] = await cluster.spread(1);
      const a = g0?.[0] as SioPeer;
      const b = g1?.[0] as SioPeer;
      const c = g2?.[0] as SioPeer;
      a.socket.on('question', (q: string, respond: (...values: unknown[]) => void) =>
        respond('a says', q),
      );
      c.socket.on('question', (q: string, respond: (...values: unknown[]) => void) =>
        respond(`c heard ${q}`),
      );
      // io.call() in process 2 to a client of process 0.
      expect(
        await cluster
          .server(2)
          .request({ op: 'call', event: 'question', values: ['ping'], sid: a.id, timeout: 5 }),
      ).to.deep.equal(['a says', 'ping']);
      // call() inside a handler of process 1 to a client of process 2.
      expect(await ackOf(b, 'ask', c.id, 'hello?')).to.deep.equal([['c heard hello?']]);
      // Nobody has that sid: the call times out.
      const error = await cluster
        .server(0)
        .request({ op: 'call', event: 'question', values: [], sid: 'nobody', timeout: 0.3 })
        .then(
          () => undefined,
          (e: unknown) => e as Error & { code?: string },
        );
      expect(error?.message).to.match(/CallTimeoutError/);
    });

    it('carries binary arguments across processes', async function () {
      const [g0, g1, g2] = await cluster.spread(1);
      const peers = [g0?.[0], g1?.[0], g2?.[0]] as SioPeer[];
      for (const p of peers) await ackOf(p, 'join', 'bin');
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      await ackOf(peers[1] as SioPeer, 'say', { room: 'bin', text: bytes });
      await settle(peers, 'said', 1);
      for (const p of peers) {
        const [[data, from]] = received(p, 'said') as [[unknown, unknown]];
        expect(bytesOf(data)).to.deep.equal([0, 1, 2, 250, 255]);
        expect(from).to.equal(1);
      }
    });

    it('lets an external emitter (no app) reach clients of every process', async function () {
      const peers = (await cluster.spread(2)).flat();
      const ext = new SocketIO({ messageQueue: cluster.url, channel: cluster.channel });
      try {
        await ackOf(peers[1] as SioPeer, 'join', 'ext-room');
        await ackOf(peers[4] as SioPeer, 'join', 'ext-room');
        ext.emit('from-outside', { n: 1 });
        ext.emit('from-outside', args('several', 2));
        ext.send('plain message');
        ext.emit('roomy', 'only the room', { to: 'ext-room' });
        await settle(peers, 'from-outside', 2);
        await settle([peers[1], peers[4]] as SioPeer[], 'roomy', 1, 0);
        for (const p of peers) {
          expect(received(p, 'from-outside')).to.deep.equal([[{ n: 1 }], ['several', 2]]);
          expect(received(p, 'message')).to.deep.equal([['plain message']]);
        }
        for (const [i, p] of peers.entries())
          expect(received(p, 'roomy'), `client ${i}`).to.deep.equal(
            i === 1 || i === 4 ? [['only the room']] : [],
          );

        ext.closeRoom('ext-room');
        for (const p of [peers[1], peers[4]] as SioPeer[])
          expect(await roomsUntil(p, (r) => !r.includes('ext-room'))).to.deep.equal([p.id]);

        const stats = ext.queueStats();
        expect(stats?.published).to.equal(5);
        expect(stats?.lost).to.equal(0);
        // It never subscribes: nothing comes back to it.
        expect(stats?.received).to.equal(0);
      } finally {
        await ext.stop();
      }
    });

    it('keeps ignoreQueue emits and closeRoom in their own process', async function () {
      const groups = await cluster.spread(2);
      const peers = groups.flat();
      const local = groups[1] as SioPeer[];
      await cluster.server(1).emit('quiet', ['local only'], { ignoreQueue: true });
      expect(await ackOf(local[0] as SioPeer, 'local-shout', 'handler local')).to.deep.equal([
        true,
      ]);
      await cluster.server(1).emit('quiet', ['fence']);
      await settle(peers, 'quiet', 1);
      for (const p of peers)
        expect(received(p, 'quiet')).to.deep.equal(
          local.includes(p) ? [['local only'], ['fence']] : [['fence']],
        );
      for (const p of peers)
        expect(received(p, 'local-shout')).to.deep.equal(
          local.includes(p) ? [['handler local', 1]] : [],
        );

      // closeRoom with ignoreQueue empties the room in process 1 only.
      for (const p of peers) await ackOf(p, 'join', 'kept');
      await cluster.server(1).request({ op: 'closeRoom', room: 'kept', ignoreQueue: true });
      await cluster.server(0).emit('kept-check', ['x'], { to: 'kept' });
      const others = peers.filter((p) => !local.includes(p));
      await settle(others, 'kept-check', 1);
      for (const p of peers)
        expect(received(p, 'kept-check')).to.deep.equal(local.includes(p) ? [] : [['x']]);
    });

    it('delivers concurrent broadcasts from all three processes to every client exactly once', async function () {
      const peers = (await cluster.spread(1)).flat();
      const sends: Promise<void>[] = [];
      for (let n = 0; n < 20; n++) sends.push(cluster.server(n % 3).emit('stream', [n]));
      await Promise.all(sends);
      await waitFor(() => peers.every((p) => received(p, 'stream').length >= 20), 5000);
      await delay(300);
      for (const p of peers) {
        const values = received(p, 'stream').map(([v]) => v as number);
        expect([...values].sort((x, y) => x - y)).to.deep.equal(
          Array.from({ length: 20 }, (_, i) => i),
        );
      }
    });
  });
}
