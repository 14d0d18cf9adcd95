/**
 * Connection state recovery (`connectionStateRecovery`) with the official client, whose
 * network is a TCP relay the spec cuts: a client cut off and back within the window gets
 * its sid, rooms, session and every packet sent to it meanwhile, in order and once
 * (`socket.recovered`, `request().recovered`); past the window, after a deliberate
 * disconnect, or after missing more than the per-session bound, it connects fresh. Every
 * async mode (handlers in a pool thread in worker-pool) and client transport; then, once:
 * the option's checks, the bounds at their edges, `skipMiddlewares: false`, what carries no
 * offset, a client back before the server noticed its cut, msgpack, and packets from
 * another process over Redis. The main cases run again with the sessions kept in Redis
 * (`store: 'redis://…'`), in event-loop mode.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { OptionError, SocketIO, UnknownOptionError } from '../../lib/index.js';
import type { ConnectionStateRecoveryOptions, SocketIOOptions } from '../../lib/index.js';
import type { RecoveryState } from '../fixtures/recovery-handlers.js';
import { RECOVERY_APP } from '../helpers/apps.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { MSGPACK } from '../helpers/msgpack.js';
import { REDIS_URL, Relay, eventually } from '../helpers/queues.js';
import { delay, waitFor } from '../helpers/raw-engine.js';
import { Redis } from 'ioredis';
import { CLIENT_TRANSPORTS, SioHarness, SioPeer, within } from '../helpers/socketio.js';
import type { ClientOptions, ClientTransport } from '../helpers/socketio.js';
import type { AsyncMode } from '../../lib/index.js';

/**
 * A server with recovery on, the relay its clients reach it through (cutting it is a real
 * network cut: each side learns of it from its own socket, or from its heartbeat), and
 * those clients.
 */
class Rig {
  readonly #peers: SioPeer[] = [];
  /** Where the rigs started now keep their sessions (the memory store unless set). */
  static store: 'memory' | 'redis' = 'memory';

  private constructor(
    readonly h: SioHarness,
    readonly relay: Relay,
    /** With the Redis store, its channel: every key of its run starts with it. */
    readonly channel: string | undefined,
  ) {}

  static async start(
    asyncMode: AsyncMode,
    transport: ClientTransport,
    recovery: ConnectionStateRecoveryOptions = {},
    options: SocketIOOptions = {},
  ): Promise<Rig> {
    const channel =
      Rig.store === 'redis'
        ? `spec-recovery-${process.pid}-${randomBytes(4).toString('hex')}`
        : undefined;
    const h = await SioHarness.withApp(asyncMode, transport, RECOVERY_APP, {
      connectionStateRecovery: {
        maxDisconnectionDuration: 10,
        ...(channel === undefined ? {} : { store: REDIS_URL }),
        ...recovery,
      },
      ...(channel === undefined ? {} : { channel }),
      // A cut polling client with no GET pending is noticed by the heartbeat: soon, here.
      pingInterval: 0.25,
      pingTimeout: 0.5,
      ...options,
    });
    const relay = await Relay.create(h.port);
    await relay.listen();
    return new Rig(h, relay, channel);
  }

  get io(): SocketIO {
    return this.h.io;
  }

  /** A client through the relay that reconnects at once after a cut; connected. */
  async connect(options: ClientOptions = {}): Promise<SioPeer> {
    const url = `http://127.0.0.1:${this.relay.port}`;
    const peer = new SioPeer(
      connect(
        url,
        this.h.clientOptions({
          reconnection: true,
          reconnectionDelay: 50,
          reconnectionDelayMax: 100,
          ...options,
        }),
      ),
    );
    this.#peers.push(peer);
    await within(peer.opened, 'the first connection');
    return peer;
  }

  /** Cuts every relayed connection; new ones are refused until {@link restore}. */
  cut(): Promise<void> {
    return this.relay.cut();
  }

  /** Whether the server let the socket `sid` go within `ms` (it keeps its session then). */
  noticed(sid: string, ms = 3000): Promise<boolean> {
    return eventually(async () => !(await this.io.fetchSockets()).some((s) => s.id === sid), ms);
  }

