/**
 * The in-process test client (`io.testClient()`): the same packet handling and
 * scheduler as a network client, no network. Every describe runs once per
 * async mode under test.
 */
import { expect } from 'chai';
import {
  ConnectionRefusedError,
  Namespace,
  SocketIO,
  ack,
  args,
  emit,
  joinRoom,
  leaveRoom,
  request,
  send,
  session,
} from '../../lib/index.js';
import type { Logger, RequestSnapshot, TestClient } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST, modeOptions } from '../helpers/modes.js';

/** A logger that keeps error lines so a spec can read them. */
function recordingLogger(): Logger & { errors: unknown[][] } {
  const errors: unknown[][] = [];
  const ignore = (): void => undefined;
  return { errors, debug: ignore, info: ignore, warn: ignore, error: (...a) => errors.push(a) };
}

/** The names of the events received since the last read, in order. */
function names(client: TestClient, namespace?: string): string[] {
  return client.getReceived(namespace).map((e) => e.name);
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  describe(`test client: connecting (${mode})`, () => {
    let io: SocketIO;
    beforeEach(() => {
      io = new SocketIO(modeOptions(mode));
    });
    afterEach(async () => {
      await io.stop();
    });

    it('resolves only after the connect handler ran, with its emits already received', async () => {
      io.on('connect', async () => {
        await io.sleep(0.02);
        emit('welcome', { data: 'Connected' });
      });
      const client = await io.testClient();
      expect(client.isConnected()).to.equal(true);
      expect(client.sid()).to.be.a('string').and.not.equal('');
      expect(client.getReceived()).to.deep.equal([
        { name: 'welcome', args: [{ data: 'Connected' }], namespace: '/' },
      ]);
    });

    it('hands the auth payload to the connect handler and to request().auth', async () => {
      const seen: unknown[] = [];
      io.on('connect', (auth: unknown) => {
        seen.push(auth, request().auth);
      });
      await io.testClient({ auth: { token: 'abc', n: 1 } });
      expect(seen).to.deep.equal([
        { token: 'abc', n: 1 },
        { token: 'abc', n: 1 },
      ]);
    });

    it('gives handlers request().http with the user and session it was given, session() forked from it', async () => {
      io.on('connect', () => {
        emit('hello', (request().http.user as { name: string }).name);
        session().visits = 1;
      });
      io.on('prefs', () => ({ theme: session().theme, visits: session().visits }));
      const web = { theme: 'dark' };
      const client = await io.testClient({ http: { user: { name: 'Alice' }, session: web } });
      expect(client.getReceived()).to.deep.equal([
        { name: 'hello', args: ['Alice'], namespace: '/' },
      ]);
      expect(await client.emit('prefs', undefined, { callback: true })).to.deep.equal([
        { theme: 'dark', visits: 1 },
      ]);
      expect(web).to.deep.equal({ theme: 'dark' });
    });

    it('shares the http session it was given with manageSession: false (the object plays the store)', async () => {
      const shared = new SocketIO({ ...modeOptions(mode), manageSession: false });
      try {
        shared.on('set', (key: string, value: unknown) => {
          session()[key] = value;
          return true;
        });
        shared.on('get', (key: string) => session()[key] ?? null);
        const store: Record<string, unknown> = { theme: 'dark' };
        const client = await shared.testClient({ http: { session: store } });
        expect(await client.emit('get', 'theme', { callback: true })).to.deep.equal(['dark']);
        await client.emit('set', args('visits', 2), { callback: true });
        expect(store).to.deep.equal({ theme: 'dark', visits: 2 });
        store.theme = 'light';
        expect(await client.emit('get', 'theme', { callback: true })).to.deep.equal(['light']);
      } finally {
        await shared.stop();
      }
    });

    it('connects without auth: the handler gets undefined', async () => {
      const seen: unknown[] = [];
      io.on('connect', (auth: unknown) => {
        seen.push(auth);
      });
      const client = await io.testClient();
      expect(seen).to.deep.equal([undefined]);
      expect(client.connectError()).to.equal(undefined);
    });

    it('a ConnectionRefusedError leaves the client unconnected with {message, data}', async () => {
      io.on('connect', (auth: { token?: string } | undefined) => {
        if (auth?.token !== 'good') throw new ConnectionRefusedError('unauthorized', { retry: 3 });
      });
      const refused = await io.testClient({ auth: { token: 'bad' } });
      expect(refused.isConnected()).to.equal(false);
      expect(refused.sid()).to.equal(undefined);
      expect(refused.connectError()).to.deep.equal({ message: 'unauthorized', data: { retry: 3 } });

      const accepted = await io.testClient({ auth: { token: 'good' } });
      expect(accepted.isConnected()).to.equal(true);
      expect(accepted.connectError()).to.equal(undefined);
    });

    it('a connect handler returning false refuses with "Connection rejected by server"', async () => {
      io.on('connect', () => false);
      const client = await io.testClient();
      expect(client.isConnected()).to.equal(false);
      expect(client.connectError()).to.deep.equal({ message: 'Connection rejected by server' });
    });

    it('a refused client gets no events and cannot emit', async () => {
      io.on('connect', () => false);
      io.on('ping', () => 'pong');
      const client = await io.testClient();
      io.emit('news', 'to everyone');
      expect(client.getReceived()).to.deep.equal([]);
      let failure: unknown;
      await client.emit('ping').catch((error: unknown) => (failure = error));
      expect(failure).to.have.property('code', 'SIO_ERR_USAGE');
    });

    it('connect(namespace) joins a second namespace on the same client', async () => {
      const connected: string[] = [];
      io.on('connect', () => {
        connected.push(request().namespace);
      });
      io.on(
        'connect',
        (auth: { room?: string } | undefined) => {
          connected.push(request().namespace);
          emit('chat welcome', auth?.room);
        },
        { namespace: '/chat' },
      );
      const client = await io.testClient();
      await client.connect('/chat', { auth: { room: 'lobby' } });
      expect(connected).to.deep.equal(['/', '/chat']);
      expect(client.isConnected('/')).to.equal(true);
      expect(client.isConnected('/chat')).to.equal(true);
      expect(client.isConnected('chat'), 'a name without the slash means the same').to.equal(true);
      expect(client.sid('/chat')).to.be.a('string').and.not.equal(client.sid('/'));
      expect(client.getReceived('/chat')).to.deep.equal([
        { name: 'chat welcome', args: ['lobby'], namespace: '/chat' },
      ]);
    });

    it('the namespace option of testClient() connects there first', async () => {
      io.on('connect', () => undefined, { namespace: '/chat' });
      const client = await io.testClient({ namespace: '/chat' });
      expect(client.isConnected('/chat')).to.equal(true);
      expect(client.isConnected('/')).to.equal(false);
    });

    it('a namespace without handlers gets CONNECT_ERROR "Invalid namespace"', async () => {
      io.on('connect', () => undefined);
      const client = await io.testClient();
      await client.connect('/nowhere');
      expect(client.isConnected('/nowhere')).to.equal(false);
      expect(client.connectError('/nowhere')).to.deep.equal({ message: 'Invalid namespace' });
      expect(client.isConnected('/'), 'the other namespace stays connected').to.equal(true);
    });

    it('disconnect(namespace) runs that namespace disconnect handler with "client namespace disconnect"', async () => {
      const reasons: string[][] = [];
      io.on('connect', () => undefined);
      io.on('disconnect', (reason: string) => {
        reasons.push(['/', reason]);
      });
      io.on('disconnect', (reason: string) => reasons.push([request().namespace, reason]), {
        namespace: '/chat',
      });
      const client = await io.testClient();
      await client.connect('/chat');
      await client.disconnect('/chat');
      expect(reasons).to.deep.equal([['/chat', 'client namespace disconnect']]);
      expect(client.isConnected('/chat')).to.equal(false);
      expect(client.isConnected('/')).to.equal(true);

      await client.disconnect();
      expect(reasons).to.deep.equal([
        ['/chat', 'client namespace disconnect'],
        ['/', 'client namespace disconnect'],
      ]);
      expect(client.isConnected()).to.equal(false);
    });

    it('a disconnected client no longer receives broadcasts and can reconnect', async () => {
      io.on('connect', () => undefined);
      const client = await io.testClient();
      await client.disconnect();
      io.emit('news', 'missed');
      expect(client.getReceived()).to.deep.equal([]);
      await client.connect();
      expect(client.isConnected()).to.equal(true);
      io.emit('news', 'seen');
      expect(client.getReceived()).to.deep.equal([
        { name: 'news', args: ['seen'], namespace: '/' },
      ]);
    });

    it('request().headers, query and sid come from the test client options', async () => {
      const snapshots: RequestSnapshot[] = [];
      io.on('connect', () => {
        snapshots.push(request());
      });
      io.on('where', () => {
        snapshots.push(request());
      });
      const client = await io.testClient({
        headers: { 'x-api-key': 'k1', 'user-agent': 'spec' },
        query: { room: 'lobby', lang: 'en' },
      });
      await client.emit('where', args('a', 2));
      expect(snapshots).to.have.length(2);
      for (const snap of snapshots) {
        expect(snap.headers).to.deep.include({ 'x-api-key': 'k1', 'user-agent': 'spec' });
        expect(snap.query).to.deep.equal({ room: 'lobby', lang: 'en' });
        expect(snap.sid).to.equal(client.sid());
        expect(snap.namespace).to.equal('/');
      }
      expect(snapshots[0]?.event.message).to.equal('connect');
      expect(snapshots[1]?.event).to.deep.equal({ message: 'where', args: ['a', 2] });
    });
  });

  describe(`test client: events and acks (${mode})`, () => {
    let io: SocketIO;
    let client: TestClient;
    beforeEach(async () => {
      io = new SocketIO(modeOptions(mode));
      io.on('connect', () => undefined);
      io.on('connect', () => undefined, { namespace: '/chat' });
      io.on('single', (x: number) => x * 2);
      io.on('several', () => ack('one', 2));
      io.on('none', () => undefined);
      io.on('slow', async (x: string) => {
        await io.sleep(0.02);
        return `${x} later`;
      });
      io.on('bytes', (b: Buffer) => ({ got: b.length, back: Buffer.concat([b, b]) }));
      io.on('many args', (...a: unknown[]) => ack(...a.reverse()));
      client = await io.testClient();
      await client.connect('/chat');
    });
    afterEach(async () => {
      await io.stop();
    });

    it('a single return value is one ack argument', async () => {
      expect(await client.emit('single', 21, { callback: true })).to.deep.equal([42]);
    });

    it('return ack(...) gives several ack arguments', async () => {
      expect(await client.emit('several', undefined, { callback: true })).to.deep.equal(['one', 2]);
    });

    it('returning undefined acks with no arguments', async () => {
      expect(await client.emit('none', 'x', { callback: true })).to.deep.equal([]);
    });

    it('an async handler acks when it resolves', async () => {
      expect(await client.emit('slow', 'done', { callback: true })).to.deep.equal(['done later']);
    });

    it('several emit arguments with args(...) reach the handler in order', async () => {
      const acked = await client.emit('many args', args('a', { b: [1, null] }, true), {
        callback: true,
      });
      expect(acked).to.deep.equal([true, { b: [1, null] }, 'a']);
    });

    it('binary arguments and binary acks arrive as Buffers', async () => {
      const payload = Buffer.from([0, 1, 2, 255]);
      const acked = await client.emit('bytes', payload, { callback: true });
      expect(acked).to.have.length(1);
      const reply = acked?.[0] as { got: number; back: unknown };
      expect(reply.got).to.equal(4);
      expect(Buffer.isBuffer(reply.back)).to.equal(true);
      expect((reply.back as Buffer).equals(Buffer.from([0, 1, 2, 255, 0, 1, 2, 255]))).to.equal(
        true,
      );
    });

    it('emit without callback resolves with undefined once handled', async () => {
      const handled: number[] = [];
      io.on('count', (n: number) => {
        handled.push(n);
      });
      expect(await client.emit('count', 1)).to.equal(undefined);
      expect(handled).to.deep.equal([1]);
    });

    it('one client events are handled in arrival order', async () => {
      const order: number[] = [];
      io.on('step', async (n: number) => {
        await io.sleep(n === 0 ? 0.03 : 0);
        order.push(n);
      });
      await Promise.all([client.emit('step', 0), client.emit('step', 1), client.emit('step', 2)]);
      expect(order).to.deep.equal([0, 1, 2]);
    });

    it('the namespace option routes an emit to that namespace handlers', async () => {
      io.on('which', () => 'root');
      io.on('which', () => 'chat', { namespace: '/chat' });
      expect(await client.emit('which', undefined, { callback: true })).to.deep.equal(['root']);
      expect(
        await client.emit('which', undefined, { callback: true, namespace: '/chat' }),
      ).to.deep.equal(['chat']);
    });

    it("send(data) reaches the 'message' handler and send(data, {json}) the 'json' handler", async () => {
      const got: unknown[][] = [];
      io.on('message', (m: unknown) => {
        got.push(['message', m]);
        send(`echo: ${String(m)}`);
      });
      io.on('json', (j: unknown) => {
        got.push(['json', j]);
        send(j, { json: true });
        return 'json ack';
      });
      await client.send('hello');
      const acked = await client.send({ a: [1, 2] }, { json: true, callback: true });
      expect(got).to.deep.equal([
        ['message', 'hello'],
        ['json', { a: [1, 2] }],
      ]);
      expect(acked).to.deep.equal(['json ack']);
      expect(client.getReceived()).to.deep.equal([
        { name: 'message', args: ['echo: hello'], namespace: '/' },
        { name: 'json', args: [{ a: [1, 2] }], namespace: '/' },
      ]);
    });

    it('the catch-all handler gets (event, ...args) for events with no handler', async () => {
      io.on('*', (event: string, ...rest: unknown[]) => ack(event, rest.length));
      expect(await client.emit('unhandled thing', args(1, 2, 3), { callback: true })).to.deep.equal(
        ['unhandled thing', 3],
      );
      expect(await client.emit('single', 1, { callback: true })).to.deep.equal([2]);
    });

    it('getReceived(namespace) returns only that namespace events and forgets them', async () => {
      io.on('fan out', () => {
        emit('r1', 1);
        emit('c1', 'x', { namespace: '/chat', broadcast: true });
        emit('r2', args(2, 3));
      });
      await client.emit('fan out');
      expect(client.getReceived('/chat')).to.deep.equal([
        { name: 'c1', args: ['x'], namespace: '/chat' },
      ]);
      expect(client.getReceived('/chat'), 'a second call has nothing new').to.deep.equal([]);
      expect(client.getReceived()).to.deep.equal([
        { name: 'r1', args: [1], namespace: '/' },
        { name: 'r2', args: [2, 3], namespace: '/' },
      ]);
      expect(client.getReceived('/')).to.deep.equal([]);
    });

    it('emitting to a namespace the client has not joined is a usage error', async () => {
      let failure: unknown;
      await client
        .emit('single', 1, { namespace: '/elsewhere' })
        .catch((error: unknown) => (failure = error));
      expect(failure).to.have.property('code', 'SIO_ERR_USAGE');
    });
  });

  describe(`test client: sessions (${mode})`, () => {
    let io: SocketIO;
    beforeEach(() => {
      io = new SocketIO(modeOptions(mode));
      for (const namespace of ['/', '/chat']) {
        io.on('connect', () => undefined, { namespace });
        io.on(
          'set',
          (key: string, value: unknown) => {
            session()[key] = value;
          },
          { namespace },
        );
        io.on('get', (key: string) => session()[key] ?? null, { namespace });
        io.on(
          'bump',
          async () => {
            const s = session();
            await io.sleep(0);
            s.count = (typeof s.count === 'number' ? s.count : 0) + 1;
            return s.count;
          },
          { namespace },
        );
      }
    });
    afterEach(async () => {
      await io.stop();
    });

    it('keeps session changes across one client events', async () => {
      const client = await io.testClient();
      await client.emit('set', args('name', 'alice'));
      expect(await client.emit('get', 'name', { callback: true })).to.deep.equal(['alice']);
      expect(await client.emit('bump', undefined, { callback: true })).to.deep.equal([1]);
      expect(await client.emit('bump', undefined, { callback: true })).to.deep.equal([2]);
      expect(await client.emit('get', 'name', { callback: true })).to.deep.equal(['alice']);
    });

    it('sessions are per client and per namespace', async () => {
      const alice = await io.testClient();
      const bob = await io.testClient();
      await alice.connect('/chat');
      await alice.emit('set', args('name', 'alice'));
      await bob.emit('set', args('name', 'bob'));
      expect(await alice.emit('get', 'name', { callback: true })).to.deep.equal(['alice']);
      expect(await bob.emit('get', 'name', { callback: true })).to.deep.equal(['bob']);
      expect(await alice.emit('get', 'name', { callback: true, namespace: '/chat' })).to.deep.equal(
        [null],
      );
    });
  });

  describe(`test client: rooms and broadcasts (${mode})`, () => {
    let io: SocketIO;
    let a: TestClient;
    let b: TestClient;
    let c: TestClient;
    beforeEach(async () => {
      io = new SocketIO(modeOptions(mode));
      io.on('connect', () => undefined);
      io.on('join', (room: string) => {
        joinRoom(room);
      });
      io.on('leave', (room: string) => {
        leaveRoom(room);
      });
      io.on('to room', (room: string, msg: string) => {
        emit('room message', msg, { to: room });
      });
      io.on('to room, not me', (room: string, msg: string) => {
        emit('room message', msg, { to: room, includeSelf: false });
      });
      io.on('to all', (msg: string) => {
        emit('all message', msg, { broadcast: true });
      });
      io.on('to all but', (skip: string, msg: string) => {
        emit('all message', msg, { broadcast: true, skipSid: skip });
      });
      a = await io.testClient();
      b = await io.testClient();
      c = await io.testClient();
    });
    afterEach(async () => {
      await io.stop();
    });

    it('a room emit reaches the members (sender included) and nobody else', async () => {
      await a.emit('join', 'lobby');
      await b.emit('join', 'lobby');
      await a.emit('to room', args('lobby', 'hi lobby'));
      const expected = [{ name: 'room message', args: ['hi lobby'], namespace: '/' }];
      expect(a.getReceived()).to.deep.equal(expected);
      expect(b.getReceived()).to.deep.equal(expected);
      expect(c.getReceived()).to.deep.equal([]);
    });

    it('includeSelf: false leaves the sender out', async () => {
      await a.emit('join', 'lobby');
      await b.emit('join', 'lobby');
      await a.emit('to room, not me', args('lobby', 'psst'));
      expect(names(a)).to.deep.equal([]);
      expect(names(b)).to.deep.equal(['room message']);
      expect(names(c)).to.deep.equal([]);
    });

    it('a client that left the room no longer receives its messages', async () => {
      await a.emit('join', 'lobby');
      await b.emit('join', 'lobby');
      await b.emit('leave', 'lobby');
      await a.emit('to room', args('lobby', 'still here?'));
      expect(names(a)).to.deep.equal(['room message']);
      expect(names(b)).to.deep.equal([]);
    });

    it('a sid is a room: emitting to it reaches that one client', async () => {
      const bSid = b.sid();
      expect(bSid).to.be.a('string');
      await a.emit('to room', args(bSid, 'direct'));
      expect(names(a)).to.deep.equal([]);
      expect(b.getReceived()).to.deep.equal([
        { name: 'room message', args: ['direct'], namespace: '/' },
      ]);
      expect(names(c)).to.deep.equal([]);
    });

    it('broadcast reaches every client; skipSid leaves one out', async () => {
      await a.emit('to all', 'everyone');
      expect(names(a)).to.deep.equal(['all message']);
      expect(names(b)).to.deep.equal(['all message']);
      expect(names(c)).to.deep.equal(['all message']);
      await a.emit('to all but', args(c.sid(), 'not c'));
      expect(names(a)).to.deep.equal(['all message']);
      expect(names(b)).to.deep.equal(['all message']);
      expect(names(c)).to.deep.equal([]);
    });

    it('io.emit with to and io.closeRoom from outside a handler', async () => {
      await a.emit('join', 'game');
      await c.emit('join', 'game');
      io.emit('state', { turn: 1 }, { to: 'game' });
      expect(names(a)).to.deep.equal(['state']);
      expect(names(b)).to.deep.equal([]);
      expect(names(c)).to.deep.equal(['state']);
      io.closeRoom('game');
      io.emit('state', { turn: 2 }, { to: 'game' });
      expect(names(a)).to.deep.equal([]);
      expect(names(c)).to.deep.equal([]);
    });
  });

  describe(`test client: error handlers (${mode})`, () => {
    let io: SocketIO;
    let logger: ReturnType<typeof recordingLogger>;
    beforeEach(() => {
      logger = recordingLogger();
      io = new SocketIO({ ...modeOptions(mode), logger });
      for (const namespace of ['/', '/chat', '/other']) {
        io.on('connect', () => undefined, { namespace });
        io.on(
          'boom',
          (why: string) => {
            throw new Error(why);
          },
          { namespace },
        );
      }
    });
    afterEach(async () => {
      await io.stop();
    });

    it("the '/' error handler's return value becomes the ack and it can read request().event", async () => {
      io.onError((error) => ({
        error: (error as Error).message,
        event: request().event,
      }));
      const client = await io.testClient();
      expect(await client.emit('boom', 'bad input', { callback: true })).to.deep.equal([
        { error: 'bad input', event: { message: 'boom', args: ['bad input'] } },
      ]);
      expect(logger.errors, 'a handled error is not logged').to.deep.equal([]);
    });

    it('a namespace error handler wins over the default one, which serves the rest', async () => {
      io.onError('/chat', () => 'chat handler');
      io.onErrorDefault(() => ack('default handler', request().namespace));
      const client = await io.testClient({ namespace: '/chat' });
      await client.connect('/other');
      expect(await client.emit('boom', 'x', { callback: true, namespace: '/chat' })).to.deep.equal([
        'chat handler',
      ]);
      expect(await client.emit('boom', 'x', { callback: true, namespace: '/other' })).to.deep.equal(
        ['default handler', '/other'],
      );
    });

    it('without an error handler: no ack, the error is logged with the event name, the client lives on', async () => {
      io.on('fine', () => 'ok');
      const client = await io.testClient();
      let failure: unknown;
      await client
        .emit('boom', 'secret detail', { callback: true })
        .catch((error: unknown) => (failure = error));
      expect(failure).to.have.property('code', 'SIO_ERR_USAGE');
      expect(logger.errors).to.have.length(1);
      expect(String(logger.errors[0]?.[0])).to.include('boom');
      expect(client.getReceived(), 'no stack trace or message reaches the client').to.deep.equal(
        [],
      );
      expect(client.isConnected()).to.equal(true);
      expect(await client.emit('fine', undefined, { callback: true })).to.deep.equal(['ok']);
    });
  });

  describe(`test client: class-based namespaces (${mode})`, () => {
    let io: SocketIO;
    afterEach(async () => {
      await io.stop();
    });

    class Chat extends Namespace {
      readonly log: unknown[][] = [];
      onConnect(auth: unknown): void {
        this.log.push(['connect', auth]);
        this.emit('welcome', auth);
      }
      onDisconnect(reason: string): void {
        this.log.push(['disconnect', reason]);
      }
      on_my_event(data: string): string {
        return data.toUpperCase();
      }
      onOtherEvent(a: number, b: number): unknown {
        return ack(a + b, this.rooms().length);
      }
      on_join(room: string): void {
        this.joinRoom(room);
      }
      on_shout(room: string, text: string): void {
        this.emit('shout', text, { to: room });
      }
    }

    it('dispatches events to on_E / onE methods and acks with their return values', async () => {
      io = new SocketIO(modeOptions(mode));
      const chat = new Chat('/chat');
      io.onNamespace(chat);
      const client = await io.testClient({ namespace: '/chat', auth: { user: 'ann' } });
      expect(client.isConnected('/chat')).to.equal(true);
      expect(client.getReceived('/chat')).to.deep.equal([
        { name: 'welcome', args: [{ user: 'ann' }], namespace: '/chat' },
      ]);
      expect(
        await client.emit('my_event', 'hello', { callback: true, namespace: '/chat' }),
      ).to.deep.equal(['HELLO']);
      expect(
        await client.emit('otherEvent', args(2, 3), { callback: true, namespace: '/chat' }),
      ).to.deep.equal([5, 1]);
      await client.disconnect('/chat');
      expect(chat.log).to.deep.equal([
        ['connect', { user: 'ann' }],
        ['disconnect', 'client namespace disconnect'],
      ]);
    });

    it('ignores events without a method; an io.on handler for the same event wins', async () => {
      io = new SocketIO(modeOptions(mode));
      io.onNamespace(new Chat('/chat'));
      io.on('my_event', () => 'function handler', { namespace: '/chat' });
      const client = await io.testClient({ namespace: '/chat' });
      client.getReceived('/chat');
      expect(await client.emit('no_such_method', 1, { namespace: '/chat' })).to.equal(undefined);
      expect(client.getReceived('/chat')).to.deep.equal([]);
      expect(
        await client.emit('my_event', 'x', { callback: true, namespace: '/chat' }),
      ).to.deep.equal(['function handler']);
    });

    it('namespace emit with to: reaches the room between two test clients', async () => {
      io = new SocketIO(modeOptions(mode));
      io.onNamespace(new Chat('/chat'));
      const a = await io.testClient({ namespace: '/chat' });
      const b = await io.testClient({ namespace: '/chat' });
      const c = await io.testClient({ namespace: '/chat' });
      for (const client of [a, b, c]) client.getReceived('/chat');
      await a.emit('join', 'r', { namespace: '/chat' });
      await b.emit('join', 'r', { namespace: '/chat' });
      await b.emit('shout', args('r', 'HEY'), { namespace: '/chat' });
      const expected = [{ name: 'shout', args: ['HEY'], namespace: '/chat' }];
      expect(a.getReceived('/chat')).to.deep.equal(expected);
      expect(b.getReceived('/chat')).to.deep.equal(expected);
      expect(c.getReceived('/chat')).to.deep.equal([]);
    });

    it('an overridden triggerEvent routes every event, with or without a method', async () => {
      class Router extends Namespace {
        override triggerEvent(event: string, ...rest: unknown[]): unknown {
          if (event === 'connect' || event === 'disconnect') return undefined;
          return ack('routed', event, ...rest);
        }
        on_with_method(): string {
          return 'method';
        }
      }
      io = new SocketIO(modeOptions(mode));
      io.onNamespace(new Router('/r'));
      const client = await io.testClient({ namespace: '/r' });
      expect(client.isConnected('/r')).to.equal(true);
      expect(
        await client.emit('with_method', 7, { callback: true, namespace: '/r' }),
      ).to.deep.equal(['routed', 'with_method', 7]);
      expect(await client.emit('no_method', 8, { callback: true, namespace: '/r' })).to.deep.equal([
        'routed',
        'no_method',
        8,
      ]);
    });
  });

  describe(`test client: the Flask-SocketIO chat scenario (${mode})`, () => {
    let io: SocketIO;
    const disconnected: string[] = [];
    beforeEach(() => {
      disconnected.length = 0;
      io = new SocketIO(modeOptions(mode));
      io.on('connect', (auth: { username?: string } | undefined) => {
        if (auth?.username === undefined) return false;
        session().username = auth.username;
        emit('my response', { data: 'Connected' });
        return undefined;
      });
      io.on('disconnect', () => {
        disconnected.push(String(session().username));
      });
      io.on('my event', (json: { data: string }) => {
        emit('my response', json);
      });
      io.on('my broadcast event', (json: { data: string }) => {
        emit('my response', json, { broadcast: true });
      });
      io.on('join', (data: { room: string }) => {
        const username = String(session().username);
        joinRoom(data.room);
        send(`${username} has entered the room.`, { to: data.room });
      });
      io.on('leave', (data: { room: string }) => {
        const username = String(session().username);
        leaveRoom(data.room);
        send(`${username} has left the room.`, { to: data.room });
      });
      io.on('room message', (data: { room: string; text: string }) => {
        send(`${String(session().username)}: ${data.text}`, { to: data.room });
        return 'delivered';
      });
    });
    afterEach(async () => {
      await io.stop();
    });

    function messages(client: TestClient): unknown[] {
      return client.getReceived().map((e) => (e.name === 'message' ? e.args[0] : [e.name, e.args]));
    }

    it('runs end to end through two test clients', async () => {
      const anonymous = await io.testClient();
      expect(anonymous.isConnected()).to.equal(false);
      expect(anonymous.connectError()).to.deep.equal({ message: 'Connection rejected by server' });

      const alice = await io.testClient({ auth: { username: 'alice' } });
      const bob = await io.testClient({ auth: { username: 'bob' } });
      expect(messages(alice)).to.deep.equal([['my response', [{ data: 'Connected' }]]]);
      expect(messages(bob)).to.deep.equal([['my response', [{ data: 'Connected' }]]]);

      await alice.emit('my event', { data: 'only me' });
      expect(messages(alice)).to.deep.equal([['my response', [{ data: 'only me' }]]]);
      expect(messages(bob)).to.deep.equal([]);

      await bob.emit('my broadcast event', { data: 'everyone' });
      expect(messages(alice)).to.deep.equal([['my response', [{ data: 'everyone' }]]]);
      expect(messages(bob)).to.deep.equal([['my response', [{ data: 'everyone' }]]]);

      await alice.emit('join', { room: 'room1' });
      expect(messages(alice)).to.deep.equal(['alice has entered the room.']);
      expect(messages(bob)).to.deep.equal([]);

      await bob.emit('join', { room: 'room1' });
      expect(messages(alice)).to.deep.equal(['bob has entered the room.']);
      expect(messages(bob)).to.deep.equal(['bob has entered the room.']);

      const acked = await alice.emit(
        'room message',
        { room: 'room1', text: 'hi bob' },
        { callback: true },
      );
      expect(acked).to.deep.equal(['delivered']);
      expect(messages(alice)).to.deep.equal(['alice: hi bob']);
      expect(messages(bob)).to.deep.equal(['alice: hi bob']);

      await bob.emit('leave', { room: 'room1' });
      expect(messages(alice)).to.deep.equal(['bob has left the room.']);
      expect(messages(bob)).to.deep.equal([]);

      await alice.emit('room message', { room: 'room1', text: 'anyone?' });
      expect(messages(alice)).to.deep.equal(['alice: anyone?']);
      expect(messages(bob)).to.deep.equal([]);

      await bob.disconnect();
      await alice.disconnect();
      expect(disconnected).to.deep.equal(['bob', 'alice']);
      expect(alice.isConnected()).to.equal(false);
      expect(bob.isConnected()).to.equal(false);
    });
  });
}
