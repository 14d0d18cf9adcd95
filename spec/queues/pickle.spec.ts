/**
 * The pickle reader (lib/queues/pickle.ts) on pickles that /usr/bin/python3
 * writes at test time, with protocols 2, 4 and 5 (3 too where protocol 2 has
 * no opcode for the type): one spec per type python-socketio's queue messages
 * use, and refusal of anything that would name a class or global.
 */
import { expect } from 'chai';
import { PickleError, PyTuple, unpickle } from '../../lib/queues/pickle.js';
import { PYTHON, runPython } from '../helpers/queues.js';

/** One value to pickle: a Python expression and the protocols to pickle it with. */
interface Case {
  readonly name: string;
  readonly expr: string;
  readonly protocols: readonly number[];
}

const MAIN = [2, 4, 5] as const;

const CASES: readonly Case[] = [
  { name: 'none', expr: 'None', protocols: MAIN },
  { name: 'true', expr: 'True', protocols: MAIN },
  { name: 'false', expr: 'False', protocols: MAIN },
  {
    name: 'small ints',
    expr: '[0, 1, 255, 256, 65535, 65536, -1, -128, -129, -65536, 2**31 - 1, -2**31]',
    protocols: MAIN,
  },
  {
    name: 'safe large ints',
    expr: '[2**31, -2**31 - 1, 2**40, -2**40, 2**53 - 1, -(2**53 - 1)]',
    protocols: MAIN,
  },
  {
    name: 'big ints',
    expr: '[2**53, -(2**53), 2**53 + 1, 2**64 + 1, -(2**100), 2**63 - 1]',
    protocols: MAIN,
  },
  { name: 'huge int', expr: '2**2100 + 7', protocols: MAIN },
  { name: 'huge negative int', expr: '-(3**1400)', protocols: MAIN },
  {
    name: 'floats',
    expr: "[0.0, 0.5, -1.25, 1e300, -2.5e-310, 3.141592653589793, float('inf'), float('-inf')]",
    protocols: MAIN,
  },
  { name: 'nan', expr: "float('nan')", protocols: MAIN },
  { name: 'negative zero', expr: '-0.0', protocols: MAIN },
  {
    name: 'strings',
    expr: "['', 'hello', 'héllo wörld', '日本語テキスト', 'emoji 🎉👍🏽', 'a\\x00b\\nc', 'x' * 300]",
    protocols: MAIN,
  },
  { name: 'long string', expr: "'ü' * 70000", protocols: MAIN },
  { name: 'bytes', expr: "[b'', b'\\x00\\x01\\xff', bytes(range(256)) * 2]", protocols: [3, 4, 5] },
  { name: 'bytes protocol 2', expr: "b'\\x00\\xff'", protocols: [2] },
  { name: 'bytearray', expr: "bytearray(b'\\x01\\x02\\x03')", protocols: [5] },
  { name: 'lists', expr: "[[], [1], [1, 'two', 3.0, None], list(range(2500))]", protocols: MAIN },
  {
    name: 'tuples',
    expr: "[(), (1,), (1, 'b'), (1, 'b', None), (1, 2, 3, 4, 5)]",
    protocols: MAIN,
  },
  { name: 'top tuple', expr: "('one', 2, {'x': 1})", protocols: MAIN },
  {
    name: 'dicts',
    expr: "{'a': 1, 'b': [True, False], 'ü': None, 7: 'int key', 'nested': {'deep': {'er': 'x'}}, '__proto__': 'plain key'}",
    protocols: MAIN,
  },
  { name: 'big dict', expr: "{f'k{i}': i for i in range(1500)}", protocols: MAIN },
  { name: 'sets', expr: "[set(), {1, 2, 3}, frozenset(['a']), frozenset()]", protocols: [4, 5] },
  { name: 'set protocol 2', expr: '{1, 2}', protocols: [2] },
  {
    name: 'socketio message',
    expr:
      "{'method': 'emit', 'event': 'py', 'data': ('one', 2, {'x': [1.5, None]}), 'namespace': '/', " +
      "'room': 'r', 'skip_sid': None, 'callback': None, 'host_id': 'abc123'}",
    protocols: MAIN,
  },
  {
    name: 'memo',
    expr: "(lambda shared, d: [shared, shared, {'a': d, 'b': d}, 'same', 'same'])([1, 2], {'k': 'v'})",
    protocols: MAIN,
  },
  { name: 'self reference', expr: '(lambda l: (l.append(l), l)[1])([])', protocols: MAIN },
  { name: 'object', expr: 'object()', protocols: MAIN },
  { name: 'datetime', expr: 'datetime.datetime(2020, 1, 2, 3, 4, 5)', protocols: MAIN },
  { name: 'decimal', expr: "decimal.Decimal('1.5')", protocols: MAIN },
  { name: 'complex', expr: 'complex(1, 2)', protocols: MAIN },
  { name: 'builtin function', expr: 'len', protocols: MAIN },
  { name: 'nested class instance', expr: "{'ok': 1, 'bad': [Point()]}", protocols: MAIN },
];

