/**
 * WebSocket permessage-deflate (`perMessageDeflate`), read off the wire by a client on
 * bare TCP (spec/helpers/wire-ws.ts): the extension is negotiated only when the option is
 * on; a message of at least the threshold goes out compressed (RSV1 set), a smaller one or
 * one sent with `compress: false` plain; compressed and plain frames interleaved in one
 * tick keep their order; a broadcast's shared frame is compressed per client; a client
 * that stops reading is still closed at the outbox mark; `volatile` sees a message ws is
 * still compressing as not yet taken.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { withEngine } from '../helpers/engine.js';
import { runParameters } from '../helpers/props.js';
import { waitFor } from '../helpers/raw-engine.js';
import { sampleJson } from '../helpers/wire-ws.js';
import type { WireFrame, WireWs } from '../helpers/wire-ws.js';
import type { EngineConnection } from '../../lib/index.js';
import type { EngineHarness } from '../helpers/engine.js';

/** A WebSocket session read frame by frame, past its open packet, and its server side. */
async function session(
  h: EngineHarness,
  offer?: string | null,
): Promise<{ ws: WireWs; conn: EngineConnection }> {
  const ws = await h.wireWs(offer);
  const open = await ws.next('the open packet');
  expect(open.message).to.match(/^0\{/);
  return { ws, conn: await h.connections.next('the connection') };
}

/** What a frame shows: compressed or not, and its message. */
function seen(frame: WireFrame): { compressed: boolean; message: string | Buffer } {
  return { compressed: frame.compressed, message: frame.message };
}

const BIG = sampleJson(10_000);

describe('WebSocket permessage-deflate', function () {
  this.timeout(30000);

  it(
    'is not negotiated by default: the answer names no extension and nothing is compressed',
    withEngine({}, async (h) => {
      const { ws, conn } = await session(h);
      expect(ws.extensions).to.equal(undefined);
      conn.send(BIG);
      expect(seen(await ws.next())).to.deep.equal({ compressed: false, message: `4${BIG}` });
    }),
  );

  it(
    'is negotiated with perMessageDeflate: true; a client that does not offer it gets plain frames',
    withEngine({ perMessageDeflate: true }, async (h) => {
      const offered = await session(h);
      expect(offered.ws.extensions).to.match(/^permessage-deflate\b/);
      const plain = await session(h, null);
      expect(plain.ws.extensions).to.equal(undefined);
      plain.conn.send(BIG);
      expect((await plain.ws.next()).compressed).to.equal(false);
    }),
  );

  it(
    'compresses from the default threshold (1024 bytes, the type character included) up',
    withEngine({ perMessageDeflate: true }, async (h) => {
      const { ws, conn } = await session(h);
      const below = 'b'.repeat(1022); // 1023 bytes with its `4`
      const at = 'a'.repeat(1023); // 1024 bytes
      conn.send(below);
      conn.send(at);
      expect(seen(await ws.next())).to.deep.equal({ compressed: false, message: `4${below}` });
      expect(seen(await ws.next())).to.deep.equal({ compressed: true, message: `4${at}` });
    }),
  );

  it(
    'takes ws options and its own threshold; compress: false sends any message plain',
    withEngine(
      { perMessageDeflate: { threshold: 100, serverNoContextTakeover: true } },
      async (h) => {
        const { ws, conn } = await session(h);
        expect(ws.extensions).to.include('server_no_context_takeover');
        const text = 'é'.repeat(50); // 101 bytes with its `4`: characters are not bytes
        conn.send(text);
        conn.send(text, { compress: false });
        conn.send(Buffer.alloc(100, 7));
        conn.send(Buffer.alloc(99, 7));
        conn.send(Buffer.alloc(4000, 9), { compress: false });
        expect((await Promise.all([1, 2, 3, 4, 5].map(() => ws.next()))).map(seen)).to.deep.equal([
          { compressed: true, message: `4${text}` },
          { compressed: false, message: `4${text}` },
          { compressed: true, message: Buffer.alloc(100, 7) },
          { compressed: false, message: Buffer.alloc(99, 7) },
          { compressed: false, message: Buffer.alloc(4000, 9) },
        ]);
        // No context taken over: the same message compresses to the same size each time.
        conn.send(BIG);
        conn.send(BIG);
        const [first, second] = [await ws.next(), await ws.next()];
        expect(second?.wireBytes).to.equal(first?.wireBytes);
      },
    ),
  );

  it(
    'cuts a 10 KB JSON message to a fraction of its bytes on the wire',
    withEngine({ perMessageDeflate: true }, async (h) => {
      const { ws, conn } = await session(h);
      conn.send(BIG, { compress: false });
      const plain = await ws.next();
      conn.send(BIG);
      const deflated = await ws.next();
      expect(plain.wireBytes).to.be.at.least(BIG.length + 1);
      expect(deflated.wireBytes).to.be.below(plain.wireBytes / 4);
      expect(deflated.message).to.equal(plain.message);
    }),
  );

  it(
    'property: compressed and plain, text and binary messages sent in one tick arrive intact and in order',
    withEngine({ perMessageDeflate: { threshold: 64 } }, async (h) => {
      const { ws, conn } = await session(h);
      const message = fc.record({
        size: fc.oneof(fc.nat(80), fc.integer({ min: 64, max: 70_000 })),
        binary: fc.boolean(),
        compress: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 12 }), async (batch) => {
          const sent = batch.map(({ size, binary, compress }, i) => {
            const data = binary ? Buffer.alloc(size, i) : String.fromCharCode(97 + i).repeat(size);
            conn.send(data, { compress });
            const bytes = binary ? size : size + 1;
            return {
              compressed: compress && bytes >= 64,
              message: binary ? data : `4${data as string}`,
            };
          });
          const got: unknown[] = [];
          for (const _ of sent) got.push(seen(await ws.next('a message')));
          expect(got).to.deep.equal(sent);
        }),
        runParameters(40, 15_000),
      );
    }),
  );

  it(
    'compresses a broadcast for each client on its own context, every client reading the same message',
    withEngine({ perMessageDeflate: true }, async (h) => {
      const sessions = [await session(h), await session(h), await session(h)];
      for (let round = 0; round < 2; round++) for (const { conn } of sessions) conn.send(BIG);
      for (const { ws } of sessions) {
        const first = await ws.next();
        const second = await ws.next();
        expect([first, second].map(seen)).to.deep.equal([
          { compressed: true, message: `4${BIG}` },
          { compressed: true, message: `4${BIG}` },
        ]);
        // The second refers back to the first: context takeover, the default.
        expect(second.wireBytes).to.be.below(first.wireBytes);
      }
    }),
  );

  it(
    'counts a message ws is still compressing as not taken: a volatile send waits for it',
    withEngine({ perMessageDeflate: true }, async (h) => {
      const { ws, conn } = await session(h);
      expect(conn.canTakeNow()).to.equal(true);
      conn.send(BIG);
      expect(conn.canTakeNow()).to.equal(false);
      await ws.next();
      expect(await waitFor(() => conn.canTakeNow(), 2000)).to.equal(true);
    }),
  );

  it(
    'closes a client that stops reading with outbox overflow, compressing or not',
    withEngine(
      { perMessageDeflate: { threshold: 0 }, outboxHighWaterMark: 64 * 1024 },
      async (h) => {
        const { ws, conn } = await session(h);
        ws.pause();
        const closed = new Promise<string>((resolve) => conn.once('close', resolve));
        // Random base64 compresses to about 3/4: the queue grows either way.
        for (let i = 0; i < 2000 && conn.phase !== 'closed'; i++) {
          conn.send(Buffer.from(sampleJson(8_000) + String(i)).toString('base64'));
          conn.send(sampleJson(4_000), { compress: i % 2 === 0 });
          await new Promise((resolve) => setImmediate(resolve));
        }
        expect(await closed).to.equal('outbox overflow');
      },
    ),
  );
});
