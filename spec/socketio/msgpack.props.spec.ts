/**
 * Properties of the msgpack codec (lib/socketio/msgpack.ts, lib/socketio/codec.ts) against
 * socket.io-msgpack-parser's own client-side Encoder and Decoder: what a client encodes
 * reaches a handler unchanged, binary leaves as Buffers; what the server encodes a client
 * decodes unchanged; any bytes, and any damaged packet, give checked packets or a
 * ProtocolError, and the limits hold.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { ProtocolError } from '../../lib/errors.js';
import { msgpackCodec } from '../../lib/socketio/codec.js';
import { RESERVED_EVENTS } from '../../lib/socketio/packets.js';
import type { DecodeLimits, InboundPacket } from '../../lib/socketio/packets.js';
import { TYPE, clientCodec } from '../helpers/msgpack.js';
import { runParameters } from '../helpers/props.js';

const RUNS = Number(process.env.FC_RUNS) > 0 ? Number(process.env.FC_RUNS) : 100;
const BUDGET_MS = 4_000;
const params = runParameters(RUNS, BUDGET_MS);

const DEFAULT_LIMITS: DecodeLimits = { maxAttachments: 10, maxEventNameLength: 256, maxDepth: 32 };
const ROOMY_LIMITS: DecodeLimits = {
  maxAttachments: 10,
  maxEventNameLength: 100_000,
  maxDepth: 1_000,
};

const codec = msgpackCodec();

// ---------------------------------------------------------------------------
// Arbitraries.

const textArb = fc.string({ unit: 'grapheme', maxLength: 12 });
const keyArb = textArb.filter((k) => k !== '__proto__');

const leafArb: fc.Arbitrary<unknown> = fc.oneof(
  textArb,
  fc.integer(),
  fc.maxSafeInteger(),
  // notepack.io (socket.io-msgpack-parser's codec, on the client) writes integral numbers as
  // 64-bit integers, so those past ±2^63 (1e20) leave a client mangled: a known limit of the
  // client's codec, documented in the README (the server sends them as doubles).
  fc
    .double({ noNaN: true })
    .filter((d) => !(Number.isInteger(d) && Math.abs(d) >= 2 ** 63))
    .map((d) => (Object.is(d, -0) ? 0 : d)),
  fc.boolean(),
  fc.constant(null),
);

/** Every kind of binary a client may send: Buffer (msgpack bin), typed arrays and ArrayBuffers. */
const binaryArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((u8) => Buffer.from(u8)),
  fc.uint8Array({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }).map((u8) => u8.slice().buffer),
);

const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    binaryArb,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(keyArb, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const argsArb = fc.array(valueArb, { maxLength: 4 });
const eventArb = textArb.filter((e) => e !== '' && !RESERVED_EVENTS.has(e));
const nspArb = fc.oneof(
  fc.constant('/'),
  textArb.map((s) => `/${s}`),
);
const idArb = fc.option(fc.nat(), { nil: undefined });

// ---------------------------------------------------------------------------
// Helpers.

function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** Binary leaves as `{ bytes }`, so sent and received compare whatever their binary class. */
function comparable(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { bytes: [...new Uint8Array(value)] };
  if (ArrayBuffer.isView(value))
    return { bytes: [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)] };
  if (Array.isArray(value)) return value.map(comparable);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v)]));
  return value;
}

/** Every binary leaf a handler gets is a Buffer. */
function buffersOnly(value: unknown): boolean {
  if (isBinary(value)) return Buffer.isBuffer(value);
  if (value === null || typeof value !== 'object') return true;
  return Object.values(value).every(buffersOnly);
}

function decode(bytes: Buffer, limits = ROOMY_LIMITS): InboundPacket[] {
  const out: InboundPacket[] = [];
  codec.decoder(limits, { onPacket: (packet) => out.push(packet) }).add(bytes);
  return out;
}

function depthWithin(value: unknown, limit: number, depth = 0): boolean {
  if (depth > limit) return false;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return true;
  return Object.values(value).every((child) => depthWithin(child, limit, depth + 1));
}

/** What the decoder promises about every packet it hands over. */
function expectWellFormed(packet: InboundPacket, limits: DecodeLimits): void {
  expect(packet.nsp.startsWith('/'), `namespace ${packet.nsp}`).to.equal(true);
  if (packet.type === 'connect' && packet.auth !== undefined) {
    expect(packet.auth).to.be.an('object');
    expect(Array.isArray(packet.auth)).to.equal(false);
  }
  if (packet.type === 'event') {
    expect(RESERVED_EVENTS.has(packet.event)).to.equal(false);
    expect(packet.event.length).to.be.at.most(limits.maxEventNameLength);
    expect(depthWithin(packet.args, limits.maxDepth + 1), 'depth limit').to.equal(true);
  }
  if (packet.type === 'event' || packet.type === 'ack') {
    expect(packet.args).to.be.an('array');
    if (packet.id !== undefined)
      expect(Number.isSafeInteger(packet.id) && packet.id >= 0).to.equal(true);
  }
}

