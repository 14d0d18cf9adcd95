/**
 * Namespaces with the official client: an unknown namespace, connect and
 * disconnect per namespace on one connection, and class-based namespaces.
 */
import { expect } from 'chai';
import { Namespace, ack } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { Inbox } from '../helpers/raw-engine.js';
import { CLIENT_TRANSPORTS, SioHarness, within } from '../helpers/socketio.js';

/** A class-based namespace that records what reaches it. */
class Chat extends Namespace {
  readonly calls: string[] = [];
  readonly auths = new Inbox<unknown>();
  readonly reasons = new Inbox<string>();

  onConnect(auth: unknown): void {
    this.calls.push('connect');
    this.auths.push(auth);
  }

  onDisconnect(reason: string): void {
    this.calls.push('disconnect');
    this.reasons.push(reason);
  }

  on_my_event(data: unknown): unknown {
    this.calls.push('my_event');
    return { echoed: data };
  }

  onOtherEvent(a: unknown, b: unknown): unknown {
    this.calls.push('otherEvent');
    return ack('other', a, b);
  }

  on_shared(): string {
    this.calls.push('shared');
    return 'from the method';
  }

  on_join(room: string): string[] {
    this.joinRoom(room);
    return this.rooms();
  }

  on_leave(room: string): string[] {
    this.leaveRoom(room);
    return this.rooms();
  }

  on_shout(room: string, text: string): void {
    this.emit('shout', text, { to: room });
  }

  on_reply(text: string): void {
    this.emit('reply', `re: ${text}`);
  }
}

/** A namespace that routes every event through its own triggerEvent. */
class Routed extends Namespace {
  readonly seen: string[] = [];

  override triggerEvent(event: string, ...values: unknown[]): unknown {
    this.seen.push(event);
    if (event === 'routed') return ack('routed', ...values);
    const result = super.triggerEvent(event, ...values);
    return typeof result === 'string' ? result.toUpperCase() : result;
  }

