/**
 * The context functions inside handlers, with the official client: request(),
 * session(), emit() and its targets, send(), rooms, disconnect(), and the
 * error when they are called outside a handler.
 */
import { expect } from 'chai';
import {
  ContextError,
  call,
  closeRoom,
  disconnect,
  emit,
  joinRoom,
  leaveRoom,
  request,
  rooms,
  send,
  session,
} from '../../lib/index.js';
import type { RequestSnapshot } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { Inbox } from '../helpers/raw-engine.js';
import { CLIENT_TRANSPORTS, SioHarness, syncAfter, within } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';

/** Emit options as the client sends them to the `fanout` handler. */
interface Fanout {
  readonly broadcast?: boolean;
  readonly includeSelf?: boolean;
  readonly to?: string | string[];
  readonly room?: string | string[];
  readonly skipSid?: string | string[];
}

/** Each peer's `news` payloads, once everything `sender` triggered has arrived. */
async function newsOf(sender: SioPeer, peers: readonly SioPeer[]): Promise<unknown[][]> {
  await syncAfter([sender], peers);
  return peers.map((peer) => peer.inbox('news').items.map((args) => args[0]));
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`context functions [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode }, transport);
        h.io.on('join', (room: string) => joinRoom(room));
        h.io.on('leave', (room: string) => leaveRoom(room));
        h.io.on('fanout', (label: string, options: Fanout) => emit('news', label, options));
      });
      afterEach(() => h.stop());

      it('describes the current event and client with request()', async function () {
        const snapshots = new Inbox<RequestSnapshot>();
        h.io.on('info', (..._values: unknown[]) => snapshots.push(request()));
        h.io.on('info', () => snapshots.push(request()), { namespace: '/chat' });
        const peer = await h.connect('/', {
          auth: { token: 't1' },
          query: { room: 'blue', page: '2' },
          extraHeaders: { 'x-spec': 'context' },
        });
        peer.socket.emit('info', 'a', 1, { b: true });
        const seen = await snapshots.next('the request snapshot');
        expect(seen.sid).to.equal(peer.id);
        expect(seen.namespace).to.equal('/');
        expect(seen.event).to.deep.equal({ message: 'info', args: ['a', 1, { b: true }] });
        expect(seen.auth).to.deep.equal({ token: 't1' });
        expect(seen.headers['x-spec']).to.equal('context');
        expect(seen.query).to.include({ room: 'blue', page: '2' });
        expect(seen.remoteAddress).to.equal('127.0.0.1');
        const chat = await h.connect('/chat');
        chat.socket.emit('info');
        const inChat = await snapshots.next('the /chat snapshot');
        expect(inChat).to.include({ sid: chat.id, namespace: '/chat' });
        expect(inChat.event).to.deep.equal({ message: 'info', args: [] });
      });

      it('keeps the context across awaits inside a handler', async function () {
        h.io.on('slow echo', async (text: string) => {
          await h.io.sleep(0.02);
          await Promise.resolve();
          emit('echo', `${request().event.message}: ${text}`);
        });
        const peer = await h.connect();
        peer.socket.emit('slow echo', 'hi');
        expect(await peer.next('echo')).to.deep.equal(['slow echo: hi']);
      });

      it('keeps a session per client and per namespace across events', async function () {
        for (const nsp of ['/', '/chat']) {
          h.io.on('set', (key: string, value: unknown) => void (session()[key] = value), {
            namespace: nsp,
          });
          h.io.on('get', (key: string) => session()[key] ?? null, { namespace: nsp });
        }
        const manager = h.manager();
        const ann = h.managedPeer(manager, '/');
        const annChat = h.managedPeer(manager, '/chat');
        await within(Promise.all([ann.opened, annChat.opened]), 'both namespaces');
        const bob = await h.connect();
        ann.socket.emit('set', 'name', 'ann');
        ann.socket.emit('set', 'visits', 1);
        expect(await ann.emitAck('get', 'name')).to.deep.equal(['ann']);
        expect(await ann.emitAck('get', 'visits')).to.deep.equal([1]);
        expect(await bob.emitAck('get', 'name'), 'another client').to.deep.equal([null]);
        expect(await annChat.emitAck('get', 'name'), 'another namespace').to.deep.equal([null]);
        annChat.socket.emit('set', 'name', 'ann in chat');
        expect(await annChat.emitAck('get', 'name')).to.deep.equal(['ann in chat']);
        expect(await ann.emitAck('get', 'name')).to.deep.equal(['ann']);
      });

      it('emits to the sender only by default', async function () {
        const [ann, bob] = [await h.connect(), await h.connect()];
        ann.socket.emit('fanout', 'private', {});
        expect(await newsOf(ann, [ann, bob])).to.deep.equal([['private'], []]);
      });

      it('broadcasts with and without the sender', async function () {
        const [ann, bob, cid] = [await h.connect(), await h.connect(), await h.connect()];
        ann.socket.emit('fanout', 'everyone', { broadcast: true });
        expect(await newsOf(ann, [ann, bob, cid])).to.deep.equal([
          ['everyone'],
          ['everyone'],
          ['everyone'],
        ]);
        ann.socket.emit('fanout', 'others', { broadcast: true, includeSelf: false });
        expect(await newsOf(ann, [ann, bob, cid])).to.deep.equal([
          ['everyone'],
          ['everyone', 'others'],
          ['everyone', 'others'],
        ]);
      });

      it('emits to a room, to a list of rooms, and with `room`', async function () {
        const [ann, bob, cid] = [await h.connect(), await h.connect(), await h.connect()];
        await ann.emitAck('join', 'red');
        await bob.emitAck('join', 'blue');
        cid.socket.emit('fanout', 'to red', { to: 'red' });
        cid.socket.emit('fanout', 'to both', { to: ['red', 'blue'] });
        cid.socket.emit('fanout', 'room blue', { room: 'blue' });
        cid.socket.emit('fanout', 'to a sid', { to: bob.id });
        expect(await newsOf(cid, [ann, bob, cid])).to.deep.equal([
          ['to red', 'to both'],
          ['to both', 'room blue', 'to a sid'],
          [],
        ]);
      });

      it('skips one sid or a list of sids', async function () {
        const [ann, bob, cid] = [await h.connect(), await h.connect(), await h.connect()];
        ann.socket.emit('fanout', 'not bob', { broadcast: true, skipSid: bob.id });
        ann.socket.emit('fanout', 'ann only', { broadcast: true, skipSid: [bob.id, cid.id] });
        expect(await newsOf(ann, [ann, bob, cid])).to.deep.equal([
          ['not bob', 'ann only'],
          [],
          ['not bob'],
        ]);
      });

      it("sends 'message' with send() and 'json' with send(x, { json: true })", async function () {
        h.io.on('say', (text: string) => send(text));
        h.io.on('say json', (value: unknown) => send(value, { json: true }));
        const peer = await h.connect();
        peer.socket.emit('say', 'plain');
        peer.socket.emit('say json', { n: 1 });
        expect(await peer.next('message')).to.deep.equal(['plain']);
        expect(await peer.next('json')).to.deep.equal([{ n: 1 }]);
      });

      it('joins, leaves and closes rooms; rooms() includes the own sid room', async function () {
        h.io.on('my rooms', () => rooms());
        h.io.on('close', (room: string) => closeRoom(room));
        const [ann, bob] = [await h.connect(), await h.connect()];
        expect(await ann.emitAck('my rooms')).to.deep.equal([[ann.id]]);
        await ann.emitAck('join', 'red');
        await ann.emitAck('join', 'blue');
        await bob.emitAck('join', 'red');
        const [joined] = await ann.emitAck('my rooms');
        expect(joined).to.have.members([ann.id, 'red', 'blue']);
        await ann.emitAck('leave', 'blue');
        const [after] = await ann.emitAck('my rooms');
        expect(after).to.have.members([ann.id, 'red']);
        bob.socket.emit('fanout', 'red before close', { to: 'red' });
        await bob.emitAck('close', 'red');
        bob.socket.emit('fanout', 'red after close', { to: 'red' });
        expect(await newsOf(bob, [ann, bob])).to.deep.equal([
          ['red before close'],
          ['red before close'],
        ]);
        expect(await ann.emitAck('my rooms')).to.deep.equal([[ann.id]]);
      });

      it('disconnects the current client with disconnect()', async function () {
        h.io.on('bye', () => disconnect());
        const [ann, bob] = [await h.connect(), await h.connect()];
        ann.socket.emit('bye');
        expect(await ann.disconnects.next('the disconnect')).to.equal('io server disconnect');
        await bob.sync();
        expect(bob.socket.connected).to.be.true;
      });

      it('throws an error naming the function when called outside a handler', function () {
        const calls: [string, () => unknown][] = [
          ['emit', () => emit('news', 'x')],
          ['send', () => send('x')],
          ['joinRoom', () => joinRoom('r')],
          ['leaveRoom', () => leaveRoom('r')],
          ['closeRoom', () => closeRoom('r')],
          ['rooms', () => rooms()],
          ['disconnect', () => disconnect()],
          ['call', () => call('x')],
          ['request', () => request()],
          ['session', () => session()],
        ];
        for (const [name, fn] of calls) {
          let thrown: unknown;
          try {
            fn();
          } catch (error) {
            thrown = error;
          }
          expect(thrown, name).to.be.instanceOf(ContextError);
          expect((thrown as Error).message, name).to.contain(`${name}(`);
        }
      });
    });
  }
}
