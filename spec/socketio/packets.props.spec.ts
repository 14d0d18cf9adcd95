/**
 * Properties of the Socket.IO packet codec (lib/socketio/packets.ts): events
 * and acks round-trip with binary leaves; the decoder turns any input into
 * checked packets or a ProtocolError; the limits hold. Then, at the server
 * level, malformed packets close only the connection that sent them.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { io as connectClient } from 'socket.io-client';
import type { Socket as ClientSocket } from 'socket.io-client';
import { ProtocolError } from '../../lib/errors.js';
import { SocketIO } from '../../lib/index.js';
import { jsonCodec } from '../../lib/socketio/codec.js';
import {
  PacketDecoder,
  RESERVED_EVENTS,
  encodeAck,
  encodeEvent,
} from '../../lib/socketio/packets.js';
import type { DecodeLimits, InboundPacket } from '../../lib/socketio/packets.js';
import { ASYNC_MODES_UNDER_TEST, modeOptions } from '../helpers/modes.js';
import { RawWs } from '../helpers/raw-engine.js';
import { within } from '../helpers/socketio.js';
import { runParameters } from '../helpers/props.js';

// FC_RUNS raises or lowers the number of generated cases; the time budgets cap each property.
const RUNS = positiveInt(process.env.FC_RUNS, 100);
const NETWORK_RUNS = positiveInt(process.env.FC_RUNS, 15);
const BUDGET_MS = 4_000;
const NETWORK_BUDGET_MS = 6_000;
const params = runParameters(RUNS, BUDGET_MS);

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The server's defaults (options.ts). */
const DEFAULT_LIMITS: DecodeLimits = { maxAttachments: 10, maxEventNameLength: 256, maxDepth: 32 };
/** Limits no round-trip case comes near. */
const ROOMY_LIMITS: DecodeLimits = {
  maxAttachments: 100_000,
  maxEventNameLength: 100_000,
  maxDepth: 1_000,
};

// ---------------------------------------------------------------------------
// Arbitraries.

/** An object key that is plain data: not the prototype setter, not the binary placeholder marker. */
const keyArb = fc
  .string({ unit: 'binary', maxLength: 8 })
  .filter((k) => k !== '__proto__' && k !== '_placeholder');

const jsonLeafArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.integer(),
  // JSON has no -0: it arrives as 0.
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
  fc.boolean(),
  fc.constant(null),
);

/** Every kind of binary the encoder accepts, views with an offset included. */
const binaryLeafArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 48 }).map((u8) => Buffer.from(u8)),
  fc.uint8Array({ maxLength: 48 }),
  fc.uint8Array({ maxLength: 48 }).map((u8) => u8.slice().buffer),
  fc.tuple(fc.uint8Array({ maxLength: 48 }), fc.nat(7), fc.nat(7)).map(([u8, before, after]) => {
    const backing = new Uint8Array(before + u8.length + after).fill(0xee);
    backing.set(u8, before);
    return new Uint8Array(backing.buffer, before, u8.length);
  }),
  fc.int16Array({ maxLength: 16 }),
  fc.float64Array({ maxLength: 8 }),
);

const { value: valueArb } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeafArb,
    binaryLeafArb,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(keyArb, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
}));

const argsArb = fc.array(valueArb, { maxLength: 5 });

const eventNameArb = fc
  .string({ unit: 'binary', maxLength: 24 })
  .filter((name) => !RESERVED_EVENTS.has(name));

/** '/' or '/...' with anything but the comma that ends a namespace on the wire. */
const namespaceArb = fc.oneof(
  fc.constant('/'),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => `/${s.replaceAll(',', '')}`),
);

const ackIdArb = fc.maxSafeNat();

// ---------------------------------------------------------------------------
// Helpers.

