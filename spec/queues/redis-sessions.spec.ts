/**
 * The Redis session store of connection state recovery (lib/queues/redis-sessions.ts)
 * against the real Redis on 127.0.0.1:6379: two stores stand for two processes. A session is
 * kept with its log, packets are appended to the stream by the process that emits them, and
 * a take gives back what the client missed, in order, each once, or nothing at all.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { realClock } from '../../schedulers/clock.js';
import { PacketLog } from '../../lib/queues/packet-log.js';
import { RedisSessionStore } from '../../lib/queues/redis-sessions.js';
import type { RedisSessionLimits } from '../../lib/queues/redis-sessions.js';
import { reaches } from '../../lib/queues/sessions.js';
import type { LoggedPacket, PacketRoute, SessionState } from '../../lib/queues/sessions.js';
import { REDIS_URL, portOpen } from '../helpers/queues.js';
import { delay } from '../helpers/raw-engine.js';

const LIMITS: RedisSessionLimits = {
  maxDisconnectionMs: 10_000,
  maxPacketsPerSession: 50,
  maxStreamLength: 10_000,
};

/** The text of a packet: the tick's value, then its offset. */
const tick = (value: string, offset: string): string => `42["tick","${value}","${offset}"]`;

/** The tick values of packets. */
const values = (packets: readonly LoggedPacket[] | undefined): string[] | undefined =>
  packets?.map((p) => {
    const [, value] = JSON.parse(String(p.parts[0]).slice(2)) as [string, string];
    return value;
  });

/** One server process: its store, and what it writes to its one client's socket. */
class Process {
  readonly store: RedisSessionStore;

  constructor(prefix: string, limits: RedisSessionLimits = LIMITS) {
    this.store = new RedisSessionStore({ url: REDIS_URL, prefix, limits, clock: realClock });
  }

  /** Emits to `route`: written to `log` when its socket is reached, and to the stream. */
  emit(route: PacketRoute, value: string, socket?: { log: PacketLog; state: SessionState }) {
    const offset = this.store.nextOffset();
    const packet: LoggedPacket = { offset, parts: [tick(value, offset)] };
    if (socket !== undefined && reaches(route, socket.state)) socket.log.push(packet);
    this.store.append(route, packet);
    return packet;
  }

  /** Receives another process's packet over the queue (stamped again here). */
  receive(
    route: PacketRoute,
    sent: LoggedPacket,
    socket?: { log: PacketLog; state: SessionState },
  ): void {
    const offset = this.store.nextOffset();
    const [, value] = JSON.parse(String(sent.parts[0]).slice(2)) as [string, string];
    const packet: LoggedPacket = { offset, parts: [tick(value, offset)], origin: sent.offset };
    if (socket !== undefined && reaches(route, socket.state)) socket.log.push(packet);
    this.store.append(route, packet);
  }
}