  /** Lets clients through again; resolves once `peer` has connected again. */
  async restore(peer: SioPeer): Promise<void> {
    const back = new Promise<void>((resolve) => peer.socket.once('connect', () => resolve()));
    await this.relay.listen();
    await within(back, 'the reconnection');
  }

  async stop(): Promise<void> {
    for (const peer of this.#peers) peer.socket.disconnect();
    await this.relay.cut();
    await this.h.stop();
    if (this.channel === undefined) return;
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${this.channel}#*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
}

/** The ticks a peer received: their numbers, after checking each ends with its offset. */
function ticks(peer: SioPeer, event = 'tick'): unknown[] {
  return peer.inbox(event).items.map((args) => {
    expect(args, 'a kept packet ends with its offset').to.have.length(2);
    expect(args[1]).to.be.a('string');
    return args[0];
  });
}

async function receive(peer: SioPeer, count: number, event = 'tick'): Promise<void> {
  const arrived = await waitFor(() => peer.inbox(event).items.length >= count, 5000);
  expect(arrived, `${count} "${event}" packets, got ${peer.inbox(event).items.length}`).to.equal(
    true,
  );
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** The `welcome` the connect handler sends: [sid, request().recovered, auth]. */
async function welcome(peer: SioPeer): Promise<[string, boolean, unknown]> {
  const [greeting] = await peer.next('welcome');
  return greeting as [string, boolean, unknown];
}

async function state(peer: SioPeer): Promise<RecoveryState> {
  const [answer] = await peer.emitAck('state');
  return answer as RecoveryState;
}

const SUITES = [
  ...ASYNC_MODES_UNDER_TEST.map((asyncMode) => ({ asyncMode, store: 'memory' as const })),
  { asyncMode: 'event-loop' as const, store: 'redis' as const },
];

for (const { asyncMode, store } of SUITES) {
  for (const transport of CLIENT_TRANSPORTS) {
    const label = store === 'memory' ? '' : ', kept in Redis';
    describe(`connection state recovery [${asyncMode}, ${transport.name}${label}]`, function () {
      let rig: Rig | undefined;
      beforeEach(() => {
        Rig.store = store;
      });
      afterEach(async () => {
        await rig?.stop();
        rig = undefined;
        Rig.store = 'memory';
      });

      it('gives a cut client its sid, rooms, session and the 100 packets it missed, in order, once', async function () {
        rig = await Rig.start(asyncMode, transport);
        const peer = await rig.connect({ auth: { name: 'ada' } });
        const [sid, recovered, auth] = await welcome(peer);
        expect([sid, recovered, auth]).to.deep.equal([peer.id, false, { name: 'ada' }]);
        expect(peer.socket.recovered).to.equal(false);
        for (let i = 0; i < 10; i++) rig.io.emit('tick', i, { to: 'lobby' });
        await receive(peer, 10);

        await rig.cut();
        // Right after the cut the server may still write to the dead transport; once it has
        // noticed, the packets go to the kept session. Half to its room, half to its sid.
        for (let i = 10; i < 60; i++) rig.io.emit('tick', i, { to: i % 2 === 0 ? 'lobby' : sid });
        await rig.noticed(sid);
        for (let i = 60; i < 110; i++) rig.io.emit('tick', i, { to: i % 2 === 0 ? 'lobby' : sid });
        await rig.restore(peer);

        expect(peer.socket.recovered).to.equal(true);
        expect(peer.id).to.equal(sid);
        await receive(peer, 110);
        // The connect handler ran, saw request().recovered, and its auth had no pid or offset.
        expect(await welcome(peer)).to.deep.equal([sid, true, { name: 'ada' }]);
        expect(await state(peer)).to.deep.equal({
          sid,
          recovered: true,
          rooms: [sid, 'lobby'].sort(),
          name: 'ada',
          admitted: 1, // skipMiddlewares (the default): io.use did not run again
        });
        const [fetched] = await rig.io.fetchSockets({ room: sid });
        expect(fetched?.recovered).to.equal(true);
        await peer.sync();
        expect(ticks(peer)).to.deep.equal(range(0, 110));
        const offsets = peer.inbox('tick').items.map((args) => args[1]);
        expect(new Set(offsets).size).to.equal(110);
        // Live again: the next packet comes once, after the recovered ones.
        rig.io.emit('tick', 110, { to: 'lobby' });
        await receive(peer, 111);
        expect(ticks(peer)).to.deep.equal(range(0, 111));
      });

      it('connects fresh past maxDisconnectionDuration', async function () {
        rig = await Rig.start(asyncMode, transport, { maxDisconnectionDuration: 0.3 });
        const peer = await rig.connect({ auth: { name: 'bo' } });
        const [sid] = await welcome(peer);
        rig.io.emit('tick', 0, { to: 'lobby' });
        await receive(peer, 1);
        await rig.cut();
        expect(await rig.noticed(sid)).to.equal(true);
        rig.io.emit('tick', 1, { to: 'lobby' });
        await delay(500);
        await rig.restore(peer);
        expect(peer.socket.recovered).to.equal(false);
        expect(peer.id).to.not.equal(sid);
        const [fresh, recovered] = await welcome(peer);
        expect([fresh, recovered]).to.deep.equal([peer.id, false]);
        expect(await state(peer)).to.deep.equal({
          sid: peer.id,
          recovered: false,
          rooms: [peer.id, 'lobby'].sort(),
          name: 'bo',
          admitted: 1,
        });
        expect(ticks(peer)).to.deep.equal([0]);
      });

      it('keeps nothing for a client that disconnects on purpose', async function () {
        rig = await Rig.start(asyncMode, transport);
        const peer = await rig.connect();
        const [sid] = await welcome(peer);
        rig.io.emit('tick', 0, { to: 'lobby' });
        await receive(peer, 1);
        peer.socket.disconnect();
        expect(await rig.noticed(sid)).to.equal(true);
        rig.io.emit('tick', 1, { to: 'lobby' });
        const back = new Promise<void>((resolve) => peer.socket.once('connect', () => resolve()));
        peer.socket.connect();
        await within(back, 'the new connection');
        expect(peer.socket.recovered).to.equal(false);
        expect(peer.id).to.not.equal(sid);
        expect((await welcome(peer))[1]).to.equal(false);
        await peer.sync();
        expect(ticks(peer)).to.deep.equal([0]);
      });

      it('connects fresh, with nothing replayed, when the client missed more than maxPacketsPerSession', async function () {
        rig = await Rig.start(asyncMode, transport, { maxPacketsPerSession: 50 });
        const peer = await rig.connect();
        const [sid] = await welcome(peer);
        for (let i = 0; i < 10; i++) rig.io.emit('tick', i, { to: 'lobby' });
        await receive(peer, 10);
        await rig.cut();
        await rig.noticed(sid);
        for (let i = 10; i < 61; i++) rig.io.emit('tick', i, { to: 'lobby' });
        await rig.restore(peer);
        expect(peer.socket.recovered).to.equal(false);
        expect(peer.id).to.not.equal(sid);
        await peer.sync();
        expect(ticks(peer)).to.deep.equal(range(0, 10));
      });
    });
  }
}

describe('connection state recovery', function () {
  const websocket = CLIENT_TRANSPORTS[0] as ClientTransport;
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  it('refuses bad option values with the option and the unit named', function () {
    const cases: [unknown, RegExp][] = [
      [
        { maxDisconnectionDuration: 120_000 },
        /maxDisconnectionDuration: .*seconds.*not milliseconds/,
      ],
      [{ maxDisconnectionDuration: 0 }, /maxDisconnectionDuration: expected a number of seconds/],
      [{ skipMiddlewares: 'yes' }, /skipMiddlewares: expected true or false/],
      [{ maxPacketsPerSession: 0 }, /maxPacketsPerSession: expected a whole number >= 1/],
      [{ maxSessions: 2.5 }, /maxSessions: expected a whole number >= 1/],
      [5, /connectionStateRecovery: expected true, false, or \{ maxDisconnectionDuration/],
      [
        { store: 'redis' },
        /store: expected 'redis' with a redis:\/\/ messageQueue .*not set.*store: 'redis:\/\/host:6379\/0'/,
      ],
      [
        { store: 'mongodb://x' },
        /store: expected 'memory', 'redis', or a redis:\/\/ or rediss:\/\/ URL/,
      ],
      [{ maxStreamLength: 0 }, /maxStreamLength: expected a whole number >= 1/],
    ];
    for (const [value, message] of cases) {
      expect(() => new SocketIO({ connectionStateRecovery: value as never }))
        .to.throw(OptionError)
        .with.property('message')
        .that.matches(message);
    }
    expect(
      () =>
        new SocketIO({
          messageQueue: 'amqp://guest:guest@127.0.0.1:5672/',
          connectionStateRecovery: { store: 'redis' },
        }),
    )
      .to.throw(OptionError)
      .with.property('message')
      .that.matches(/the messageQueue is not a redis:\/\/ URL/);
    expect(() => new SocketIO({ connectionStateRecovery: { maxDisconnectDuration: 5 } as never }))
      .to.throw(UnknownOptionError)
      .with.property('message')
      .that.matches(/did you mean maxDisconnectionDuration\?/);
  });

  it('recovers a client that missed exactly maxPacketsPerSession packets', async function () {
    rig = await Rig.start('event-loop', websocket, { maxPacketsPerSession: 50 });
    const peer = await rig.connect();
    const [sid] = await welcome(peer);
    for (let i = 0; i < 10; i++) rig.io.emit('tick', i, { to: 'lobby' });
    await receive(peer, 10);
    await rig.cut();
    expect(await rig.noticed(sid)).to.equal(true);
    for (let i = 10; i < 60; i++) rig.io.emit('tick', i, { to: 'lobby' });
    await rig.restore(peer);
    expect(peer.socket.recovered).to.equal(true);
    await receive(peer, 60);
    expect(ticks(peer)).to.deep.equal(range(0, 60));
  });

  it('forgets the oldest session past maxSessions', async function () {
    rig = await Rig.start('event-loop', websocket, { maxSessions: 1 });
    const first = await rig.connect();
    const second = await rig.connect();
    const sids = [(await welcome(first))[0], (await welcome(second))[0]];
    // Cut one after the other (the client's own engine close, no automatic reconnection).
    for (const [i, peer] of [first, second].entries()) {
      peer.socket.io.reconnection(false);
      peer.socket.io.engine.close();
      expect(await rig.noticed(sids[i] as string)).to.equal(true);
    }
    for (const peer of [first, second]) {
      const back = new Promise<void>((resolve) => peer.socket.once('connect', () => resolve()));
      peer.socket.connect();
      await within(back, 'the reconnection');
    }
    expect([first.socket.recovered, second.socket.recovered]).to.deep.equal([false, true]);
    expect(second.id).to.equal(sids[1]);
  });

  it('runs the io.use middlewares again with skipMiddlewares: false', async function () {
    rig = await Rig.start('event-loop', websocket, { skipMiddlewares: false });
    const peer = await rig.connect();
    const [sid] = await welcome(peer);
    await rig.cut();
    expect(await rig.noticed(sid)).to.equal(true);
    await rig.restore(peer);
    expect(peer.socket.recovered).to.equal(true);
    expect((await state(peer)).admitted).to.equal(2);
  });

  it('puts no offset on volatile packets, packets with an ack id, or acks', async function () {
    rig = await Rig.start('event-loop', websocket);
    rig.io.on('ask', () => 'answer');
    const raw = await rig.h.raw();
    raw.send('0');
    const connected = JSON.parse((await raw.nextText('the CONNECT answer')).slice(1)) as {
      sid: string;
      pid: string;
    };
    expect(connected.pid).to.be.a('string').and.not.equal(connected.sid);
    expect(await raw.nextText('the welcome')).to.match(/^2\["welcome",\[.*\],"[^"]+"\]$/);
    rig.io.volatile.emit('v', 1);
    expect(await raw.nextText('the volatile packet')).to.equal('2["v",1]');
    rig.io.emit('a', 1, { to: connected.sid, callback: () => undefined });
    expect(await raw.nextText('the packet with an ack id')).to.equal('20["a",1]');
    raw.send('27["ask"]');
    expect(await raw.nextText('the ack')).to.equal('37["answer"]');
    rig.io.emit('n', 1);
    expect(await raw.nextText('the kept packet')).to.match(/^2\["n",1,"[^"]+"\]$/);
  });

  for (const store of ['memory', 'redis'] as const)
    it(`lets a client back before the server noticed its cut take its session over (${store})`, async function () {
      Rig.store = store;
      rig = await Rig.start('event-loop', websocket);
      Rig.store = 'memory';
      const gone: string[] = [];
      rig.io.on('disconnect', (reason: string) => void gone.push(reason));
      const old = await rig.h.raw();
      old.send('0{"name":"cy"}');
      const { sid, pid } = JSON.parse((await old.nextText('the CONNECT answer')).slice(1)) as {
        sid: string;
        pid: string;
      };
      const greeting = await old.nextText('the welcome');
      const offset = (JSON.parse(greeting.slice(1)) as unknown[])[2];
      rig.io.emit('tick', 0, { to: 'lobby' });
      expect(await old.nextText('tick 0')).to.match(/^2\["tick",0,/);
      // A second connection presents the pid while the first is still open (as a client does
      // when only its side saw the network go): it gets the same sid and tick 0 again, since
      // its offset is from before tick 0.
      const fresh = await rig.h.raw();
      fresh.send(`0${JSON.stringify({ pid, offset, name: 'cy' })}`);
      expect(JSON.parse((await fresh.nextText('the CONNECT answer')).slice(1))).to.deep.equal({
        sid,
        pid,
      });
      expect(await fresh.nextText('tick 0, missed')).to.match(/^2\["tick",0,/);
      expect(await fresh.nextText('the welcome')).to.match(
        /^2\["welcome",\[".*",true,\{"name":"cy"\}\]/,
      );
      expect(gone).to.deep.equal(['transport close']);
      rig.io.emit('tick', 1, { to: sid });
      expect(await fresh.nextText('tick 1')).to.match(/^2\["tick",1,/);
    });

  it('recovers with the msgpack parser', async function () {
    rig = await Rig.start('event-loop', websocket, {}, { parser: 'msgpack' });
    const peer = await rig.connect(MSGPACK);
    const [sid] = await welcome(peer);
    rig.io.emit('tick', 0, { to: 'lobby' });
    await receive(peer, 1);
    await rig.cut();
    expect(await rig.noticed(sid)).to.equal(true);
    for (let i = 1; i < 101; i++)
      rig.io.emit('tick', i % 3 === 0 ? Buffer.from([i]) : i, { to: i % 2 ? 'lobby' : sid });
    await rig.restore(peer);
    expect(peer.socket.recovered).to.equal(true);
    await receive(peer, 101);
    expect(
      ticks(peer).map((t) =>
        typeof t === 'number' ? t : (new Uint8Array(t as ArrayBuffer)[0] ?? -1),
      ),
    ).to.deep.equal(range(0, 101));
  });

  for (const parser of ['json', 'msgpack'] as const) {
    it(`keeps packets another process emits over Redis (${parser})`, async function () {
      const channel = `recovery-${randomBytes(4).toString('hex')}`;
      const queue = { messageQueue: REDIS_URL, channel, parser };
      rig = await Rig.start('event-loop', websocket, {}, queue);
      const emitter = new SocketIO(queue);
      try {
        const peer = await rig.connect(parser === 'msgpack' ? MSGPACK : {});
        const [sid] = await welcome(peer);
        await rig.cut();
        expect(await rig.noticed(sid)).to.equal(true);
        for (let i = 0; i < 50; i++) {
          rig.io.emit('local', i, { to: 'lobby' });
          emitter.emit('remote', i, { to: i % 2 ? 'lobby' : sid });
        }
        await emitter.flush();
        await rig.restore(peer);
        expect(peer.socket.recovered).to.equal(true);
        await receive(peer, 50, 'local');
        await receive(peer, 50, 'remote');
        expect(ticks(peer, 'local')).to.deep.equal(range(0, 50));
        expect(ticks(peer, 'remote')).to.deep.equal(range(0, 50));
      } finally {
        await emitter.stop();
      }
    });
  }
});