function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** The bytes a binary value stands for. */
function bytesOf(value: ArrayBuffer | ArrayBufferView): Buffer {
  return value instanceof ArrayBuffer
    ? Buffer.from(value)
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function countBinary(value: unknown): number {
  if (isBinary(value)) return 1;
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  for (const child of Object.values(value)) n += countBinary(child);
  return n;
}

/** Decoded equals sent, with every binary leaf decoded as a Buffer of the same bytes. */
function expectSameValue(actual: unknown, expected: unknown, path = 'args'): void {
  if (isBinary(expected)) {
    expect(Buffer.isBuffer(actual), `${path} is a Buffer`).to.equal(true);
    expect((actual as Buffer).equals(bytesOf(expected)), `${path} bytes`).to.equal(true);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is an array`).to.equal(true);
    const list = actual as unknown[];
    expect(list.length, `${path}.length`).to.equal(expected.length);
    expected.forEach((item, i) => expectSameValue(list[i], item, `${path}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    expect(actual, `${path} is an object`).to.be.an('object');
    const record = actual as Record<string, unknown>;
    const want = expected as Record<string, unknown>;
    expect(Object.keys(record).sort(), `${path} keys`).to.deep.equal(Object.keys(want).sort());
    for (const key of Object.keys(want))
      expectSameValue(record[key], want[key], `${path}[${JSON.stringify(key)}]`);
  } else {
    expect(
      Object.is(actual, expected),
      `${path}: ${String(actual)} is ${String(expected)}`,
    ).to.equal(true);
  }
}

/** Decodes parts with a fresh decoder; returns the packets it produced. */
function decodeAll(parts: readonly (string | Buffer)[], limits = ROOMY_LIMITS): InboundPacket[] {
  const out: InboundPacket[] = [];
  const decoder = new PacketDecoder(limits, { onPacket: (packet) => out.push(packet) });
  for (const part of parts) decoder.add(part);
  return out;
}

function expectProtocolError(error: unknown): void {
  expect(error, String(error)).to.be.instanceOf(ProtocolError);
  expect((error as ProtocolError).code).to.equal('SIO_ERR_PROTOCOL');
}

/** Runs `fn`, which must throw a ProtocolError. */
function expectProtocolErrorFrom(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'a ProtocolError was thrown').to.not.equal(undefined);
  expectProtocolError(thrown);
}

function depthWithin(value: unknown, limit: number, depth = 0): boolean {
  if (depth > limit) return false;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return true;
  return Object.values(value).every((child) => depthWithin(child, limit, depth + 1));
}

/** What the decoder promises about every packet it hands over. */
function expectWellFormed(packet: InboundPacket, limits: DecodeLimits): void {
  expect(packet.nsp).to.be.a('string');
  expect(packet.nsp.startsWith('/'), `namespace ${packet.nsp}`).to.equal(true);
  switch (packet.type) {
    case 'connect':
      if (packet.auth !== undefined) {
        expect(packet.auth).to.be.an('object');
        expect(Array.isArray(packet.auth), 'auth is not an array').to.equal(false);
      }
      return;
    case 'disconnect':
      return;
    case 'event':
      expect(packet.event).to.be.a('string');
      expect(RESERVED_EVENTS.has(packet.event), `reserved ${packet.event}`).to.equal(false);
      expect(packet.event.length).to.be.at.most(limits.maxEventNameLength);
      expect(packet.args).to.be.an('array');
      expect(depthWithin(packet.args, limits.maxDepth + 1), 'depth limit').to.equal(true);
      if (packet.id !== undefined)
        expect(
          Number.isSafeInteger(packet.id) && packet.id >= 0,
          `event ack id ${String(packet.id)} is a non-negative safe integer`,
        ).to.equal(true);
      return;
    case 'ack':
      expect(packet.args).to.be.an('array');
      expect(
        Number.isSafeInteger(packet.id) && packet.id >= 0,
        `ack id ${String(packet.id)} is a non-negative safe integer`,
      ).to.equal(true);
      return;
  }
}

/**
 * Feeds inputs the way a client connection does: until the first error, which
 * must be a ProtocolError (the server then closes the connection). Every packet
 * handed over before that must be well formed.
 */
