/**
 * Logins and sessions with the real express-session and passport (local
 * strategy), in every async mode (in worker-pool the handlers run in pool
 * threads): a client carrying the login cookie is known to its connect handler,
 * an anonymous one is refused with a message, the `authenticated_only` pattern
 * works, `session()` forks from the web session (`manageSession`, the default)
 * or shares it with the HTTP routes (`manageSession: false`).
 */
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { expectPoolThread } from '../helpers/schedulers.js';
import { runPython } from '../helpers/queues.js';
import { startLoginServer } from '../helpers/login-server.js';
import type { LoginServer } from '../helpers/login-server.js';
import { delay } from '../helpers/raw-engine.js';
import { CLIENT_TRANSPORTS, within } from '../helpers/socketio.js';
import type { ClientOptions, ConnectError } from '../helpers/socketio.js';

/** Logs in through the HTML form's POST; resolves with the session cookie. */
async function logIn(origin: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${origin}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }),
    redirect: 'manual',
  });
  expect(res.status, 'the login redirects').to.equal(302);
  expect(res.headers.get('location')).to.equal('/chat');
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (cookie === undefined) throw new Error('the login set no cookie');
  return cookie;
}

/** A web request of the logged-in user. */
async function web(origin: string, cookie: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${origin}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { cookie, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return text.startsWith('{') ? (JSON.parse(text) as unknown) : text;
}

/** An official client; `cookie` is the browser's session cookie. */
class Client {
  readonly socket: Socket;
  readonly greeting: Promise<unknown>;
  constructor(origin: string, cookie: string | undefined, options: ClientOptions, nsp = '/') {
    this.socket = connect(`${origin}${nsp}`, {
      forceNew: true,
      reconnection: false,
      extraHeaders: cookie === undefined ? {} : { cookie },
      ...options,
    });
    this.greeting = new Promise((resolve) => this.socket.once('hello', resolve));
  }

  opened(): Promise<void> {
    return within(
      new Promise<void>((resolve, reject) => {
        this.socket.once('connect', resolve);
        this.socket.once('connect_error', reject);
      }),
      'the connection',
    );
  }

  refused(): Promise<ConnectError> {
    return within(
      new Promise<ConnectError>((resolve) => this.socket.once('connect_error', resolve)),
      'the refusal',
    );
  }

  async ask(event: string, ...args: unknown[]): Promise<unknown> {
    return (await within(this.socket.emitWithAck(event, ...args), `the ${event} ack`)) as unknown;
  }
}

/** A python-socketio client: connects with the cookie, reports the greeting and an ack, or the refusal. */
const PYTHON_CLIENT = `
import json, sys, socketio
url, cookie, transports = sys.argv[1], sys.argv[2], sys.argv[3].split(',')
sio = socketio.Client()
out = {}
@sio.on('hello')
def hello(name):
    out['hello'] = name
    out['whoami'] = sio.call('whoami', timeout=5)
    sio.disconnect()
@sio.event
def connect_error(data):
    out['refused'] = data
try:
    sio.connect(url, headers={'Cookie': cookie} if cookie else {}, transports=transports, wait_timeout=5)
    sio.wait()
except socketio.exceptions.ConnectionError:
    pass
print(json.dumps(out))
`;

describe('logins with a python-socketio client', function () {
  this.timeout(30_000);
  let app: LoginServer;
  before(async function () {
    app = await startLoginServer('event-loop');
  });
  after(() => app.stop());

  for (const transports of ['polling,websocket', 'websocket']) {
    it(`greets the logged-in user and refuses an anonymous one (${transports})`, async function () {
      const cookie = await logIn(app.origin, 'alice', 'wonderland');
      const run = async (withCookie: string): Promise<unknown> => {
        const result = await runPython(['-c', PYTHON_CLIENT, app.origin, withCookie, transports]);
        expect(result.code, result.stderr).to.equal(0);
        return JSON.parse(result.stdout) as unknown;
      };
      expect(await run(cookie)).to.deep.equal({ hello: 'Alice', whoami: 'alice' });
      expect(await run('')).to.deep.equal({
        refused: { message: 'login required', data: { login: '/login' } },
      });
    });
  }
});

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`logins with express-session and passport [${asyncMode}, ${transport.name}]`, function () {
      let app: LoginServer;
      const clients: Client[] = [];
      const client = (cookie: string | undefined, nsp = '/'): Client => {
        const c = new Client(app.origin, cookie, transport.options, nsp);
        clients.push(c);
        return c;
      };
      before(async function () {
        app = await startLoginServer(asyncMode);
      });
      afterEach(() => {
        for (const c of clients.splice(0)) c.socket.disconnect();
      });
      after(() => app.stop());

      it('knows the logged-in user in the connect handler (request().http.user)', async function () {
        const alice = client(await logIn(app.origin, 'alice', 'wonderland'));
        await alice.opened();
        expect(await within(alice.greeting, 'the greeting')).to.equal('Alice');
        expect(await alice.ask('whoami')).to.equal('alice');
        if (asyncMode === 'worker-pool') expectPoolThread(await alice.ask('thread'));
        const bob = client(await logIn(app.origin, 'bob', 'builder'));
        await bob.opened();
        expect(await bob.ask('whoami')).to.equal('bob');
      });

      it('refuses an anonymous client with the connect handler’s message and data', async function () {
        const anonymous = client(undefined);
        const error = await anonymous.refused();
        expect(error.message).to.equal('login required');
        expect(error.data).to.deep.equal({ login: '/login' });
        const stranger = client('connect.sid=s%3Aforged.signature');
        expect((await stranger.refused()).message).to.equal('login required');
      });

      it('runs an authenticatedOnly handler for members and disconnects anonymous clients', async function () {
        const member = client(await logIn(app.origin, 'alice', 'wonderland'), '/public');
        await member.opened();
        expect(await member.ask('secret')).to.equal('for Alice');
        const anonymous = client(undefined, '/public');
        await anonymous.opened();
        const gone = new Promise<string>((resolve) => anonymous.socket.once('disconnect', resolve));
        anonymous.socket.emit('secret');
        expect(await within(gone, 'the disconnect')).to.equal('io server disconnect');
      });

      it('forks session() from the web session at connect time (manageSession, the default)', async function () {
        const cookie = await logIn(app.origin, 'alice', 'wonderland');
        await web(app.origin, cookie, '/prefs', { theme: 'dark' });
        const alice = client(cookie);
        await alice.opened();
        expect(await alice.ask('session')).to.deep.equal({ theme: 'dark', visits: null });
        await alice.ask('set', 'theme', 'light');
        await web(app.origin, cookie, '/prefs', { theme: 'blue' });
        expect(await alice.ask('session')).to.deep.equal({ theme: 'light', visits: null });
        expect(await web(app.origin, cookie, '/prefs')).to.deep.equal({
          theme: 'blue',
          visits: null,
          user: 'alice',
        });
      });
    });
  }

  describe(`overlapping events sharing the web session (asyncHandlers) [${asyncMode}]`, function () {
    let app: LoginServer;
    before(async function () {
      app = await startLoginServer(asyncMode, { manageSession: false, asyncHandlers: true });
    });
    after(() => app.stop());

    it('saves what each overlapping handler wrote', async function () {
      const cookie = await logIn(app.origin, 'alice', 'wonderland');
      const alice = new Client(app.origin, cookie, {});
      try {
        await alice.opened();
        const writes = [
          alice.ask('slowSet', 'theme', 'night', 120),
          alice.ask('slowSet', 'visits', 7, 40),
        ];
        expect(await Promise.all(writes)).to.deep.equal([true, true]);
        expect(await web(app.origin, cookie, '/prefs')).to.deep.equal({
          theme: 'night',
          visits: 7,
          user: 'alice',
        });
      } finally {
        alice.socket.disconnect();
      }
    });
  });

  describe(`sharing the web session with manageSession: false [${asyncMode}]`, function () {
    let app: LoginServer;
    let alice: Client | undefined;
    before(async function () {
      app = await startLoginServer(asyncMode, { manageSession: false });
    });
    afterEach(() => alice?.socket.disconnect());
    after(() => app.stop());

    it('sees what HTTP routes write, and HTTP routes see what handlers write', async function () {
      const cookie = await logIn(app.origin, 'alice', 'wonderland');
      await web(app.origin, cookie, '/prefs', { theme: 'dark' });
      alice = new Client(app.origin, cookie, {});
      await alice.opened();
      expect(await alice.ask('session')).to.deep.equal({ theme: 'dark', visits: null });
      await web(app.origin, cookie, '/prefs', { theme: 'light' });
      expect(await alice.ask('session')).to.deep.equal({ theme: 'light', visits: null });
      expect(await alice.ask('set', 'visits', 3)).to.equal(true);
      expect(await web(app.origin, cookie, '/prefs')).to.deep.equal({
        theme: 'light',
        visits: 3,
        user: 'alice',
      });
      expect(await alice.ask('whoami')).to.equal('alice');
    });

    it('fails events once the web session is gone (logout), and never writes it back', async function () {
      const cookie = await logIn(app.origin, 'alice', 'wonderland');
      alice = new Client(app.origin, cookie, {});
      await alice.opened();
      expect(await alice.ask('session')).to.deep.equal({ theme: null, visits: null });
      const stored = await app.storedSessions();
      expect(await web(app.origin, cookie, '/logout', {})).to.equal('bye');
      expect(await alice.ask('session')).to.equal('session gone');
      expect(await alice.ask('set', 'visits', 9)).to.equal('session gone');
      expect(await web(app.origin, cookie, '/prefs')).to.deep.equal({
        theme: null,
        visits: null,
        user: null,
      });
      expect(await app.storedSessions()).to.equal(stored - 1);
    });

    it('runs the disconnect handler of a client whose web session is gone', async function () {
      const observer = new Client(app.origin, undefined, {}, '/public');
      await observer.opened();
      const left = new Promise((resolve) => observer.socket.once('left', resolve));
      const cookie = await logIn(app.origin, 'alice', 'wonderland');
      alice = new Client(app.origin, cookie, {});
      await alice.opened();
      await web(app.origin, cookie, '/logout', {});
      alice.socket.disconnect();
      expect(await within(left, 'the left event')).to.equal('alice');
      observer.socket.disconnect();
    });

    it('survives handlers that write the store’s own keys (cookie, save, id, __proto__)', async function () {
      const cookie = await logIn(app.origin, 'alice', 'wonderland');
      alice = new Client(app.origin, cookie, {});
      await alice.opened();
      for (const key of ['cookie', 'save', 'reload', 'id', 'req', 'regenerate', '__proto__'])
        expect(await alice.ask('set', key, 'x'), key).to.equal(true);
      expect(await alice.ask('set', 'theme', 'green')).to.equal(true);
      expect(await alice.ask('session')).to.deep.equal({ theme: 'green', visits: null });
      expect(await web(app.origin, cookie, '/prefs')).to.deep.equal({
        theme: 'green',
        visits: null,
        user: 'alice',
      });
    });

    it('keeps what a route wrote during an event whose handler did not touch it', async function () {
      const cookie = await logIn(app.origin, 'alice', 'wonderland');
      alice = new Client(app.origin, cookie, {});
      await alice.opened();
      const slow = alice.ask('slowSet', 'visits', 1, 150);
      await delay(50);
      await web(app.origin, cookie, '/prefs', { theme: 'dark' });
      expect(await slow).to.equal(true);
      expect(await web(app.origin, cookie, '/prefs')).to.deep.equal({
        theme: 'dark',
        visits: 1,
        user: 'alice',
      });
    });

    it('adds nothing to the session store for anonymous visitors who write nothing', async function () {
      const before = await app.storedSessions();
      const visitors = Array.from(
        { length: 5 },
        () => new Client(app.origin, undefined, {}, '/public'),
      );
      await Promise.all(visitors.map((v) => v.opened()));
      for (const v of visitors) v.socket.disconnect();
      await delay(50);
      expect(await app.storedSessions()).to.equal(before);
    });
  });
}
