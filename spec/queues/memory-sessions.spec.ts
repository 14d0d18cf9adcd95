/**
 * The in-memory session store of connection state recovery (lib/queues/memory-sessions.ts)
 * and its per-session log (lib/queues/packet-log.ts): a property comparing the log with a
 * plain list of everything pushed (whatever a client read last, it gets exactly what came
 * after, or nothing at all), then the store's routing and bounds on a virtual clock.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { VirtualClock } from '../../schedulers/clock.js';
import { MemorySessionStore } from '../../lib/queues/memory-sessions.js';
import type { MemorySessionLimits } from '../../lib/queues/memory-sessions.js';
import { PacketLog } from '../../lib/queues/packet-log.js';
import type { LoggedPacket, SessionState } from '../../lib/queues/sessions.js';
import { runParameters } from '../helpers/props.js';

const RUNS = Number(process.env.FC_RUNS) > 0 ? Number(process.env.FC_RUNS) : 200;
const params = runParameters(RUNS, 4_000);

function packet(offset: string): LoggedPacket {
  return { offset, parts: [`2["tick","${offset}"]`] };
}

const offsetsOf = (packets: readonly LoggedPacket[] | undefined): string[] | undefined =>
  packets?.map((p) => p.offset);

describe('PacketLog', () => {
  it('gives exactly what came after the last packet a client read, or nothing', function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: -1, max: 120 }),
        (capacity, pushed, lastRead) => {
          const log = new PacketLog(capacity, 0);
          const all = Array.from({ length: pushed }, (_, i) => `o${i}`);
          for (const offset of all) log.push(packet(offset));
          expect(log.size).to.equal(Math.min(capacity, pushed));
          const read = lastRead < pushed ? lastRead : pushed - 1;
          // -1: the client read nothing of this session.
          const got = read < 0 ? log.after(undefined, true) : log.after(all[read], false);
          const missed = all.slice(read + 1);
          if (missed.length <= capacity) expect(offsetsOf(got)).to.deep.equal(missed);
          else expect(got).to.equal(undefined);
        },
      ),
      params,
    );
  });

  it('refuses an offset it never had, unless the client read nothing and nothing fell out', function () {
    const log = new PacketLog(3, 0);
    log.push(packet('a'));
    expect(log.after('zzz', false)).to.equal(undefined);
    expect(offsetsOf(log.after('zzz', true))).to.deep.equal(['a']);
    for (const offset of ['b', 'c', 'd']) log.push(packet(offset));
    expect(log.after('zzz', true)).to.equal(undefined);
  });
});

const LIMITS: MemorySessionLimits = {
  maxDisconnectionMs: 10_000,
  maxPacketsPerSession: 5,
  maxSessions: 3,
};

function session(pid: string, rooms: string[] = [], nsp = '/'): SessionState {
  return { pid, sid: `sid-${pid}`, nsp, rooms, data: { who: pid } };
}

describe('MemorySessionStore', () => {
  let clock: VirtualClock;
  let store: MemorySessionStore;
  let lines: string[];

  beforeEach(() => {
    clock = new VirtualClock();
    lines = [];
    store = new MemorySessionStore(LIMITS, clock, (line) => lines.push(line));
  });
  afterEach(() => store.close());

  /** Keeps a session whose client read everything so far; returns the offset it read last. */
  function keep(state: SessionState): string {
    const log = store.open();
    const offset = store.nextOffset();
    log.push(packet(offset));
    store.keep(state, log);
    return offset;
  }

  function send(route: Parameters<MemorySessionStore['append']>[0]): string {
    const offset = store.nextOffset();
    store.append(route, packet(offset));
    return offset;
  }

  it('appends a packet to the kept sessions its rooms, skipped sids and except rooms reach', function () {
    const a = keep(session('a', ['red']));
    const b = keep(session('b', ['red', 'blue']));
    const c = keep(session('c', [], '/other'));
    const toRed = send({ nsp: '/', to: ['red'] });
    const toA = send({ nsp: '/', to: ['sid-a'] });
    const toAll = send({ nsp: '/', to: undefined });
    const redNotBlue = send({ nsp: '/', to: ['red'], except: ['blue'] });
    const skipA = send({ nsp: '/', to: undefined, skip: new Set(['sid-a']) });
    const toOther = send({ nsp: '/other', to: undefined });
    expect(store.holds('/')).to.equal(true);
    expect(store.holds('/nowhere')).to.equal(false);
    const restored = store.take('a', '/', a);
    expect(restored).to.include({ pid: 'a', sid: 'sid-a', nsp: '/' });
    expect(restored?.rooms).to.deep.equal(['red']);
    expect(restored?.data).to.deep.equal({ who: 'a' });
    expect(offsetsOf(restored?.missed)).to.deep.equal([toRed, toA, toAll, redNotBlue]);
    expect(offsetsOf(store.take('b', '/', b)?.missed)).to.deep.equal([toRed, toAll, skipA]);
    // Another namespace's client cannot take it; its own still can.
    expect(store.take('c', '/', c)).to.equal(undefined);
    expect(offsetsOf(store.take('c', '/other', c)?.missed)).to.deep.equal([toOther]);
    // Given back once.
    expect(store.take('a', '/', a)).to.equal(undefined);
    expect(store.size).to.equal(0);
    expect(store.holds('/')).to.equal(false);
  });

  it('forgets a session maxDisconnectionMs after it was kept, on its clock', function () {
    keep(session('a'));
    clock.advance(5_000);
    const b = keep(session('b'));
    clock.advance(5_001);
    expect(store.size).to.equal(1);
    expect(store.take('a', '/', undefined)).to.equal(undefined);
    clock.advance(4_999);
    expect(store.take('b', '/', b)?.sid).to.equal('sid-b');
    keep(session('c'));
    clock.advance(10_001);
    expect(store.size).to.equal(0);
  });

  it('forgets the oldest session past maxSessions', function () {
    for (const pid of ['a', 'b', 'c', 'd']) keep(session(pid));
    expect(store.size).to.equal(3);
    expect(store.take('a', '/', undefined)).to.equal(undefined);
    expect(store.take('d', '/', undefined)?.sid).to.equal('sid-d');
    expect(lines).to.deep.equal(['3 sessions kept: forgot the oldest']);
  });

  it('forgets a session that missed more than maxPacketsPerSession packets', function () {
    const a = keep(session('a', ['red']));
    keep(session('b', ['red']));
    for (let i = 0; i < 5; i++) send({ nsp: '/', to: ['red'] });
    send({ nsp: '/', to: ['sid-b'] });
    expect(store.size).to.equal(1);
    expect(offsetsOf(store.take('a', '/', a)?.missed)).to.have.length(5);
    expect(lines).to.deep.equal([
      'session sid-b missed more than 5 packets; it will connect fresh',
    ]);
  });

  it('gives everything to a client that read nothing of its session, unless some fell out', function () {
    const before = store.nextOffset(); // an earlier session's offset, of this process
    const log = store.open();
    const during = store.nextOffset();
    log.push(packet(during));
    store.keep(session('a'), log);
    const after = send({ nsp: '/', to: undefined });
    expect(offsetsOf(store.take('a', '/', before)?.missed)).to.deep.equal([during, after]);
    store.keep(session('a'), log);
    // Another process's offset, or none: the client read nothing of this one's.
    expect(offsetsOf(store.take('a', '/', 'elsewhere-1')?.missed)).to.deep.equal([during, after]);
    store.keep(session('a'), log);
    expect(offsetsOf(store.take('a', '/', undefined)?.missed)).to.deep.equal([during, after]);
    // An offset of this session that it never logged is a lie: nothing is given back.
    store.keep(session('a'), log);
    expect(store.take('a', '/', store.nextOffset())).to.equal(undefined);
  });
});