function feed(inputs: readonly (string | Buffer)[], limits = DEFAULT_LIMITS): void {
  const packets: InboundPacket[] = [];
  const decoder = new PacketDecoder(limits, { onPacket: (packet) => packets.push(packet) });
  try {
    for (const input of inputs) decoder.add(input);
  } catch (error) {
    expectProtocolError(error);
  } finally {
    decoder.destroy();
  }
  for (const packet of packets) expectWellFormed(packet, limits);
}

/** `k` containers (arrays or objects, as `kinds` says) around a leaf. */
function nest(kinds: readonly boolean[], leaf: unknown = 0): unknown {
  return kinds.reduce<unknown>((inner, isArray) => (isArray ? [inner] : { k: inner }), leaf);
}

// ---------------------------------------------------------------------------
// Plausible-but-broken packets: `<type>[<attachments>-][<nsp>,][<id>][JSON]`
// with each part sometimes right and sometimes slightly wrong.

const typeCharArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('0', '1', '2', '3', '4', '5', '6') },
  { weight: 1, arbitrary: fc.constantFrom('7', '8', '9', '', ' ', 'x', '-', '/', '[') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

const attachmentsArb = fc.oneof(
  fc.constant(''),
  fc.nat(30).map((n) => `${n}-`),
  fc.constantFrom(
    '-',
    'x-',
    '1',
    '-1-',
    '1.5-',
    ' 1-',
    '1e1-',
    '0x1-',
    '00-',
    '99999999999999999999-',
  ),
);

const nspPartArb = fc.oneof(
  fc.constant(''),
  fc.constantFrom('/', '/,', '/chat,', '/chat', ',', '/a/b,', '//,', '/1,'),
  fc.string({ unit: 'binary', maxLength: 6 }).map((s) => `/${s},`),
);

const idPartArb = fc.oneof(
  fc.constant(''),
  fc.maxSafeNat().map(String),
  fc.constantFrom(
    ' ',
    '1 1',
    '\t',
    '\n2',
    '007',
    '1e3',
    '-1',
    '1.5',
    '99999999999999999999999',
    ' 1 ',
  ),
);

const placeholderArb = fc
  .record({ _placeholder: fc.oneof(fc.constant(true), fc.jsonValue()), num: fc.jsonValue() })
  .map((p) => JSON.stringify(p));

const jsonPartArb = fc.oneof(
  fc.constant(''),
  fc.json({ maxDepth: 3 }),
  fc.json({ maxDepth: 3 }).map((s) => s.slice(0, -1)),
  fc
    .tuple(
      fc.oneof(eventNameArb, fc.constantFrom(...RESERVED_EVENTS)),
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    )
    .map(([name, rest]) => JSON.stringify([name, ...rest])),
  fc
    .tuple(fc.string({ maxLength: 6 }), placeholderArb)
    .map(([name, p]) => `[${JSON.stringify(name)},${p}]`),
  fc.constantFrom(
    '[]',
    '[1]',
    '["connect"]',
    '{}',
    'null',
    '"x"',
    '[',
    ']',
    '{"sid":"x"}',
    '[[[[[[[[]]]]]]]]',
  ),
);

const brokenPacketArb = fc
  .tuple(typeCharArb, attachmentsArb, nspPartArb, idPartArb, jsonPartArb)
  .map((parts) => parts.join(''));

const engineMessageArb: fc.Arbitrary<string | Buffer> = fc.oneof(
  brokenPacketArb,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.uint8Array({ maxLength: 16 }).map((u8) => Buffer.from(u8)),
);

// ---------------------------------------------------------------------------

describe('Socket.IO packet codec (properties)', function () {
  this.timeout(BUDGET_MS + 10_000);

  it('encodeEvent round-trips through PacketDecoder, binary leaves arriving as Buffers', () => {
    fc.assert(
      fc.property(
        namespaceArb,
        eventNameArb,
        argsArb,
        fc.option(ackIdArb, { nil: undefined }),
        (nsp, event, args, id) => {
          const parts = encodeEvent(nsp, event, args, id);
          const binaries = countBinary(args);
          expect(parts[0]).to.be.a('string');
          expect(parts.length, 'one attachment per binary leaf').to.equal(1 + binaries);
          expect((parts[0] as string).charAt(0)).to.equal(binaries > 0 ? '5' : '2');
          for (const part of parts.slice(1)) expect(Buffer.isBuffer(part)).to.equal(true);

          const packets = decodeAll(parts);
          expect(packets).to.have.length(1);
          const packet = packets[0];
          if (packet?.type !== 'event') throw new Error(`decoded ${JSON.stringify(packet)}`);
          expect(packet.nsp).to.equal(nsp);
          expect(packet.event).to.equal(event);
          expect(packet.id).to.equal(id);
          expectSameValue(packet.args, args);
        },
      ),
      params,
    );
  });

  it('withOffset (connection state recovery) is the event encoded with the offset as its last argument', () => {
    const codec = jsonCodec(undefined);
    fc.assert(
      fc.property(namespaceArb, eventNameArb, argsArb, fc.string(), (nsp, event, args, offset) => {
        const stamped = codec.withOffset(nsp, encodeEvent(nsp, event, args), offset);
        expect(stamped).to.deep.equal(encodeEvent(nsp, event, [...args, offset]));
      }),
      params,
    );
  });

  it('encodeAck round-trips through PacketDecoder', () => {
    fc.assert(
      fc.property(namespaceArb, ackIdArb, argsArb, (nsp, id, args) => {
        const parts = encodeAck(nsp, id, args);
        const binaries = countBinary(args);
        expect(parts.length).to.equal(1 + binaries);
        expect((parts[0] as string).charAt(0)).to.equal(binaries > 0 ? '6' : '3');

        const packets = decodeAll(parts);
        expect(packets).to.have.length(1);
        const packet = packets[0];
        if (packet?.type !== 'ack') throw new Error(`decoded ${JSON.stringify(packet)}`);
        expect(packet.nsp).to.equal(nsp);
        expect(packet.id).to.equal(id);
        expectSameValue(packet.args, args);
      }),
      params,
    );
  });

  it('a decoder decodes packet after packet (its state resets after each one)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(eventNameArb, argsArb, ackIdArb), { minLength: 1, maxLength: 5 }),
        (events) => {
          const parts = events.flatMap(([event, args, id], i) =>
            i % 2 === 0 ? encodeEvent('/', event, args, id) : encodeAck('/', id, args),
          );
          const packets = decodeAll(parts);
          expect(packets).to.have.length(events.length);
          packets.forEach((packet, i) => {
            const [event, args, id] = events[i] as [string, unknown[], number];
            expect(packet.type).to.equal(i % 2 === 0 ? 'event' : 'ack');
            if (packet.type === 'event') expect(packet.event).to.equal(event);
            if (packet.type === 'event' || packet.type === 'ack') {
              expect(packet.id).to.equal(id);
              expectSameValue(packet.args, args);
            }
          });
        },
      ),
      params,
    );
  });

  it('arbitrary strings: checked packets or a ProtocolError, nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (text) => feed([text])),
      params,
    );
  });

  it('plausible-but-broken packets: checked packets or a ProtocolError, nothing else', () => {
    fc.assert(
      fc.property(brokenPacketArb, (text) => feed([text])),
      params,
    );
  });

  it('arbitrary sequences of strings and Buffers: checked packets or a ProtocolError', () => {
    fc.assert(
      fc.property(fc.array(engineMessageArb, { maxLength: 8 }), (inputs) => feed(inputs)),
      params,
    );
  });

  it('garbage in the ack id position is a ProtocolError', () => {
    // '1 1' reads as digits to socket.io-parser (Number(' ') == ' '), giving id NaN.
    // Ids past Number.MAX_SAFE_INTEGER cannot be acknowledged with the same id.
    const texts = [
      '21 1["echo"]',
      '31 1[]',
      '2\t1\t1["echo"]',
      '29007199254740993["echo"]',
      '3/x,99999999999999999999999[]',
    ];
    for (const text of texts) {
      expectProtocolErrorFrom(() => decodeAll([text], DEFAULT_LIMITS));
    }
  });

  it('more attachments than maxAttachments is a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        (maxAttachments, extra, asAck) => {
          const limits = { ...DEFAULT_LIMITS, maxAttachments };
          const buffers = Array.from({ length: maxAttachments + extra }, (_, i) =>
            Buffer.from([i & 0xff]),
          );
          const parts = asAck ? encodeAck('/', 1, buffers) : encodeEvent('/', 'files', buffers);
          expectProtocolErrorFrom(() => decodeAll(parts, limits));
          // The limit itself is accepted.
          const within = buffers.slice(0, maxAttachments);
          const ok = asAck ? encodeAck('/', 1, within) : encodeEvent('/', 'files', within);
          expect(decodeAll(ok, limits)).to.have.length(1);
        },
      ),
      params,
    );
  });

  it('an event name longer than maxEventNameLength is a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 50 }),
        (maxEventNameLength, extra) => {
          const limits = { ...DEFAULT_LIMITS, maxEventNameLength };
          const name = 'x'.repeat(maxEventNameLength + extra);
          expectProtocolErrorFrom(() => decodeAll(encodeEvent('/', name, ['a']), limits));
          const atLimit = 'e'.repeat(maxEventNameLength);
          expect(decodeAll(encodeEvent('/', atLimit, ['a']), limits)).to.have.length(1);
        },
      ),
      params,
    );
  });

  it('arguments nested deeper than maxDepth are a ProtocolError, in events and acks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }),
        fc.boolean(),
        fc.boolean(),
        (maxDepth, extra, kinds, asAck, binaryLeaf) => {
          const limits = { ...DEFAULT_LIMITS, maxDepth };
          const leaf = binaryLeaf ? Buffer.from([1, 2, 3]) : 'leaf';
          const encode = (value: unknown) =>
            asAck ? encodeAck('/', 7, ['ok', value]) : encodeEvent('/', 'deep', ['ok', value]);
          const tooDeep = nest(kinds.slice(0, maxDepth + extra), leaf);
          expectProtocolErrorFrom(() => decodeAll(encode(tooDeep), limits));
          const shallow = nest(kinds.slice(0, maxDepth - 1), leaf);
          const packets = decodeAll(encode(shallow), limits);
          expect(packets).to.have.length(1);
        },
      ),
      params,
    );
  });
});

