import { expect } from 'chai';
import fc from 'fast-check';
import {
  PACKET_TYPES,
  RECORD_SEPARATOR,
  decodePacket,
  decodePayload,
  encodePacket,
  encodePacketText,
  encodePayload,
} from '../../lib/engine/packets.js';
import type { Packet, PacketType } from '../../lib/engine/packets.js';
import { ParseError } from '../../lib/errors.js';
import { runParameters } from '../helpers/props.js';

// FC_RUNS raises or lowers the number of generated cases; the time budget caps each property.
const RUNS = positiveInt(process.env.FC_RUNS, 200);
const BUDGET_MS = 5_000;
const params = runParameters(RUNS, BUDGET_MS);

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const TYPES = Object.keys(PACKET_TYPES) as PacketType[];

/** Any code point, astral planes included. */
const anyText = fc.string({ unit: 'binary', maxLength: 64 });

/** Text with the record separator and the protocol's own characters made likely. */
const trickyText = fc.string({
  unit: fc.oneof(
    fc.constantFrom(RECORD_SEPARATOR, 'b', '4', '=', '\u{1F600}', '\uD800', '\uDFFF', '\0'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 64,
});

const textWithoutSeparator = fc
  .oneof(anyText, trickyText)
  .map((s) => s.split(RECORD_SEPARATOR).join(''));

const bytes = fc.uint8Array({ maxLength: 256 }).map((u8) => Buffer.from(u8));

function textPacket(text: fc.Arbitrary<string>): fc.Arbitrary<Packet> {
  return fc
    .record({ type: fc.constantFrom(...TYPES), data: fc.option(text, { nil: undefined }) })
    .map(({ type, data }) => (data === undefined ? { type } : { type, data }));
}

const binaryPacket: fc.Arbitrary<Packet> = bytes.map((data) => ({ type: 'message', data }));

/**
 * `<type>` and `<type>` + '' are the same bytes on the wire, so empty text data
 * decodes as a packet without data.
 */
function expectSamePacket(actual: Packet, expected: Packet): void {
  expect(actual.type).to.equal(expected.type);
  if (Buffer.isBuffer(expected.data)) {
    expect(Buffer.isBuffer(actual.data), 'binary data stays binary').to.equal(true);
    expect((actual.data as Buffer).equals(expected.data)).to.equal(true);
  } else if (expected.data === undefined || expected.data === '') {
    expect(actual).to.not.have.property('data');
  } else {
    expect(actual.data).to.equal(expected.data);
  }
}

function expectParseError(error: unknown): void {
  expect(error).to.be.instanceOf(ParseError);
  expect((error as ParseError).code).to.equal('EIO_ERR_PARSE');
}

function expectWellFormed(packet: Packet): void {
  expect(TYPES).to.include(packet.type);
  if (packet.data !== undefined) {
    expect(typeof packet.data === 'string' || Buffer.isBuffer(packet.data)).to.equal(true);
  }
  if (Buffer.isBuffer(packet.data)) expect(packet.type).to.equal('message');
}

describe('Engine.IO packet codec (properties)', function () {
  this.timeout(BUDGET_MS * 3);

  describe('WebSocket encoding (one packet per frame)', function () {
    it('round-trips text packets of every type, including astral characters and \\x1e', function () {
      fc.assert(
        fc.property(textPacket(fc.oneof(anyText, trickyText)), (packet) => {
          const encoded = encodePacket(packet);
          expect(typeof encoded).to.equal('string');
          expect((encoded as string).charAt(0)).to.equal(PACKET_TYPES[packet.type]);
          expectSamePacket(decodePacket(encoded), packet);
        }),
        params,
      );
    });

    it('round-trips binary messages as the raw bytes', function () {
      fc.assert(
        fc.property(binaryPacket, (packet) => {
          const encoded = encodePacket(packet);
          expect(Buffer.isBuffer(encoded)).to.equal(true);
          expectSamePacket(decodePacket(encoded), packet);
        }),
        params,
      );
    });

    it('decodes any bytes as a binary message carrying exactly those bytes', function () {
      fc.assert(
        fc.property(bytes, (frame) => {
          const packet = decodePacket(frame);
          expect(packet.type).to.equal('message');
          expect((packet.data as Buffer).equals(frame)).to.equal(true);
        }),
        params,
      );
    });

    it('refuses binary data on any packet type but message', function () {
      const nonMessage = fc.constantFrom(...TYPES.filter((t) => t !== 'message'));
      fc.assert(
        fc.property(nonMessage, bytes, (type, data) => {
          expect(() => encodePacket({ type, data })).to.throw(TypeError);
        }),
        params,
      );
    });
  });

  describe('polling encoding (payloads)', function () {
    it('round-trips payloads of text and binary packets', function () {
      const packet = fc.oneof(textPacket(textWithoutSeparator), binaryPacket);
      fc.assert(
        fc.property(fc.array(packet, { minLength: 1, maxLength: 20 }), (packets) => {
          const payload = encodePayload(packets);
          const decoded = decodePayload(payload);
          expect(decoded).to.have.length(packets.length);
          decoded.forEach((p, i) => expectSamePacket(p, packets[i] as Packet));
        }),
        params,
      );
    });

    it('carries any bytes, \\x1e included, as base64', function () {
      const withSeparator = bytes.map((b) => Buffer.concat([b, Buffer.from([0x1e])]));
      fc.assert(
        fc.property(withSeparator, bytes, (a, b) => {
          const packets: Packet[] = [
            { type: 'message', data: a },
            { type: 'message', data: b },
          ];
          const text = encodePacketText({ type: 'message', data: a });
          expect(text.startsWith('b')).to.equal(true);
          expect(text).to.not.include(RECORD_SEPARATOR);
          const decoded = decodePayload(encodePayload(packets));
          expect(decoded).to.have.length(2);
          decoded.forEach((p, i) => expectSamePacket(p, packets[i] as Packet));
        }),
        params,
      );
    });

    it('decodes a payload of n packets only when n <= maxPackets', function () {
      const packets = fc.array(fc.oneof(textPacket(textWithoutSeparator), binaryPacket), {
        minLength: 1,
        maxLength: 30,
      });
      fc.assert(
        fc.property(packets, fc.integer({ min: 1, max: 40 }), (list, maxPackets) => {
          const payload = encodePayload(list);
          if (list.length <= maxPackets) {
            expect(decodePayload(payload, maxPackets)).to.have.length(list.length);
          } else {
            expect(() => decodePayload(payload, maxPackets)).to.throw(ParseError, /more than/);
          }
        }),
        params,
      );
    });
  });

  describe('decoding untrusted input', function () {
    // Strings over the protocol's own alphabet reach the interesting branches far more often.
    const protocolish = fc.string({
      unit: fc.constantFrom(
        ...Object.values(PACKET_TYPES),
        'b',
        '7',
        RECORD_SEPARATOR,
        'A',
        'Q',
        '/',
        '+',
        '=',
        '\u{1F600}',
      ),
      maxLength: 40,
    });
    const untrustedText = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), protocolish);

    it('decodePacket on any string returns a well-formed packet or throws ParseError', function () {
      fc.assert(
        fc.property(untrustedText, (text) => {
          let packet: Packet;
          try {
            packet = decodePacket(text);
          } catch (error) {
            expectParseError(error);
            return;
          }
          expectWellFormed(packet);
          // Text packets are decoded losslessly: encoding gives back the input.
          if (!text.startsWith('b')) expect(encodePacket(packet)).to.equal(text);
        }),
        params,
      );
    });

    it('decodePayload on any string and limit returns <= maxPackets packets or throws ParseError', function () {
      fc.assert(
        fc.property(untrustedText, fc.integer({ min: 1, max: 10 }), (text, maxPackets) => {
          let packets: Packet[];
          try {
            packets = decodePayload(text, maxPackets);
          } catch (error) {
            expectParseError(error);
            return;
          }
          expect(packets.length).to.be.within(1, maxPackets);
          packets.forEach(expectWellFormed);
        }),
        params,
      );
    });

    it('arbitrary bytes read as text (utf8 or latin1) only ever fail with ParseError', function () {
      fc.assert(
        fc.property(bytes, fc.constantFrom<BufferEncoding>('utf8', 'latin1'), (raw, encoding) => {
          const text = raw.toString(encoding);
          const decoders = [() => [decodePacket(text)], () => decodePayload(text, 1000)];
          for (const decode of decoders) {
            let packets: Packet[];
            try {
              packets = decode();
            } catch (error) {
              expectParseError(error);
              continue;
            }
            packets.forEach(expectWellFormed);
          }
        }),
        params,
      );
    });
  });
});
