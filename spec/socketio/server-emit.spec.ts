/**
 * Sending from anywhere (no handler context) with the official client:
 * io.emit, io.send, io.closeRoom, io.call; and io.stop() closing everything.
 */
import { expect } from 'chai';
import { DisconnectedError, UsageError, args, joinRoom } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { Inbox } from '../helpers/raw-engine.js';
import { CLIENT_TRANSPORTS, SioHarness, deferred, within } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';

type AckCallback = (...values: unknown[]) => void;

/** Each peer's `news` payloads, after a sync round trip that proves delivery. */
async function newsOf(peers: readonly SioPeer[]): Promise<unknown[][]> {
  await Promise.all(peers.map((peer) => peer.sync()));
  return peers.map((peer) => peer.inbox('news').items.map((values) => values[0]));
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`sending from anywhere [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode }, transport);
        h.io.on('join', (room: string) => joinRoom(room));
        h.io.on('connect', () => undefined, { namespace: '/chat' });
      });
      afterEach(() => h.stop());

      it('broadcasts io.emit to every client of the namespace', async function () {
        const [ann, bob] = [await h.connect(), await h.connect()];
        const chat = await h.connect('/chat');
        h.io.emit('news', 'to all of /');
        h.io.emit('news', args('several', 2), { namespace: '/chat' });
        expect(await newsOf([ann, bob])).to.deep.equal([['to all of /'], ['to all of /']]);
        expect(await chat.next('news')).to.deep.equal(['several', 2]);
        expect(chat.inbox('news').items).to.have.length(1);
      });

      it('sends io.emit to a room, to a sid, and skips sids', async function () {
        const [ann, bob, cid] = [await h.connect(), await h.connect(), await h.connect()];
        await ann.emitAck('join', 'red');
        await bob.emitAck('join', 'red');
        h.io.emit('news', 'red', { to: 'red' });
        h.io.emit('news', 'red without bob', { to: 'red', skipSid: bob.id });
        h.io.emit('news', 'to cid', { to: cid.id });
        h.io.emit('news', 'all but ann and cid', { skipSid: [ann.id, cid.id] });
        h.io.emit('news', 'room option', { room: ['red'] });
        expect(await newsOf([ann, bob, cid])).to.deep.equal([
          ['red', 'red without bob', 'room option'],
          ['red', 'all but ann and cid', 'room option'],
          ['to cid'],
        ]);
      });

      it('skips the sender with includeSelf: false when io.emit runs inside a handler', async function () {
        h.io.on('announce', (text: string) => {
          h.io.emit('news', text, { includeSelf: false });
          h.io.emit('news', `${text} (all)`);
        });
        const [ann, bob] = [await h.connect(), await h.connect()];
        await ann.emitAck('announce', 'from ann');
        expect(await newsOf([ann, bob])).to.deep.equal([
          ['from ann (all)'],
          ['from ann', 'from ann (all)'],
        ]);
      });

      it("sends 'message' and 'json' with io.send", async function () {
        const peer = await h.connect();
        h.io.send('hello');
        h.io.send({ n: 1 }, { json: true });
        h.io.send('to one', { to: peer.id });
        expect(await peer.next('message')).to.deep.equal(['hello']);
        expect(await peer.next('json')).to.deep.equal([{ n: 1 }]);
        expect(await peer.next('message')).to.deep.equal(['to one']);
      });

      it('empties a room with io.closeRoom', async function () {
        const [ann, bob] = [await h.connect(), await h.connect()];
        await ann.emitAck('join', 'red');
        await bob.emitAck('join', 'red');
        h.io.closeRoom('red');
        h.io.emit('news', 'nobody', { to: 'red' });
        h.io.emit('news', 'everybody');
        expect(await newsOf([ann, bob])).to.deep.equal([['everybody'], ['everybody']]);
      });

      it("resolves io.call({ to: sid }) with the client's ack arguments", async function () {
        const peer = await h.connect();
        peer.socket.on('quiz', (q: unknown, reply: AckCallback) => reply('answer', q));
        expect(await h.io.call('quiz', 'q1', { to: peer.id, timeout: 5 })).to.deep.equal([
          'answer',
          'q1',
        ]);
        const chat = await h.connect('/chat');
        chat.socket.on('quiz', (reply: AckCallback) => reply('from chat'));
        expect(
          await h.io.call('quiz', undefined, { to: chat.id, namespace: '/chat', timeout: 5 }),
        ).to.deep.equal(['from chat']);
      });

      it('rejects io.call without a target or for an unknown sid', async function () {
        await h.connect();
        let missing: unknown;
        await h.io.call('quiz').catch((error: unknown) => (missing = error));
        expect(missing).to.be.instanceOf(UsageError);
        let unknown: unknown;
        await h.io.call('quiz', 1, { to: 'no-such-sid' }).catch((error: unknown) => {
          unknown = error;
        });
        expect(unknown).to.be.instanceOf(UsageError);
      });

      it("calls io.emit's callback with the client's ack for a single sid", async function () {
        const peer = await h.connect();
        peer.socket.on('quiz', (q: unknown, reply: AckCallback) => reply('ok', q));
        const answered = deferred<unknown[]>();
        h.io.emit('quiz', 'q2', {
          to: peer.id,
          callback: (...values: unknown[]) => answered.resolve(values),
        });
        expect(await within(answered.promise, 'the callback')).to.deep.equal(['ok', 'q2']);
      });

      it('refuses to emit a reserved event name', function () {
        expect(() => h.io.emit('connect')).to.throw(UsageError);
        expect(() => h.io.emit('disconnect', 'x')).to.throw(UsageError);
      });

      it("stops with 'server shutdown' for every client and rejects pending calls", async function () {
        const reasons = new Inbox<string>();
        h.io.on('disconnect', (reason: string) => reasons.push(`/ ${reason}`));
        h.io.on('disconnect', (reason: string) => reasons.push(`/chat ${reason}`), {
          namespace: '/chat',
        });
        const [ann, bob] = [await h.connect(), await h.connect()];
        const chat = await h.connect('/chat');
        const asked = ann.next('quiz');
        const pending = h.io.call('quiz', undefined, { to: ann.id, timeout: 10 });
        pending.catch(() => undefined);
        await asked;
        const started = Date.now();
        await h.shutdown();
        let rejection: unknown;
        await within(pending, 'the pending call').catch((error: unknown) => (rejection = error));
        expect(rejection).to.be.instanceOf(DisconnectedError);
        expect(Date.now() - started).to.be.below(5000);
        expect([...reasons.items].sort()).to.deep.equal([
          '/ server shutdown',
          '/ server shutdown',
          '/chat server shutdown',
        ]);
        await Promise.all(
          [ann, bob, chat].map((peer) => peer.disconnects.next('the client disconnect')),
        );
        expect([ann, bob, chat].map((peer) => peer.socket.connected)).to.deep.equal([
          false,
          false,
          false,
        ]);
      });
    });
  }
}
