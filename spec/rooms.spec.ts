/**
 * RoomRegistry (lib/rooms.ts): unit cases, then a model-based
 * property comparing it after every operation with a plain Map of Sets.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { RoomRegistry } from '../lib/rooms.js';
import { runParameters } from './helpers/props.js';

// FC_RUNS raises or lowers the number of generated cases; the time budget caps the property.
const RUNS = positiveInt(process.env.FC_RUNS, 100);
const BUDGET_MS = 5_000;

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

describe('RoomRegistry', () => {
  let rooms: RoomRegistry;
  beforeEach(() => {
    rooms = new RoomRegistry();
  });

  it('starts empty', () => {
    expect(rooms.entries).to.equal(0);
    expect(rooms.namespaces()).to.deep.equal([]);
    expect(sorted(rooms.members('/', undefined))).to.deep.equal([]);
    expect(sorted(rooms.members('/', ['lobby']))).to.deep.equal([]);
    expect(sorted(rooms.roomsOf('/', 's1'))).to.deep.equal([]);
    expect(rooms.sizes('/').size).to.equal(0);
  });

  it('join puts a sid in a room, once however often it joins', () => {
    rooms.join('/', 's1', 'lobby');
    rooms.join('/', 's1', 'lobby');
    expect(sorted(rooms.members('/', ['lobby']))).to.deep.equal(['s1']);
    expect(sorted(rooms.roomsOf('/', 's1'))).to.deep.equal(['lobby']);
    expect(rooms.entries).to.equal(1);
    expect(rooms.namespaces()).to.deep.equal(['/']);
  });

  it('members of several rooms is their union, without duplicates', () => {
    rooms.join('/', 's1', 'a');
    rooms.join('/', 's2', 'a');
    rooms.join('/', 's2', 'b');
    rooms.join('/', 's3', 'c');
    expect(sorted(rooms.members('/', ['a', 'b']))).to.deep.equal(['s1', 's2']);
    expect(sorted(rooms.members('/', ['b', 'c', 'nope']))).to.deep.equal(['s2', 's3']);
    expect(sorted(rooms.members('/', []))).to.deep.equal([]);
    expect(sorted(rooms.members('/', undefined))).to.deep.equal(['s1', 's2', 's3']);
  });

  it('namespaces are separate: the same room name in two namespaces', () => {
    rooms.join('/', 's1', 'lobby');
    rooms.join('/chat', 's2', 'lobby');
    expect(sorted(rooms.members('/', ['lobby']))).to.deep.equal(['s1']);
    expect(sorted(rooms.members('/chat', ['lobby']))).to.deep.equal(['s2']);
    expect(sorted(rooms.members('/chat', undefined))).to.deep.equal(['s2']);
    expect(sorted(rooms.namespaces())).to.deep.equal(['/', '/chat']);
    rooms.leaveAll('/', 's2');
    expect(sorted(rooms.members('/chat', ['lobby'])), 'leaveAll is per namespace').to.deep.equal([
      's2',
    ]);
  });

  it('leave removes one membership; leaving a room one is not in is a no-op', () => {
    rooms.join('/', 's1', 'a');
    rooms.join('/', 's1', 'b');
    rooms.leave('/', 's1', 'a');
    rooms.leave('/', 's1', 'zzz');
    rooms.leave('/nowhere', 's1', 'b');
    rooms.leave('/', 's9', 'b');
    expect(sorted(rooms.roomsOf('/', 's1'))).to.deep.equal(['b']);
    expect(sorted(rooms.members('/', ['a']))).to.deep.equal([]);
    expect(rooms.entries).to.equal(1);
    expect(rooms.sizes('/')).to.deep.equal(new Map([['b', 1]]));
  });

  it('leaveAll takes a sid out of every room and forgets the namespace once empty', () => {
    rooms.join('/', 's1', 's1');
    rooms.join('/', 's1', 'a');
    rooms.join('/', 's1', 'b');
    rooms.join('/', 's2', 'a');
    rooms.leaveAll('/', 's1');
    expect(sorted(rooms.roomsOf('/', 's1'))).to.deep.equal([]);
    expect(sorted(rooms.members('/', ['a', 'b', 's1']))).to.deep.equal(['s2']);
    expect(rooms.entries).to.equal(1);
    rooms.leaveAll('/', 's2');
    expect(rooms.entries).to.equal(0);
    expect(rooms.namespaces()).to.deep.equal([]);
    expect(rooms.sizes('/').size).to.equal(0);
  });

  it('close empties a room, returns who was in it, and leaves other rooms alone', () => {
    rooms.join('/', 's1', 'game');
    rooms.join('/', 's2', 'game');
    rooms.join('/', 's2', 'lobby');
    expect(sorted(rooms.close('/', 'game'))).to.deep.equal(['s1', 's2']);
    expect(sorted(rooms.members('/', ['game']))).to.deep.equal([]);
    expect(sorted(rooms.members('/', ['lobby']))).to.deep.equal(['s2']);
    expect(sorted(rooms.roomsOf('/', 's2'))).to.deep.equal(['lobby']);
    expect(sorted(rooms.members('/', undefined))).to.deep.equal(['s2']);
    expect(rooms.close('/', 'game')).to.deep.equal([]);
    expect(rooms.close('/elsewhere', 'lobby')).to.deep.equal([]);
  });

  it('members returns a copy the caller may change', () => {
    rooms.join('/', 's1', 'a');
    rooms.members('/', ['a']).add('intruder');
    rooms.members('/', undefined).add('intruder');
    rooms.members('/', ['a', 'b']).add('intruder');
    expect(sorted(rooms.members('/', ['a']))).to.deep.equal(['s1']);
    expect(sorted(rooms.members('/', undefined))).to.deep.equal(['s1']);
    expect(rooms.entries).to.equal(1);
  });

  it('sizes counts the members of each room', () => {
    rooms.join('/', 's1', 'a');
    rooms.join('/', 's2', 'a');
    rooms.join('/', 's2', 'b');
    expect(rooms.sizes('/')).to.deep.equal(
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
  });
});

// ---------------------------------------------------------------------------
// Model-based property.

const NAMESPACES = ['/', '/chat', '/x'] as const;
const SIDS = ['s1', 's2', 's3', 's4'] as const;
// Rooms named after sids too, as the server puts every socket in its own sid room.
const ROOMS = ['a', 'b', 'c', 's1', 's2'] as const;

type Op =
  | { readonly op: 'join'; readonly nsp: string; readonly sid: string; readonly room: string }
  | { readonly op: 'leave'; readonly nsp: string; readonly sid: string; readonly room: string }
  | { readonly op: 'leaveAll'; readonly nsp: string; readonly sid: string }
  | { readonly op: 'close'; readonly nsp: string; readonly room: string };

const nspArb = fc.constantFrom(...NAMESPACES);
const sidArb = fc.constantFrom(...SIDS);
const roomArb = fc.constantFrom(...ROOMS);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('join' as const),
      nsp: nspArb,
      sid: sidArb,
      room: roomArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('leave' as const),
      nsp: nspArb,
      sid: sidArb,
      room: roomArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('leaveAll' as const), nsp: nspArb, sid: sidArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('close' as const), nsp: nspArb, room: roomArb }),
  },
);

/** The reference: namespace -> room -> sids, with nothing empty kept. */
class Model {
  readonly rooms = new Map<string, Map<string, Set<string>>>();