// ---------------------------------------------------------------------------
// Server level: malformed packets from one raw WebSocket client.

/** Packets that break the protocol for a client connected to '/' only (no '4' prefix). */
const malformedPacketArb: fc.Arbitrary<string> = fc.oneof(
  // Unknown packet type.
  fc
    .tuple(fc.constantFrom('7', '8', '9', 'x', 'Z', '{', '[', '"'), fc.string({ maxLength: 12 }))
    .map(([t, rest]) => t + rest),
  // Client-only types the server must not accept: CONNECT_ERROR.
  fc.jsonValue({ maxDepth: 2 }).map((v) => `4${JSON.stringify({ message: v })}`),
  // An event payload that is not a non-empty array starting with a string.
  fc
    .oneof(
      fc.json({ maxDepth: 2 }).filter((s) => {
        const v: unknown = JSON.parse(s);
        return !(Array.isArray(v) && typeof v[0] === 'string');
      }),
      fc.constantFrom('[]', '[1]', '[null,"a"]', '{}', '"echo"'),
    )
    .map((json) => `2${json}`),
  // A reserved event name.
  fc
    .tuple(
      fc.constantFrom(...RESERVED_EVENTS),
      fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 2 }),
    )
    .map(([name, rest]) => `2${JSON.stringify([name, ...rest])}`),
  // Garbage after the ack id.
  fc
    .tuple(fc.nat(), fc.constantFrom('x', 'a', '.', 'e', '-', '+'))
    .map(([id, junk]) => `2${id}${junk}["echo",1]`),
  // Bad attachment headers.
  fc
    .oneof(
      fc.constantFrom('', 'x', '-1', '1.5', '0', 'a1', ' '),
      fc.integer({ min: 11, max: 100_000 }).map(String),
    )
    .chain((n) => fc.constantFrom(`5${n}-["echo",1]`, `6${n}-0[1]`)),
  fc.constantFrom('5["echo",1]', '51["echo",{"_placeholder":true,"num":0}]'),
  // A namespace the client has not joined.
  fc
    .stringMatching(/^[a-z]{1,6}$/)
    .chain((name) => fc.constantFrom(`2/${name},["echo",1]`, `1/${name},`, `3/${name},0[]`)),
  // A second CONNECT to '/'.
  fc.constantFrom('0', '0{}', '0{"token":"again"}'),
  // ACK without an id, DISCONNECT with a payload.
  fc.constantFrom('3[]', '3["x"]', '1{}', '1[]'),
  // Broken JSON.
  fc.string({ maxLength: 10 }).map((tail) => `2["echo",${tail.replaceAll(']', '')}`),
  // An event name over the 256-character limit; arguments nested past 32 levels.
  fc.integer({ min: 257, max: 600 }).map((n) => `2${JSON.stringify(['e'.repeat(n)])}`),
  fc.integer({ min: 34, max: 200 }).map((n) => `2["echo",${'['.repeat(n)}${']'.repeat(n)}]`),
);