/** Feeds `bytes`: a ProtocolError or well-formed packets, nothing else. */
function feed(bytes: Buffer): void {
  let packets: InboundPacket[] = [];
  try {
    packets = decode(bytes, DEFAULT_LIMITS);
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(ProtocolError);
    return;
  }
  for (const packet of packets) expectWellFormed(packet, DEFAULT_LIMITS);
}

/** A valid client packet of any type. */
const clientPacketArb: fc.Arbitrary<object> = fc.oneof(
  fc.record({ type: fc.constant(TYPE.CONNECT), nsp: nspArb }),
  fc.record({
    type: fc.constant(TYPE.CONNECT),
    nsp: nspArb,
    data: fc.dictionary(keyArb, valueArb, { maxKeys: 3 }),
  }),
  fc.record({ type: fc.constant(TYPE.DISCONNECT), nsp: nspArb }),
  fc
    .tuple(nspArb, eventArb, argsArb, idArb)
    .map(([nsp, event, args, id]) =>
      id === undefined
        ? { type: TYPE.EVENT, nsp, data: [event, ...args] }
        : { type: TYPE.EVENT, nsp, data: [event, ...args], id },
    ),
  fc.record({ type: fc.constant(TYPE.ACK), nsp: nspArb, data: argsArb, id: fc.nat() }),
);

/** A valid packet with bytes flipped, cut, or added. */
const damagedArb: fc.Arbitrary<Buffer> = fc
  .tuple(
    clientPacketArb,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    fc.nat(),
    fc.uint8Array({ maxLength: 6 }),
  )
  .map(([packet, flips, cut, extra]) => {
    const bytes = Buffer.from(clientCodec.encode(packet));
    for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
    return Buffer.concat([bytes.subarray(0, bytes.length - (cut % 3)), extra]);
  });

// ---------------------------------------------------------------------------

describe('msgpack packet codec (properties)', function () {
  this.timeout(BUDGET_MS + 10_000);

  it("a client's event reaches the server unchanged, binary leaves as Buffers", () => {
    fc.assert(
      fc.property(nspArb, eventArb, argsArb, idArb, (nsp, event, args, id) => {
        const packet = {
          type: TYPE.EVENT,
          nsp,
          data: [event, ...args],
          ...(id === undefined ? {} : { id }),
        };
        const [decoded] = decode(clientCodec.encode(packet));
        if (decoded?.type !== 'event') throw new Error(`decoded ${JSON.stringify(decoded)}`);
        expect(decoded.nsp).to.equal(nsp);
        expect(decoded.event).to.equal(event);
        expect(decoded.id).to.equal(id);
        expect(buffersOnly(decoded.args), 'binary leaves are Buffers').to.equal(true);
        expect(comparable(decoded.args)).to.deep.equal(comparable(args));
      }),
      params,
    );
  });

  it("the server's events and acks reach a socket.io-msgpack-parser client unchanged", () => {
    fc.assert(
      fc.property(nspArb, eventArb, argsArb, fc.nat(), (nsp, event, args, id) => {
        const [event_] = codec.encodeEvent(nsp, event, args, id);
        const [ack] = codec.encodeAck(nsp, id, args);
        if (!Buffer.isBuffer(event_) || !Buffer.isBuffer(ack))
          throw new Error('not one binary part');
        const gotEvent = clientCodec.decode(event_);
        expect(gotEvent).to.include({ type: TYPE.EVENT, nsp, id });
        expect(comparable(gotEvent.data)).to.deep.equal(comparable([event, ...args]));
        const gotAck = clientCodec.decode(ack);
        expect(gotAck).to.include({ type: TYPE.ACK, nsp, id });
        expect(comparable(gotAck.data)).to.deep.equal(comparable(args));
      }),
      params,
    );
  });

  it('withOffset (connection state recovery) gives the event with the offset as its last argument', () => {
    fc.assert(
      fc.property(nspArb, eventArb, argsArb, fc.string(), (nsp, event, args, offset) => {
        const stamped = codec.withOffset(nsp, codec.encodeEvent(nsp, event, args), offset);
        const [bytes] = stamped ?? [];
        if (!Buffer.isBuffer(bytes)) throw new Error('not one binary part');
        const got = clientCodec.decode(bytes);
        expect(got).to.include({ type: TYPE.EVENT, nsp });
        expect(comparable(got.data)).to.deep.equal(comparable([event, ...args, offset]));
      }),
      params,
    );
  });

  it('turns any bytes into checked packets or a ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (u8) => feed(Buffer.from(u8))),
      params,
    );
  });

  it('turns any damaged packet into checked packets or a ProtocolError', () => {
    fc.assert(fc.property(damagedArb, feed), params);
  });

  it('refuses arguments nested past maxArgumentDepth, and accepts them up to it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 16 }),
        (limit, levels) => {
          let value: unknown = 'leaf';
          for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { k: value };
          const bytes = clientCodec.encode({ type: TYPE.EVENT, nsp: '/', data: ['deep', value] });
          const limits = { ...DEFAULT_LIMITS, maxDepth: limit };
          // The arguments array is level 0, so `levels` containers put the leaf at levels + 1.
          if (levels + 1 > limit) expect(() => decode(bytes, limits)).to.throw(ProtocolError);
          else expect(decode(bytes, limits)).to.have.length(1);
        },
      ),
      params,
    );
  });
});