  join(nsp: string, sid: string, room: string): void {
    let byRoom = this.rooms.get(nsp);
    if (byRoom === undefined) this.rooms.set(nsp, (byRoom = new Map<string, Set<string>>()));
    let members = byRoom.get(room);
    if (members === undefined) byRoom.set(room, (members = new Set()));
    members.add(sid);
  }

  leave(nsp: string, sid: string, room: string): void {
    const byRoom = this.rooms.get(nsp);
    const members = byRoom?.get(room);
    if (byRoom === undefined || members === undefined) return;
    members.delete(sid);
    if (members.size === 0) byRoom.delete(room);
    if (byRoom.size === 0) this.rooms.delete(nsp);
  }

  leaveAll(nsp: string, sid: string): void {
    for (const room of this.roomsOf(nsp, sid)) this.leave(nsp, sid, room);
  }

  close(nsp: string, room: string): string[] {
    const members = [...(this.rooms.get(nsp)?.get(room) ?? [])];
    for (const sid of members) this.leave(nsp, sid, room);
    return members;
  }

  members(nsp: string, rooms: readonly string[] | undefined): string[] {
    const byRoom = this.rooms.get(nsp);
    const out = new Set<string>();
    for (const [room, members] of byRoom ?? []) {
      if (rooms !== undefined && !rooms.includes(room)) continue;
      for (const sid of members) out.add(sid);
    }
    return sorted(out);
  }

