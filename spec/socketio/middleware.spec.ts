/**
 * Middleware: `io.use` runs before a client joins its namespace (refusing it
 * with a message and data, or letting it in with what it put in the session),
 * `io.beforeEvent` before every event handler (replacing the arguments, dropping
 * the event, or failing it through the error handler). Every async mode, every
 * transport of the official client; in worker-pool mode they run in the pool.
 */
import { expect } from 'chai';
import { threadId } from 'node:worker_threads';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { MIDDLEWARE_APP } from '../helpers/apps.js';
import { CLIENT_TRANSPORTS, SioHarness } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';
import { registerMiddlewareHandlers } from '../fixtures/middleware-handlers.js';
import { SocketIO } from '../../lib/index.js';

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`io.use and io.beforeEvent [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      let observer: SioPeer;
      beforeEach(async function () {
        h = await SioHarness.withApp(asyncMode, transport, MIDDLEWARE_APP);
        observer = await h.connect('/observe');
      });
      afterEach(() => h.stop());

      it('runs the middlewares in order, then the connect handler, sharing the session', async function () {
        const peer = await h.connect('/', { auth: { token: 't1' }, query: { flavour: 'mint' } });
        const [user, steps, flavour] = await peer.next('welcome');
        expect(user).to.equal('user-t1');
        expect(flavour).to.equal('mint');
        const [first, ...rest] = steps as string[];
        expect(rest).to.deep.equal(['second', 'connect']);
        // In worker-pool mode the middleware ran in a pool thread, elsewhere on this one.
        const ranOn = Number((first ?? '').split('@')[1]);
        if (asyncMode === 'worker-pool') expect(ranOn).to.not.equal(threadId);
        else expect(ranOn).to.equal(threadId);
        expect(await peer.emitAck('echo', ' hi ')).to.deep.equal([[['hi'], 'user-t1']]);
      });

      it('refuses with the ConnectionRefusedError message and data', async function () {
        const error = await h.peer('/', { auth: {} }).refusal();
        expect(error.message).to.equal('a token is required');
        expect(error.data).to.deep.equal({ field: 'token' });
      });

      it('refuses a client for which a middleware returns false', async function () {
        const error = await h.peer('/', { auth: { token: 'blocked' } }).refusal();
        expect(error.message).to.equal('Connection rejected by server');
      });

      it('refuses with the message of any other error, which goes to the error handler', async function () {
        const error = await h.peer('/', { auth: { token: 'broken' } }).refusal();
        expect(error.message).to.equal('the token store is down');
        expect(await observer.next('error-seen')).to.deep.equal([
          ['connect', 'the token store is down'],
        ]);
      });

      it('applies only to its namespace; a middleware alone makes a namespace', async function () {
        const open = await h.connect('/open');
        expect(await open.emitAck('echo', ' x ')).to.deep.equal([[' x ']]);
        await h.connect('/guarded', { auth: { pass: true } });
        const error = await h.peer('/guarded', { auth: { pass: false } }).refusal();
        expect(error.message).to.equal('Connection rejected by server');
        expect((await h.peer('/nowhere').refusal()).message).to.equal('Invalid namespace');
      });

      it('lets event middlewares replace the arguments, drop an event, or fail it', async function () {
        const peer = await h.connect('/', { auth: { token: 't2' } });
        await peer.next('welcome');
        // Dropped: no handler, no ack (the echo after it proves it was read first).
        peer.socket.emit('blocked');
        expect(await peer.emitAck('echo', ' a ', 1)).to.deep.equal([[['a', 1], 'user-t2']]);
        // Failed: the error handler's return value is the ack, and it saw the event's name.
        expect(await peer.emitAck('forbidden')).to.deep.equal([
          { error: '"forbidden" needs an admin' },
        ]);
        expect(await observer.next('error-seen')).to.deep.equal([
          ['forbidden', '"forbidden" needs an admin'],
        ]);
        // A middleware returning something else is a mistake the error handler hears of.
        const [odd] = await peer.emitAck('odd');
        expect((odd as { error: string }).error).to.match(
          /returned number: return nothing, an array of arguments, or false/,
        );
        expect(await peer.emitAck('seen')).to.deep.equal([
          ['blocked', 'echo', 'forbidden', 'odd', 'seen'],
        ]);
        expect(peer.inbox('ran').items.length, 'handlers of dropped or failed events').to.equal(0);
      });
    });
  }
}

describe('io.use and io.beforeEvent: registration and the test client', function () {
  it('names the fix for a middleware that is not a function or a namespace passed positionally', function () {
    const io = new SocketIO();
    expect(() => io.use('auth' as never)).to.throw(
      /io\.use\(middleware\): the middleware must be a function/,
    );
    expect(() => io.use(() => undefined, '/admin' as never)).to.throw(
      /write \{ namespace: '\/admin' \}/,
    );
    expect(() => io.beforeEvent(() => undefined, { namspace: '/a' } as never)).to.throw(
      /did you mean namespace\?/,
    );
  });

  it('runs in the in-process test client too', async function () {
    const io = new SocketIO();
    registerMiddlewareHandlers(io);
    const refused = await io.testClient({ auth: {} });
    expect(refused.isConnected()).to.equal(false);
    const client = await io.testClient({ auth: { token: 'tc' } });
    expect(client.isConnected()).to.equal(true);
    const welcome = client.getReceived().find((e) => e.name === 'welcome');
    expect(welcome?.args[0]).to.equal('user-tc');
    expect(await client.emit('echo', ' z ', { callback: true })).to.deep.equal([
      [['z'], 'user-tc'],
    ]);
    await io.stop();
  });
});