describe('RedisSessionStore on Redis', function () {
  let prefix: string;
  let redis: Redis;
  let processes: Process[] = [];

  before(async function () {
    if (!(await portOpen(6379)))
      throw new Error('Redis is not listening on 127.0.0.1:6379; run scripts/services.sh');
    redis = new Redis(REDIS_URL);
  });

  after(async function () {
    await redis?.quit();
  });

  beforeEach(function () {
    prefix = `spec-sessions-${process.pid}-${randomBytes(4).toString('hex')}`;
  });

  afterEach(async function () {
    await Promise.all(processes.map((p) => p.store.close()));
    processes = [];
    const keys = await redis.keys(`${prefix}#*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  /** Until Redis has run every write of every process so far. */
  async function written(): Promise<void> {
    await Promise.all(processes.map((p) => p.store.written()));
  }

  function start(limits?: RedisSessionLimits): Process {
    const p = new Process(prefix, limits);
    processes.push(p);
    return p;
  }

  /** A connected client of `p` in room `r`. */
  function client(p: Process, pid = 'P1'): { log: PacketLog; state: SessionState } {
    const log = p.store.open();
    const state: SessionState = { pid, sid: `sid-${pid}`, nsp: '/', rooms: ['r'], data: { n: 1 } };
    return { log, state };
  }

  const toRoom: PacketRoute = { nsp: '/', to: ['r'] };

  it('keeps a session under a key with the TTL, and gives it back once with what came after the offset', async function () {
    const a = start();
    const socket = client(a);
    const read = a.emit(toRoom, 'a0', socket);
    a.emit(toRoom, 'a1', socket);
    a.store.keep(socket.state, socket.log);
    a.emit(toRoom, 'a2');
    await written();
    const ttl = await redis.pttl(`${prefix}#session:P1`);
    expect(ttl).to.be.within(1, LIMITS.maxDisconnectionMs);

    const b = start();
    const [first, second] = await Promise.all([
      b.store.take('P1', '/', read.offset),
      a.store.take('P1', '/', read.offset),
    ]);
    const taken = first ?? second;
    expect(
      [first, second].filter((t) => t !== undefined),
      'taken once',
    ).to.have.length(1);
    expect(taken?.sid).to.equal('sid-P1');
    expect(taken?.rooms).to.deep.equal(['r']);
    expect(taken?.data).to.deep.equal({ n: 1 });
    expect(Object.getPrototypeOf(taken?.data)).to.equal(null);
    expect(values(taken?.missed)).to.deep.equal(['a1', 'a2']);
    expect(await redis.exists(`${prefix}#session:P1`)).to.equal(0);
  });

  it('gives a session only for its namespace and only within its time', async function () {
    const a = start({ ...LIMITS, maxDisconnectionMs: 300 });
    const socket = client(a);
    a.store.keep(socket.state, socket.log);
    await written();
    expect(await a.store.take('P1', '/chat', undefined)).to.equal(undefined);
    await delay(400);
    expect(await a.store.take('P1', '/', undefined)).to.equal(undefined);
  });

  it('adds what other processes sent to its rooms after the keep, once, in order, and nothing else', async function () {
    const a = start();
    const b = start();
    const socket = client(a);
    // Before the client joined the room: A received it, it did not reach the socket.
    const early = b.emit(toRoom, 'early');
    a.receive(toRoom, early);
    const b0 = b.emit(toRoom, 'b0');
    a.receive(toRoom, b0, socket);
    const read = a.emit(toRoom, 'a0', socket);
    const b1 = b.emit(toRoom, 'b1');
    a.receive(toRoom, b1, socket); // written to the socket: the client never read it
    // Published just before the keep and still in flight to A: A never writes it.
    b.emit(toRoom, 'b2');
    a.store.keep(socket.state, socket.log);
    b.emit(toRoom, 'b3');
    b.emit({ nsp: '/', to: ['other'] }, 'elsewhere');
    b.emit({ nsp: '/', to: ['r'], except: ['r'] }, 'excepted');
    b.emit({ nsp: '/', to: ['r'], skip: new Set(['sid-P1']) }, 'skipped');
    b.emit({ nsp: '/chat', to: undefined }, 'other namespace');
    // Two processes' packets are in the order Redis took them: each waits for the other's here.
    await written();
    a.emit({ nsp: '/', to: undefined }, 'a1');
    await written();
    b.emit({ nsp: '/', to: ['sid-P1'] }, 'b4');
    await written();
    const taken = await b.store.take('P1', '/', read.offset);
    expect(values(taken?.missed)).to.deep.equal(['b1', 'b2', 'b3', 'a1', 'b4']);
    // The log the restored socket goes on with has them, for its next cut.
    const log = taken?.log;
    expect(log).to.be.instanceOf(PacketLog);
    expect(values((log as PacketLog).packets())).to.deep.equal(['b1', 'b2', 'b3', 'a1', 'b4']);
  });

  it('adds a packet in flight from a process the keeper never heard from', async function () {
    const a = start();
    const c = start();
    const socket = client(a);
    const read = a.emit(toRoom, 'a0', socket);
    c.emit(toRoom, 'c0');
    a.store.keep(socket.state, socket.log);
    await written();
    const taken = await a.store.take('P1', '/', read.offset);
    expect(values(taken?.missed)).to.deep.equal(['c0']);
  });

  it('keeps binary parts byte for byte', async function () {
    const a = start();
    const b = start();
    const socket = client(a);
    const bytes = Buffer.from([0, 255, 10, 13, 128]);
    const logged = a.store.nextOffset();
    socket.log.push({
      offset: logged,
      parts: ['451-["file",{"_placeholder":true,"num":0}]', bytes],
    });
    a.store.keep({ ...socket.state, data: { file: bytes } }, socket.log);
    const offset = b.store.nextOffset();
    b.store.append(toRoom, {
      offset,
      parts: ['451-["more",{"_placeholder":true,"num":0}]', bytes],
    });
    await written();
    const taken = await a.store.take('P1', '/', undefined);
    expect(taken?.missed.map((p) => p.parts[1])).to.deep.equal([bytes, bytes]);
    expect(taken?.data?.file).to.deep.equal(bytes);
  });

  it('restores a session that missed exactly maxPacketsPerSession packets, and none that missed more', async function () {
    const limits = { ...LIMITS, maxPacketsPerSession: 5 };
    const a = start(limits);
    const b = start(limits);
    for (const [pid, count] of [
      ['P5', 5],
      ['P6', 6],
    ] as const) {
      const socket = client(a, pid);
      a.store.keep(socket.state, socket.log);
      for (let i = 0; i < count; i++) b.emit({ nsp: '/', to: [`sid-${pid}`] }, `${pid}-${i}`);
    }
    await written();
    const five = await a.store.take('P5', '/', undefined);
    expect(values(five?.missed)).to.deep.equal(['P5-0', 'P5-1', 'P5-2', 'P5-3', 'P5-4']);
    expect(await a.store.take('P6', '/', undefined)).to.equal(undefined);
  });

  it('restores no session whose stream entries were trimmed away', async function () {
    const limits = { ...LIMITS, maxStreamLength: 10 };
    const a = start(limits);
    const b = start(limits);
    const socket = client(a);
    a.store.keep(socket.state, socket.log);
    b.emit(toRoom, 'first');
    // MAXLEN ~ trims whole stream nodes (100 entries each by default).
    for (let i = 0; i < 400; i++) b.emit({ nsp: '/', to: ['other'] }, `x${i}`);
    await written();
    expect(await redis.xlen(`${prefix}#stream`)).to.be.below(400);
    expect(await a.store.take('P1', '/', undefined)).to.equal(undefined);
  });

  it('close() waits for the sessions kept just before it', async function () {
    const a = start();
    const sockets = Array.from({ length: 200 }, (_, i) => client(a, `K${i}`));
    for (const socket of sockets) a.store.keep(socket.state, socket.log);
    expect(await a.store.close()).to.equal(true);
    processes = processes.filter((p) => p !== a);
    const b = start();
    const taken = await Promise.all(sockets.map((s) => b.store.take(s.state.pid, '/', undefined)));
    expect(taken.every((t) => t !== undefined)).to.equal(true);
  });
});
