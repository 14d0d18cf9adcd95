/**
 * Connect and disconnect handlers against the official client: the auth
 * payload, refusals (false, ConnectionRefusedError, a plain throw), the
 * disconnect reasons, and `alwaysConnect`.
 */
import { expect } from 'chai';
import { ConnectionRefusedError, disconnect, emit, request } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { Inbox } from '../helpers/raw-engine.js';
import { CLIENT_TRANSPORTS, SioHarness, deferred, within } from '../helpers/socketio.js';

type Auth = Record<string, unknown> | undefined;

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`connect and disconnect handlers [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode }, transport);
      });
      afterEach(() => h.stop());

      it('gives the connect handler the client auth payload', async function () {
        const auths = new Inbox<unknown>();
        h.io.on('connect', (auth: Auth) => {
          auths.push(auth);
        });
        await h.connect('/', { auth: { token: 'abc', n: 1, nested: { ok: true } } });
        expect(await auths.next('the auth payload')).to.deep.equal({
          token: 'abc',
          n: 1,
          nested: { ok: true },
        });
      });

      it('lets the connect handler emit to the connecting client', async function () {
        h.io.on('connect', () => emit('welcome', request().sid));
        const peer = h.peer();
        const [sid] = await peer.next('welcome');
        await peer.opened;
        expect(sid).to.equal(peer.id);
      });

      it("refuses with 'Connection rejected by server' when the handler returns false", async function () {
        const disconnects = new Inbox<string>();
        h.io.on('connect', (auth: Auth) => auth?.ok === true);
        h.io.on('disconnect', (reason: string) => disconnects.push(reason));
        const refused = h.peer('/', { auth: { ok: false } });
        const error = await refused.connectErrors.next('connect_error');
        expect(error.message).to.equal('Connection rejected by server');
        expect(error.data).to.equal(undefined);
        expect(refused.socket.connected).to.be.false;
        const accepted = await h.connect('/', { auth: { ok: true } });
        await accepted.sync();
        expect(disconnects.items, 'a refused client never connected').to.deep.equal([]);
      });

      it('refuses with the message and data of a ConnectionRefusedError', async function () {
        h.io.on('connect', (auth: Auth) => {
          if (auth?.token !== 'good')
            throw new ConnectionRefusedError('unauthorized', { retry: false, code: 4001 });
        });
        const refused = h.peer('/', { auth: { token: 'bad' } });
        const error = await refused.connectErrors.next('connect_error');
        expect(error.message).to.equal('unauthorized');
        expect(error.data).to.deep.equal({ retry: false, code: 4001 });
        await h.connect('/', { auth: { token: 'good' } });
      });

      it('refuses a client whose connect handler throws, without sending the error', async function () {
        h.io.on('connect', (auth: Auth) => {
          if (auth?.boom === true) throw new Error('secret internals at line 42');
        });
        const refused = h.peer('/', { auth: { boom: true } });
        const error = await refused.connectErrors.next('connect_error');
        expect(error.message).to.equal('Connection rejected by server');
        expect(error.data).to.equal(undefined);
        expect(refused.events.items).to.deep.equal([]);
        const healthy = await h.connect('/', { auth: { boom: false } });
        await healthy.sync();
      });

      it("reports 'client namespace disconnect' when the client disconnects", async function () {
        const reasons = new Inbox<{ reason: string; sid: string }>();
        h.io.on('connect', () => undefined);
        h.io.on('disconnect', (reason: string) => reasons.push({ reason, sid: request().sid }));
        const peer = await h.connect();
        const sid = peer.id;
        peer.socket.disconnect();
        expect(await reasons.next('the disconnect handler')).to.deep.equal({
          reason: 'client namespace disconnect',
          sid,
        });
      });

      it("reports 'transport close' when the client's transport closes", async function () {
        const reasons = new Inbox<string>();
        h.io.on('disconnect', (reason: string) => reasons.push(reason));
        const peer = await h.connect();
        peer.socket.io.engine.close();
        expect(await reasons.next('the disconnect handler')).to.equal('transport close');
      });

      it("reports 'server namespace disconnect' for disconnect() in a handler", async function () {
        const reasons = new Inbox<string>();
        h.io.on('disconnect', (reason: string) => reasons.push(reason));
        h.io.on('kick me', () => disconnect());
        const peer = await h.connect();
        peer.socket.emit('kick me');
        expect(await reasons.next('the disconnect handler')).to.equal(
          'server namespace disconnect',
        );
        expect(await peer.disconnects.next('the client disconnect')).to.equal(
          'io server disconnect',
        );
      });
    });

    describe(`alwaysConnect [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode, alwaysConnect: true }, transport);
      });
      afterEach(() => h.stop());

      it('accepts before the connect handler decides, then disconnects when it refuses', async function () {
        const gate = deferred<boolean>();
        const disconnects = new Inbox<string>();
        h.io.on('connect', (auth: Auth) => (auth?.wait === true ? gate.promise : true));
        h.io.on('disconnect', (reason: string) => disconnects.push(reason));
        const peer = h.peer('/', { auth: { wait: true } });
        await within(peer.opened, 'connect while the handler is still pending');
        gate.resolve(false);
        expect(await peer.disconnects.next('the DISCONNECT')).to.equal('io server disconnect');
        expect(peer.lifecycle).to.deep.equal(['connect', 'disconnect: io server disconnect']);
        expect(peer.connectErrors.items).to.deep.equal([]);
        const healthy = await h.connect('/', { auth: {} });
        await healthy.sync();
        expect(disconnects.items, 'no disconnect handler for a refused client').to.deep.equal([]);
      });

      it('disconnects when the handler throws ConnectionRefusedError', async function () {
        h.io.on('connect', () => {
          throw new ConnectionRefusedError('go away', { why: 'test' });
        });
        const peer = h.peer();
        expect(await peer.disconnects.next('the DISCONNECT')).to.equal('io server disconnect');
        expect(peer.lifecycle).to.deep.equal(['connect', 'disconnect: io server disconnect']);
      });

      it('keeps an accepted client connected', async function () {
        h.io.on('connect', () => true);
        h.io.on('echo', (value: unknown) => value);
        const peer = await h.connect();
        expect(await peer.emitAck('echo', 'still here')).to.deep.equal(['still here']);
        expect(peer.lifecycle).to.deep.equal(['connect']);
      });
    });
  }
}