const GENERATOR = `
import base64, datetime, decimal, json, pickle, sys
class Point:
    pass
out = {}
for case in json.load(sys.stdin):
    value = eval(case['expr'])
    out[case['name']] = {str(p): base64.b64encode(pickle.dumps(value, protocol=p)).decode() for p in case['protocols']}
json.dump(out, sys.stdout)
`;

/** name → protocol → pickle bytes, written by Python in `before`. */
let pickles: Record<string, Record<string, string>> = {};

/** The pickles of a case, one per protocol. */
function each(name: string): [number, Buffer][] {
  const byProtocol = pickles[name];
  if (byProtocol === undefined) throw new Error(`no pickles for "${name}"`);
  return Object.entries(byProtocol).map(([p, b64]) => [Number(p), Buffer.from(b64, 'base64')]);
}

/** Unpickles every protocol's pickle of a case and checks each with `check`. */
function readAll(name: string, check: (value: unknown, protocol: number) => void): void {
  const all = each(name);
  expect(all.length).to.be.greaterThan(0);
  for (const [protocol, bytes] of all) check(unpickle(bytes), protocol);
}

/** Asserts that every protocol's pickle of a case is refused with a PickleError. */
function refusedAll(name: string): void {
  for (const [protocol, bytes] of each(name)) {
    let caught: unknown;
    try {
      unpickle(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught, `protocol ${protocol}`).to.be.instanceOf(PickleError);
    expect((caught as PickleError).code, `protocol ${protocol}`).to.equal('MQ_ERR_PICKLE');
  }
}

describe('pickle reader (pickles written by /usr/bin/python3)', function () {
  before(async function () {
    const result = await runPython(['-c', GENERATOR], JSON.stringify(CASES));
    if (result.code !== 0)
      throw new Error(`${PYTHON} could not write the pickles: ${result.stderr}`);
    pickles = JSON.parse(result.stdout) as Record<string, Record<string, string>>;
  });

  it('reads None as null', function () {
    readAll('none', (v) => expect(v).to.equal(null));
  });

  it('reads True and False', function () {
    readAll('true', (v) => expect(v).to.equal(true));
    readAll('false', (v) => expect(v).to.equal(false));
  });

  it('reads small ints, negative ones included, as numbers', function () {
    readAll('small ints', (v) =>
      expect(v).to.deep.equal([
        0,
        1,
        255,
        256,
        65535,
        65536,
        -1,
        -128,
        -129,
        -65536,
        2 ** 31 - 1,
        -(2 ** 31),
      ]),
    );
  });

  it('reads large ints up to 2^53 - 1 as numbers', function () {
    readAll('safe large ints', (v) => {
      expect(v).to.deep.equal([
        2 ** 31,
        -(2 ** 31) - 1,
        2 ** 40,
        -(2 ** 40),
        Number.MAX_SAFE_INTEGER,
        Number.MIN_SAFE_INTEGER,
      ]);
      for (const n of v as unknown[]) expect(typeof n).to.equal('number');
    });
  });

  it('reads ints beyond 2^53 as BigInt', function () {
    readAll('big ints', (v) =>
      expect(v).to.deep.equal([
        2n ** 53n,
        -(2n ** 53n),
        2n ** 53n + 1n,
        2n ** 64n + 1n,
        -(2n ** 100n),
        2n ** 63n - 1n,
      ]),
    );
  });

  it('reads ints too long for LONG1 (LONG4, over 255 bytes) as BigInt', function () {
    readAll('huge int', (v) => expect(v).to.equal(2n ** 2100n + 7n));
    readAll('huge negative int', (v) => expect(v).to.equal(-(3n ** 1400n)));
  });

  it('reads floats, infinities, NaN and -0.0', function () {
    readAll('floats', (v) =>
      expect(v).to.deep.equal([
        0,
        0.5,
        -1.25,
        1e300,
        -2.5e-310,
        3.141592653589793,
        Infinity,
        -Infinity,
      ]),
    );
    readAll('nan', (v) => expect(Number.isNaN(v)).to.equal(true));
    readAll('negative zero', (v) => expect(Object.is(v, -0)).to.equal(true));
  });

  it('reads str, non-ASCII and emoji included', function () {
    readAll('strings', (v) =>
      expect(v).to.deep.equal([
        '',
        'hello',
        'héllo wörld',
        '日本語テキスト',
        'emoji 🎉👍🏽',
        'a\u0000b\nc',
        'x'.repeat(300),
      ]),
    );
    readAll('long string', (v) => expect(v).to.equal('ü'.repeat(70000)));
  });

  it('reads bytes (protocols 3 to 5) and bytearray (protocol 5) as Buffers', function () {
    readAll('bytes', (v) => {
      const [empty, small, large] = v as Buffer[];
      expect(Buffer.isBuffer(empty)).to.equal(true);
      expect(empty?.length).to.equal(0);
      expect([...(small ?? [])]).to.deep.equal([0, 1, 255]);
      const all = Array.from({ length: 256 }, (_, i) => i);
      expect([...(large ?? [])]).to.deep.equal([...all, ...all]);
    });
    readAll('bytearray', (v) => {
      expect(Buffer.isBuffer(v)).to.equal(true);
      expect([...(v as Buffer)]).to.deep.equal([1, 2, 3]);
    });
  });

  it('refuses protocol 2 bytes, which Python writes through the global _codecs.encode', function () {
    refusedAll('bytes protocol 2');
  });

  it('reads lists, long ones (batched APPENDS) included', function () {
    readAll('lists', (v) => {
      const [empty, one, mixed, long] = v as unknown[][];
      expect(empty).to.deep.equal([]);
      expect(one).to.deep.equal([1]);
      expect(mixed).to.deep.equal([1, 'two', 3, null]);
      expect(long).to.deep.equal(Array.from({ length: 2500 }, (_, i) => i));
      expect(v).to.not.be.instanceOf(PyTuple);
    });
  });

  it('reads tuples of every length as PyTuple', function () {
    readAll('tuples', (v) => {
      const tuples = v as unknown[];
      expect(tuples).to.not.be.instanceOf(PyTuple);
      for (const t of tuples) expect(t).to.be.instanceOf(PyTuple);
      expect(tuples.map((t) => [...(t as PyTuple)])).to.deep.equal([
        [],
        [1],
        [1, 'b'],
        [1, 'b', null],
        [1, 2, 3, 4, 5],
      ]);
    });
    readAll('top tuple', (v) => {
      expect(v).to.be.instanceOf(PyTuple);
      expect([...(v as PyTuple)]).to.deep.equal(['one', 2, { x: 1 }]);
    });
  });

  it('reads dicts as plain objects with string keys', function () {
    readAll('dicts', (v) => {
      expect(v).to.deep.equal({
        a: 1,
        b: [true, false],
        ü: null,
        '7': 'int key',
        nested: { deep: { er: 'x' } },
        ['__proto__']: 'plain key',
      });
      // '__proto__' is an own key, not the prototype.
      expect(Object.getPrototypeOf(v)).to.equal(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(v, '__proto__')).to.equal(true);
    });
    readAll('big dict', (v) => {
      const dict = v as Record<string, number>;
      expect(Object.keys(dict)).to.have.length(1500);
      expect(dict.k0).to.equal(0);
      expect(dict.k1499).to.equal(1499);
    });
  });

  it('reads sets and frozensets (protocols 4 and 5) as arrays', function () {
    readAll('sets', (v) => {
      const [empty, numbers, frozen, frozenEmpty] = v as unknown[][];
      expect(empty).to.deep.equal([]);
      expect([...(numbers ?? [])].sort()).to.deep.equal([1, 2, 3]);
      expect(frozen).to.deep.equal(['a']);
      expect(frozenEmpty).to.deep.equal([]);
    });
  });

  it('refuses protocol 2 sets, which Python writes through the global builtins.set', function () {
    refusedAll('set protocol 2');
  });

  it('reads a python-socketio emit message with nested values', function () {
    readAll('socketio message', (v) => {
      const message = v as Record<string, unknown>;
      expect(message.data).to.be.instanceOf(PyTuple);
      expect({ ...message, data: [...(message.data as PyTuple)] }).to.deep.equal({
        method: 'emit',
        event: 'py',
        data: ['one', 2, { x: [1.5, null] }],
        namespace: '/',
        room: 'r',
        skip_sid: null,
        callback: null,
        host_id: 'abc123',
      });
    });
  });

  it('follows memo references (BINPUT / MEMOIZE and BINGET)', function () {
    readAll('memo', (v, protocol) => {
      expect(v, `protocol ${protocol}`).to.deep.equal([
        [1, 2],
        [1, 2],
        { a: { k: 'v' }, b: { k: 'v' } },
        'same',
        'same',
      ]);
    });
    // The pickles really use the memo: the shared list is written once.
    for (const [protocol, bytes] of each('memo')) {
      const gets = [...bytes].filter((b) => b === 0x68 || b === 0x6a).length;
      expect(gets, `memo gets in protocol ${protocol}`).to.be.greaterThan(0);
    }
  });

  it('refuses a self-referencing list with a PickleError instead of overflowing', function () {
    refusedAll('self reference');
  });

  it('refuses pickles naming a class or global (MQ_ERR_PICKLE)', function () {
    for (const name of [
      'object',
      'datetime',
      'decimal',
      'complex',
      'builtin function',
      'nested class instance',
    ])
      refusedAll(name);
  });

  it('refuses truncated and foreign bytes with a PickleError', function () {
    const [, whole] = each('socketio message')[0] as [number, Buffer];
    for (const cut of [1, 2, 10, whole.length - 1]) {
      expect(() => unpickle(whole.subarray(0, cut)), `first ${cut} bytes`).to.throw(PickleError);
    }
    expect(() => unpickle(Buffer.from([0x80, 0x06, 0x4e, 0x2e])), 'protocol 6').to.throw(
      PickleError,
    );
    expect(() => unpickle(Buffer.from('{"json": true}')), 'JSON').to.throw(PickleError);
  });
});