function once<T>(socket: ClientSocket, event: string, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  describe(`malformed Socket.IO packets at the server (property, ${mode})`, function () {
    this.timeout(NETWORK_BUDGET_MS + 8_000);
    let io: SocketIO;
    let good: ClientSocket;
    let base: string;

    before(async () => {
      io = new SocketIO(modeOptions(mode));
      io.on('connect', () => undefined);
      io.on('echo', (value: unknown) => value);
      const { port } = await io.run(undefined, { host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${port}`;
      good = connectClient(base, {
        forceNew: true,
        transports: ['websocket'],
        reconnection: false,
      });
      await once(good, 'connect', 3000);
    });

    after(async () => {
      good.disconnect();
      await io.stop();
    });

    /** A raw WebSocket client, past the Engine.IO handshake and connected to '/'. */
    async function rawConnected(): Promise<RawWs> {
      const raw = new RawWs(`${base.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
      await within(raw.opened, 'WebSocket open', 2000);
      const open = await raw.messages.next('the open packet');
      expect(String(open)).to.match(/^0\{/);
      raw.send('40');
      const connected = await raw.messages.next('the CONNECT answer');
      expect(String(connected)).to.match(/^40\{"sid":"[^"]+"\}$/);
      return raw;
    }

    it('close the offending connection; an already-connected client still gets its acks', async () => {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(malformedPacketArb, async (malformed) => {
          round++;
          const bad = await rawConnected();
          try {
            bad.send(`4${malformed}`);
            const closed = await within(
              bad.closed,
              `close after ${JSON.stringify(malformed)}`,
              2000,
            );
            expect(closed.code).to.be.a('number');

            const echoed: unknown = await good
              .timeout(2000)
              .emitWithAck('echo', { round, malformed });
            expect(echoed).to.deep.equal({ round, malformed });
            expect(good.connected).to.equal(true);
          } finally {
            await bad.close();
          }
        }),
        runParameters(NETWORK_RUNS, NETWORK_BUDGET_MS),
      );
      expect(round, 'at least one malformed packet was tried').to.be.greaterThan(0);
    });

    it('an event whose ack id is garbage (read as NaN) closes the connection, with no ack sent', async () => {
      const bad = await rawConnected();
      try {
        bad.send('421 1["echo",1]');
        await within(bad.closed, 'close after an ack id of "1 1"', 2000);
        expect(
          bad.messages.items.filter((m) => typeof m === 'string' && m.startsWith('43')),
          'no ACK packet',
        ).to.deep.equal([]);
      } finally {
        await bad.close();
      }
      expect(await good.timeout(2000).emitWithAck('echo', 'still fine')).to.equal('still fine');
    });
  });
}
