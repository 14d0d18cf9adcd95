/**
 * The chat scenarios of the Flask-SocketIO documentation, end to end with the
 * official client: usernames in the session, join/leave announcements and
 * messages to the room only.
 *
 *   @socketio.on('join')            ->  io.on('join', ({ username, room }) => { joinRoom(room); send(..., { to: room }); })
 *   @socketio.on('leave')           ->  io.on('leave', ...)  leaveRoom(room) then send(..., { to: room })
 */
import { expect } from 'chai';
import { emit, joinRoom, leaveRoom, send, session } from '../../lib/index.js';
import type { SocketIO } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { CLIENT_TRANSPORTS, SioHarness, syncAfter } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';

interface RoomRequest {
  readonly room: string;
}

function chatServer(io: SocketIO): void {
  io.on('login', (username: string) => {
    session().username = username;
  });
  io.on('join', ({ room }: RoomRequest) => {
    joinRoom(room);
    send(`${String(session().username)} has entered the room.`, { to: room });
  });
  io.on('leave', ({ room }: RoomRequest) => {
    leaveRoom(room);
    send(`${String(session().username)} has left the room.`, { to: room });
  });
  io.on('chat', ({ room, text }: RoomRequest & { text: string }) => {
    emit('chat', { from: session().username, text }, { to: room });
  });
}

/** Each peer's first arguments of `event`, once everything `senders` sent has arrived. */
async function received(
  event: string,
  senders: readonly SioPeer[],
  peers: readonly SioPeer[],
): Promise<unknown[][]> {
  await syncAfter(senders, peers);
  return peers.map((peer) => peer.inbox(event).items.map((values) => values[0]));
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`chat rooms from the Flask-SocketIO docs [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      let ann: SioPeer;
      let bob: SioPeer;
      let cid: SioPeer;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode }, transport);
        chatServer(h.io);
        [ann, bob, cid] = [await h.connect(), await h.connect(), await h.connect()];
        for (const [peer, name] of [
          [ann, 'ann'],
          [bob, 'bob'],
          [cid, 'cid'],
        ] as const)
          await peer.emitAck('login', name);
      });
      afterEach(() => h.stop());

      it('announces joins to the room only', async function () {
        await ann.emitAck('join', { room: 'lobby' });
        await bob.emitAck('join', { room: 'lobby' });
        expect(await received('message', [ann, bob], [ann, bob, cid])).to.deep.equal([
          ['ann has entered the room.', 'bob has entered the room.'],
          ['bob has entered the room.'],
          [],
        ]);
      });

      it('delivers messages to both members and not to a client outside the room', async function () {
        await ann.emitAck('join', { room: 'lobby' });
        await bob.emitAck('join', { room: 'lobby' });
        ann.socket.emit('chat', { room: 'lobby', text: 'hi bob' });
        bob.socket.emit('chat', { room: 'lobby', text: 'hi ann' });
        expect(await bob.next('chat')).to.deep.equal([{ from: 'ann', text: 'hi bob' }]);
        expect(await ann.next('chat')).to.deep.equal([{ from: 'ann', text: 'hi bob' }]);
        expect(await received('chat', [ann, bob], [ann, bob, cid])).to.deep.equal([
          [
            { from: 'ann', text: 'hi bob' },
            { from: 'bob', text: 'hi ann' },
          ],
          [
            { from: 'ann', text: 'hi bob' },
            { from: 'bob', text: 'hi ann' },
          ],
          [],
        ]);
        expect(cid.events.items, 'cid got nothing at all').to.deep.equal([]);
      });

      it('stops delivery to a client that left the room', async function () {
        await ann.emitAck('join', { room: 'lobby' });
        await bob.emitAck('join', { room: 'lobby' });
        await bob.emitAck('leave', { room: 'lobby' });
        ann.socket.emit('chat', { room: 'lobby', text: 'anyone?' });
        expect(await received('chat', [ann], [ann, bob])).to.deep.equal([
          [{ from: 'ann', text: 'anyone?' }],
          [],
        ]);
        expect(await received('message', [ann, bob], [ann, bob])).to.deep.equal([
          ['ann has entered the room.', 'bob has entered the room.', 'bob has left the room.'],
          ['bob has entered the room.'],
        ]);
      });

      it('keeps rooms separate', async function () {
        await ann.emitAck('join', { room: 'red' });
        await bob.emitAck('join', { room: 'blue' });
        await cid.emitAck('join', { room: 'blue' });
        ann.socket.emit('chat', { room: 'red', text: 'red only' });
        cid.socket.emit('chat', { room: 'blue', text: 'blue only' });
        expect(await received('chat', [ann, cid], [ann, bob, cid])).to.deep.equal([
          [{ from: 'ann', text: 'red only' }],
          [{ from: 'cid', text: 'blue only' }],
          [{ from: 'cid', text: 'blue only' }],
        ]);
      });
    });
  }
}