  roomsOf(nsp: string, sid: string): string[] {
    const out: string[] = [];
    for (const [room, members] of this.rooms.get(nsp) ?? []) if (members.has(sid)) out.push(room);
    return sorted(out);
  }

  get entries(): number {
    let n = 0;
    for (const byRoom of this.rooms.values())
      for (const members of byRoom.values()) n += members.size;
    return n;
  }

  namespaces(): string[] {
    return sorted(this.rooms.keys());
  }

  sizes(nsp: string): [string, number][] {
    return [...(this.rooms.get(nsp) ?? [])]
      .map(([room, members]): [string, number] => [room, members.size])
      .sort(([x], [y]) => x.localeCompare(y));
  }
}

function apply(real: RoomRegistry, model: Model, op: Op): void {
  switch (op.op) {
    case 'join':
      real.join(op.nsp, op.sid, op.room);
      model.join(op.nsp, op.sid, op.room);
      return;
    case 'leave':
      real.leave(op.nsp, op.sid, op.room);
      model.leave(op.nsp, op.sid, op.room);
      return;
    case 'leaveAll':
      real.leaveAll(op.nsp, op.sid);
      model.leaveAll(op.nsp, op.sid);
      return;
    case 'close':
      expect(sorted(real.close(op.nsp, op.room)), `close(${op.nsp}, ${op.room})`).to.deep.equal(
        sorted(model.close(op.nsp, op.room)),
      );
  }
}

/** Several-room queries: every pair of rooms, and all of them. */
const ROOM_QUERIES: readonly (readonly string[])[] = [
  ...ROOMS.flatMap((r1, i) => ROOMS.slice(i + 1).map((r2) => [r1, r2])),
  ROOMS,
];

function expectSame(real: RoomRegistry, model: Model, step: string): void {
  for (const nsp of NAMESPACES) {
    for (const room of ROOMS) {
      expect(
        sorted(real.members(nsp, [room])),
        `${step}: members(${nsp}, [${room}])`,
      ).to.deep.equal(model.members(nsp, [room]));
    }
    for (const query of ROOM_QUERIES) {
      expect(
        sorted(real.members(nsp, query)),
        `${step}: members(${nsp}, [${query.join()}])`,
      ).to.deep.equal(model.members(nsp, query));
    }
    expect(sorted(real.members(nsp, undefined)), `${step}: members(${nsp})`).to.deep.equal(
      model.members(nsp, undefined),
    );
    for (const sid of SIDS) {
      expect(sorted(real.roomsOf(nsp, sid)), `${step}: roomsOf(${nsp}, ${sid})`).to.deep.equal(
        model.roomsOf(nsp, sid),
      );
    }
    expect(
      [...real.sizes(nsp)].sort(([x], [y]) => x.localeCompare(y)),
      `${step}: sizes(${nsp})`,
    ).to.deep.equal(model.sizes(nsp));
  }
  expect(real.entries, `${step}: entries`).to.equal(model.entries);
  expect(sorted(real.namespaces()), `${step}: namespaces()`).to.deep.equal(model.namespaces());
}

describe('RoomRegistry matches a Map-of-Sets model (property)', function () {
  this.timeout(BUDGET_MS + 10_000);

  it('after every join/leave/leaveAll/close, and nothing outlives its members', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const real = new RoomRegistry();
        const model = new Model();
        ops.forEach((op, i) => {
          apply(real, model, op);
          expectSame(real, model, `step ${i} ${JSON.stringify(op)}`);
        });
        for (const nsp of NAMESPACES) for (const sid of SIDS) real.leaveAll(nsp, sid);
        expect(real.entries, 'entries after everyone left').to.equal(0);
        expect(real.namespaces(), 'namespaces after everyone left').to.deep.equal([]);
        for (const nsp of NAMESPACES) {
          expect(real.sizes(nsp).size, `rooms of ${nsp} after everyone left`).to.equal(0);
          expect(real.members(nsp, undefined).size).to.equal(0);
        }
      }),
      runParameters(RUNS, BUDGET_MS),
    );
  });
});
