/**
 * Sockets as objects: `io.fetchSockets()` (id, namespace, rooms, session as
 * `data`, handshake; emit, join, leave, disconnect, timeout().emitWithAck),
 * `io.socketsJoin`, `io.socketsLeave`, `io.disconnectSockets`, from outside
 * handlers and from inside them (in worker-pool mode, from a pool thread).
 * Every async mode, every transport of the official client.
 */
import { expect } from 'chai';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { OPERATOR_APP } from '../helpers/apps.js';
import { CLIENT_TRANSPORTS, SioHarness, syncAfter, within } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';
import { summaries } from '../fixtures/operator-handlers.js';
import { FetchedSocket } from '../../lib/index.js';

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`sockets as objects: fetchSockets, socketsJoin/Leave, disconnectSockets [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      let a: SioPeer;
      let b: SioPeer;
      let c: SioPeer;
      beforeEach(async function () {
        h = await SioHarness.withApp(asyncMode, transport, OPERATOR_APP);
        const peer = (name: string): Promise<SioPeer> =>
          h.connect('/', { query: { name }, auth: { token: `t-${name}` } });
        [a, b, c] = await Promise.all([peer('a'), peer('b'), peer('c')]);
        await Promise.all([
          a.emitAck('join', 'r1'),
          b.emitAck('join', 'r1', 'r2'),
          c.emitAck('join', 'r2'),
          a.emitAck('setUser', 'ada'),
        ]);
      });
      afterEach(() => h.stop());

      const expected = (peer: SioPeer, name: string, rooms: string[]): unknown => ({
        id: peer.id,
        namespace: '/',
        rooms: [peer.id, ...rooms].sort(),
        ...(name === 'a' ? { user: 'ada' } : {}),
        name,
        auth: { token: `t-${name}` },
        address: '127.0.0.1',
        issuedRecently: true,
      });

      it('fetchSockets describes the clients of a room, from outside and inside handlers', async function () {
        const r1 = [expected(a, 'a', ['r1']), expected(b, 'b', ['r1', 'r2'])].sort((x, y) =>
          String((x as { id: string }).id).localeCompare((y as { id: string }).id),
        );
        expect(summaries(await h.io.fetchSockets({ room: 'r1' }))).to.deep.equal(r1);
        expect(await c.emitAck('who', 'r1')).to.deep.equal([r1]);
        const everyone = await h.io.fetchSockets();
        expect(everyone.map((s) => s.id).sort()).to.deep.equal([a.id, b.id, c.id].sort());
        expect(everyone[0]).to.be.instanceOf(FetchedSocket);
        expect(await h.io.fetchSockets({ namespace: '/other' })).to.deep.equal([]);
      });

      it('a fetched socket emits, joins, leaves and waits for its ack', async function () {
        const [socket] = await h.io.fetchSockets({ room: c.id });
        socket?.emit('news', 'just c', 2);
        socket?.join(['r9', 'r8']);
        socket?.leave('r8');
        h.io.to('r9').emit('news', 'r9');
        h.io.to('r8').emit('news', 'r8');
        await syncAfter([], [a, b, c]);
        expect(c.inbox('news').items).to.deep.equal([['just c', 2], ['r9']]);
        expect(a.inbox('news').items).to.deep.equal([]);
        c.socket.on('question', (q: string, ack: (v: string) => void) => ack(`c:${q}`));
        expect(await socket?.timeout(5).emitWithAck('question', 'one')).to.equal('c:one');
        expect(await a.emitAck('askOne', c.id)).to.deep.equal(['c:solo']);
      });

      it('socketsJoin and socketsLeave move a room into another, from outside and inside handlers', async function () {
        await h.io.socketsJoin('g1', { to: 'r1' });
        expect(await c.emitAck('gather', 'r2', 'g2')).to.deep.equal([true]);
        h.io.to('g1').emit('news', 'g1');
        h.io.to('g2').emit('news', 'g2');
        await syncAfter([], [a, b, c]);
        expect([a, b, c].map((p) => p.inbox('news').items)).to.deep.equal([
          [['g1']],
          [['g1'], ['g2']],
          [['g2']],
        ]);
        await h.io.socketsLeave('g1');
        expect(await a.emitAck('scatter', 'r2', 'g2')).to.deep.equal([true]);
        h.io.to(['g1', 'g2']).emit('news', 'nobody');
        await syncAfter([], [a, b, c]);
        expect([a, b, c].map((p) => p.inbox('news').items.length)).to.deep.equal([1, 2, 1]);
      });

      it('serverSideEmit and serverSideEmitWithAck run from handlers; one process has no other to answer', async function () {
        expect(await a.emitAck('serverSide', 'load?')).to.deep.equal([[true, []]]);
        expect(await h.io.serverSideEmitWithAck('load?')).to.deep.equal([]);
        expect(() => h.io.serverSideEmit('connect')).to.throw(/"connect" is a reserved event name/);
      });

      it('disconnectSockets disconnects a room; with close, the whole connection', async function () {
        await h.io.disconnectSockets(false, { to: 'r2' });
        const reasons = await Promise.all([b, c].map((p) => p.disconnects.next('a disconnect')));
        expect(reasons).to.deep.equal(['io server disconnect', 'io server disconnect']);
        expect(a.socket.connected).to.equal(true);
        // d has '/' and '/other' on one connection: close ends both, not only the one kicked.
        const manager = h.manager();
        const d = h.managedPeer(manager, '/');
        const dOther = h.managedPeer(manager, '/other');
        await within(Promise.all([d.opened, dOther.opened]), "d's namespaces");
        expect(await a.emitAck('kick', d.id, true)).to.deep.equal([true]);
        expect(await d.disconnects.next('a disconnect')).to.equal('io server disconnect');
        expect(await dOther.disconnects.next('a disconnect')).to.equal('transport close');
        expect(a.socket.connected).to.equal(true);
      });
    });
  }
}