  on_greet(name: string): string {
    return `hello ${name}`;
  }
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`namespaces [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode }, transport);
      });
      afterEach(() => h.stop());

      it("refuses an unknown namespace with 'Invalid namespace' and keeps the connection", async function () {
        h.io.on('echo', (value: unknown) => value);
        const manager = h.manager();
        const root = h.managedPeer(manager, '/');
        await within(root.opened, 'the connection to /');
        const unknown = h.managedPeer(manager, '/nope');
        const error = await unknown.connectErrors.next('connect_error');
        expect(error.message).to.equal('Invalid namespace');
        expect(await root.emitAck('echo', 'still usable')).to.deep.equal(['still usable']);
        expect(root.socket.connected).to.be.true;
        expect(h.io.engine.clientsCount, 'one Engine.IO connection throughout').to.equal(1);
      });

      it('runs connect and disconnect handlers per namespace', async function () {
        const log = new Inbox<string>();
        h.io.on('connect', () => log.push('connect /'));
        h.io.on('disconnect', (reason: string) => log.push(`disconnect / ${reason}`));
        h.io.on('connect', () => log.push('connect /chat'), { namespace: '/chat' });
        h.io.on('disconnect', (reason: string) => log.push(`disconnect /chat ${reason}`), {
          namespace: '/chat',
        });
        h.io.on('where', () => 'in chat', { namespace: '/chat' });
        const manager = h.manager();
        const root = h.managedPeer(manager, '/');
        await within(root.opened, 'the connection to /');
        expect(await log.next()).to.equal('connect /');
        const chat = h.managedPeer(manager, '/chat');
        await within(chat.opened, 'the connection to /chat');
        expect(await log.next()).to.equal('connect /chat');
        expect(chat.id).to.not.equal(root.id);
        expect(await chat.emitAck('where')).to.deep.equal(['in chat']);
        chat.socket.disconnect();
        expect(await log.next()).to.equal('disconnect /chat client namespace disconnect');
        await root.sync();
        expect(log.unread, 'the / socket is untouched').to.deep.equal([]);
        expect(root.socket.connected).to.be.true;
      });

      it('dispatches events to on_E and onE methods of a class-based namespace', async function () {
        const chat = new Chat('/chat');
        h.io.onNamespace(chat);
        const peer = await h.connect('/chat', { auth: { user: 'ann' } });
        expect(await chat.auths.next('onConnect')).to.deep.equal({ user: 'ann' });
        expect(await peer.emitAck('my_event', 7)).to.deep.equal([{ echoed: 7 }]);
        expect(await peer.emitAck('otherEvent', 'x', 'y')).to.deep.equal(['other', 'x', 'y']);
        expect(chat.calls).to.deep.equal(['connect', 'my_event', 'otherEvent']);
        peer.socket.disconnect();
        expect(await chat.reasons.next('onDisconnect')).to.equal('client namespace disconnect');
      });

      it('ignores events with no method in a class-based namespace', async function () {
        const chat = new Chat('/chat');
        h.io.onNamespace(chat);
        const peer = await h.connect('/chat');
        let acked = false;
        peer.socket.emit('no_such_event', 1, () => {
          acked = true;
        });
        peer.socket.emit('toString');
        // Events are handled in order: once this ack is back, the others were handled.
        expect(await peer.emitAck('my_event', 'after')).to.deep.equal([{ echoed: 'after' }]);
        expect(acked, 'no ack for an ignored event').to.be.false;
        expect(chat.calls).to.deep.equal(['connect', 'my_event']);
        expect(peer.socket.connected).to.be.true;
      });

      it('prefers a function handler registered with io.on over the method', async function () {
        const chat = new Chat('/chat');
        h.io.onNamespace(chat);
        h.io.on('shared', () => 'from io.on', { namespace: '/chat' });
        const peer = await h.connect('/chat');
        expect(await peer.emitAck('shared')).to.deep.equal(['from io.on']);
        expect(chat.calls).to.deep.equal(['connect']);
      });

      it("does not call onConnect or onDisconnect for client events named 'Connect' / 'Disconnect'", async function () {
        const chat = new Chat('/chat');
        h.io.onNamespace(chat);
        const peer = await h.connect('/chat');
        let acked = 0;
        peer.socket.emit('Connect', { forged: true }, () => acked++);
        peer.socket.emit('Disconnect', 'forged', () => acked++);
        peer.socket.emit('_connect', () => acked++);
        expect(await peer.emitAck('my_event', 1)).to.deep.equal([{ echoed: 1 }]);
        expect(acked).to.equal(0);
        expect(chat.calls).to.deep.equal(['connect', 'my_event']);
        expect(chat.auths.items).to.have.length(1);
        expect(peer.socket.connected).to.be.true;
      });

      it('routes events through an overridden triggerEvent', async function () {
        const routed = new Routed('/routed');
        h.io.onNamespace(routed);
        const peer = await h.connect('/routed');
        expect(await peer.emitAck('greet', 'bo')).to.deep.equal(['HELLO BO']);
        expect(await peer.emitAck('routed', 1, 2)).to.deep.equal(['routed', 1, 2]);
        expect(routed.seen).to.include.members(['greet', 'routed']);
      });

      it('gives the instance emit, joinRoom, leaveRoom and rooms on its namespace', async function () {
        const chat = new Chat('/chat');
        h.io.onNamespace(chat);
        const ann = await h.connect('/chat');
        const bob = await h.connect('/chat');
        const [annRooms] = await ann.emitAck('join', 'lobby');
        expect(annRooms).to.have.members([ann.id, 'lobby']);
        const [bobRooms] = await bob.emitAck('join', 'lobby');
        expect(bobRooms).to.have.members([bob.id, 'lobby']);
        ann.socket.emit('shout', 'lobby', 'hi all');
        expect(await ann.next('shout')).to.deep.equal(['hi all']);
        expect(await bob.next('shout')).to.deep.equal(['hi all']);
        ann.socket.emit('reply', 'only me');
        expect(await ann.next('reply')).to.deep.equal(['re: only me']);
        const [left] = await bob.emitAck('leave', 'lobby');
        expect(left).to.deep.equal([bob.id]);
        await bob.emitAck('my_event', 'sync');
        expect(bob.inbox('reply').items, 'emit without a target reaches the sender only').to.be
          .empty;
      });

      it('broadcasts to its namespace when the instance emits outside a handler', async function () {
        const chat = new Chat('/chat');
        h.io.onNamespace(chat);
        h.io.on('connect', () => undefined);
        const inChat = await h.connect('/chat');
        const inRoot = await h.connect('/');
        chat.emit('news', 'for chat');
        chat.send('plain message');
        expect(await inChat.next('news')).to.deep.equal(['for chat']);
        expect(await inChat.next('message')).to.deep.equal(['plain message']);
        await inRoot.sync();
        expect(inRoot.events.items).to.deep.equal([]);
      });
    });
  }
}
