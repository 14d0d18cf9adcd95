/**
 * A reader for the plain Python values python-socketio pickles onto its
 * message queue (pickle protocols 2 to 5): None, bools, ints, floats, str,
 * bytes, lists, tuples, dicts and sets. Anything else (a class, a global, a
 * reduce) is refused: unpickling arbitrary objects would run code.
 */

import { PickleError } from '../errors.js';
import { setOwn } from '../own-keys.js';

/** A Python tuple: an array that remembers it was a tuple (several emit arguments). */
export class PyTuple extends Array<unknown> {}

export { PickleError };

const MARK = Symbol('mark');
type Item = unknown;

/** Reads a Python 3 pickle of plain values. */
export function unpickle(input: Buffer): unknown {
  const stack: Item[] = [];
  const memo = new Map<number, Item>();
  let pos = 0;

  const need = (n: number): void => {
    if (pos + n > input.length) throw new PickleError('truncated pickle');
  };
  const u8 = (): number => {
    need(1);
    return input[pos++] as number;
  };
  const bytes = (n: number): Buffer => {
    need(n);
    const out = input.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u32 = (): number => {
    need(4);
    const v = input.readUInt32LE(pos);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = input.readBigUInt64LE(pos);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError('item too large');
    return Number(v);
  };
  const pop = (): Item => {
    if (stack.length === 0) throw new PickleError('stack underflow');
    return stack.pop();
  };
  const top = (): Item => {
    if (stack.length === 0) throw new PickleError('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): Item[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw new PickleError('mark not found');
    const items = stack.splice(i + 1);
    stack.pop();
    return items;
  };
  const setItem = (dict: Item, key: Item, value: Item): void => {
    if (!(dict instanceof Map)) throw new PickleError('SETITEM on a non-dict');
    dict.set(key, value);
  };
  const line = (): string => {
    const end = input.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError('truncated line');
    const text = input.toString('latin1', pos, end);
    pos = end + 1;
    return text;
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new PickleError('unsupported pickle protocol');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) throw new PickleError('bad stack at STOP');
        return toPlain(stack[0]);
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(input.readInt32LE(pos));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(input.readUInt16LE(pos));
        pos += 2;
        break;
      case 0x8a:
      case 0x8b: {
        // LONG1 / LONG4: little-endian two's complement
        const n =
          op === 0x8a
            ? u8()
            : (() => {
                need(4);
                const len = input.readInt32LE(pos);
                pos += 4;
                if (len < 0) throw new PickleError('negative LONG4 length');
                return len;
              })();
        const raw = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i] as number);
        if (n > 0 && ((raw[n - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * n);
        stack.push(
          v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(v)
            : v,
        );
        break;
      }
      case 0x49: {
        // INT (text): also how protocol 0/1 write bools
        const text = line();
        stack.push(text === '01' ? true : text === '00' ? false : Number.parseInt(text, 10));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(input.readDoubleBE(pos));
        pos += 8;
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(bytes(u8()).toString('utf8'));
        break;
      case 0x58: // BINUNICODE
        stack.push(bytes(u32()).toString('utf8'));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(bytes(u64()).toString('utf8'));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(Buffer.from(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(Buffer.from(bytes(u32())));
        break;
      case 0x8e: // BINBYTES8
        stack.push(Buffer.from(bytes(u64())));
        break;
      case 0x96: // BYTEARRAY8
        stack.push(Buffer.from(bytes(u64())));
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple());
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x74: // TUPLE
        stack.push(PyTuple.from(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(PyTuple.from([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(PyTuple.from([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(PyTuple.from([pop(), b, c]));
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) throw new PickleError('APPEND on a non-list');
        list.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw new PickleError('APPENDS on a non-list');
        list.push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) throw new PickleError('odd SETITEMS');
        const dict = top();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) throw new PickleError('ADDITEMS on a non-set');
        for (const item of items) set.add(item);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) throw new PickleError('memo key not found');
        stack.push(memo.get(key));
        break;
      }
      default:
        throw new PickleError(`pickle opcode 0x${op.toString(16)} is not a plain value (refused)`);
    }
  }
}

/** Maps become plain objects (string keys), sets become arrays, bigints stay bigints. */
function toPlain(value: unknown, depth = 0): unknown {
  if (depth > 100) throw new PickleError('nested too deeply');
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) setOwn(out, String(k), toPlain(v, depth + 1));
    return out;
  }
  if (value instanceof PyTuple) return PyTuple.from(value.map((v) => toPlain(v, depth + 1)));
  if (Array.isArray(value)) return value.map((v: unknown) => toPlain(v, depth + 1));
  if (value instanceof Set) return [...value].map((v) => toPlain(v, depth + 1));
  return value;
}
