/**
 * socket.io's `compress`: with `perMessageDeflate`, an emit of at least the threshold
 * reaches a WebSocket client compressed (RSV1, read off a bare TCP socket), a smaller
 * one and `compress(false)` plain; over polling, gzip per Accept-Encoding unless every
 * packet of the response said `compress(false)`. The flag holds from outside handlers and
 * inside them (`io.to(sid).compress(false)`, `emit(…, { compress: false })`, in a pool
 * thread in worker-pool mode), for binary attachments and `emitWithAck`. The official
 * client reads every emit intact over each transport, and takes a compressed one in a
 * fraction of the bytes. Every async mode.
 */
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { COMPRESS_APP } from '../helpers/apps.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { parseOpenPacket, RawPolling, splitPayload, waitFor } from '../helpers/raw-engine.js';
import { bytesOf, CLIENT_TRANSPORTS, SioHarness, syncAfter } from '../helpers/socketio.js';
import { ClientBytes, WireWs } from '../helpers/wire-ws.js';
import type { WireFrame } from '../helpers/wire-ws.js';
import { replyPayload, rows } from '../fixtures/compress-handlers.js';
import type { Reply } from '../fixtures/compress-handlers.js';
import type { AsyncMode, SocketIOOptions } from '../../lib/index.js';

/** About 4 KB of JSON: past the default threshold (1024). */
const BIG = rows(100);
/** About 200 bytes: under it. */
const SMALL = rows(5);

/** The Engine.IO message `io.emit('data', payload)` sends: `4` + the EVENT packet `2[…]`. */
function eventText(payload: unknown): string {
  return `42${JSON.stringify(['data', payload])}`;
}

/** What a frame shows: compressed or not, and its message. */
function seen(frame: WireFrame): { compressed: boolean; message: string | Buffer } {
  return { compressed: frame.compressed, message: frame.message };
}

/** A raw WebSocket client connected to '/', read frame by frame. */
class RawDeflatePeer {
  private constructor(
    readonly ws: WireWs,
    /** The Engine.IO session id. */
    readonly engineSid: string,
    /** The Socket.IO sid on '/'. */
    readonly sid: string,
  ) {}

  static async open(h: SioHarness): Promise<RawDeflatePeer> {
    const ws = await WireWs.open(h.wsUrl);
    const open = String((await ws.next('the open packet')).message);
    expect(open).to.match(/^0\{/);
    ws.send('40');
    const answer = String((await ws.next('the CONNECT answer')).message);
    const { sid } = JSON.parse(answer.slice(2)) as { sid: string };
    return new RawDeflatePeer(ws, parseOpenPacket(open).sid, sid);
  }

  /** The next `count` frames, as seen. */
  async frames(count: number): Promise<{ compressed: boolean; message: string | Buffer }[]> {
    const out = [];
    for (let i = 0; i < count; i++) out.push(seen(await this.ws.next(`frame ${i + 1}`)));
    return out;
  }
}

/** Starts the compress app with `options` (WebSocket clients unless said). */
function start(
  asyncMode: AsyncMode,
  options: SocketIOOptions,
  transport = CLIENT_TRANSPORTS[0],
): Promise<SioHarness> {
  if (transport === undefined) throw new Error('no client transport');
  return SioHarness.withApp(asyncMode, transport, COMPRESS_APP, options);
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  describe(`compress on the wire: perMessageDeflate, httpCompression, compress(false) [${asyncMode}]`, function () {
    let h: SioHarness;
    const raws: WireWs[] = [];
    beforeEach(async function () {
      h = await start(asyncMode, { perMessageDeflate: true });
    });
    afterEach(async function () {
      for (const ws of raws.splice(0)) ws.close();
      await h.stop();
    });

    async function rawPeer(): Promise<RawDeflatePeer> {
      const peer = await RawDeflatePeer.open(h);
      raws.push(peer.ws);
      return peer;
    }

    it('sends a big emit compressed, a small one and io.compress(false) plain', async function () {
      const peer = await rawPeer();
      h.io.emit('data', BIG);
      h.io.emit('data', SMALL);
      h.io.compress(false).emit('data', BIG);
      h.io.to(peer.sid).compress(false).compress(true).emit('data', BIG);
      h.io.of('/').to(peer.sid).compress(false).emit('data', BIG);
      h.io.emit('data', BIG, { compress: false });
      expect(await peer.frames(6)).to.deep.equal([
        { compressed: true, message: eventText(BIG) },
        { compressed: false, message: eventText(SMALL) },
        { compressed: false, message: eventText(BIG) },
        { compressed: true, message: eventText(BIG) },
        { compressed: false, message: eventText(BIG) },
        { compressed: false, message: eventText(BIG) },
      ]);
    });

    it('keeps compress(false) with connection state recovery on (kept packets carry an offset)', async function () {
      await h.stop();
      h = await start(asyncMode, { perMessageDeflate: true, connectionStateRecovery: true });
      const peer = await rawPeer();
      h.io.emit('data', BIG);
      h.io.compress(false).emit('data', BIG);
      h.io.emit('data', BIG, { compress: false });
      const frames = await peer.frames(3);
      expect(frames.map((f) => f.compressed)).to.deep.equal([true, false, false]);
      for (const frame of frames) expect(String(frame.message)).to.match(/^42\["data",/);
    });

    it('keeps the flag of emits from inside handlers: an operator and emit(…, { compress })', async function () {
      const peer = await rawPeer();
      const replies: Reply[] = [
        { via: 'operator', rows: 100 },
        { via: 'operator', rows: 100, compress: false },
        { via: 'emit', rows: 100 },
        { via: 'emit', rows: 100, compress: false },
      ];
      const expected = [];
      for (const [i, how] of replies.entries()) {
        peer.ws.send(`42${i}${JSON.stringify(['reply', how])}`);
        expected.push(
          { compressed: how.compress !== false, message: eventText(replyPayload(how)) },
          { compressed: false, message: `43${i}[true]` },
        );
      }
      expect(await peer.frames(expected.length)).to.deep.equal(expected);
    });

    it('compresses a binary attachment like a text packet; emitWithAck and volatile keep the flag', async function () {
      const peer = await rawPeer();
      const bytes = Buffer.from(JSON.stringify(BIG));
      h.io.emit('data', bytes);
      h.io.compress(false).emit('data', bytes);
      const header = `451-${JSON.stringify(['data', { _placeholder: true, num: 0 }])}`;
      expect(await peer.frames(4)).to.deep.equal([
        { compressed: false, message: header },
        { compressed: true, message: bytes },
        { compressed: false, message: header },
        { compressed: false, message: bytes },
      ]);

      const acks = h.io.compress(false).timeout(5).emitWithAck('data', BIG);
      const [question] = await peer.frames(1);
      expect(question?.compressed).to.equal(false);
      const id = /^42(\d+)\[/.exec(String(question?.message))?.[1];
      peer.ws.send(`43${id ?? ''}["ok"]`);
      expect(await acks).to.deep.equal(['ok']);

      // A volatile emit to a client whose transport is free goes out, with its flag.
      h.io.volatile.compress(false).emit('data', BIG);
      expect(await peer.frames(1)).to.deep.equal([{ compressed: false, message: eventText(BIG) }]);
      expect(await waitFor(() => h.io.engine.connection(peer.engineSid)?.canTakeNow() === true)).to
        .be.true;
      h.io.volatile.emit('data', BIG);
      expect(await peer.frames(1)).to.deep.equal([{ compressed: true, message: eventText(BIG) }]);
      expect(h.io.volatileDropped).to.equal(0);
    });

    it('gzips a polling response unless every packet in it said compress(false)', async function () {
      const polling = await RawPolling.open(`${h.origin}/socket.io/`);
      try {
        await polling.post('40');
        expect((await polling.packets())[0]).to.match(/^40\{"sid":/);
        const gzip = { 'Accept-Encoding': 'gzip' };

        h.io.emit('data', BIG);
        const zipped = await polling.get(gzip);
        expect(zipped.headers['content-encoding']).to.equal('gzip');
        expect(splitPayload(gunzipSync(zipped.body).toString('utf8'))).to.deep.equal([
          eventText(BIG),
        ]);

        h.io.compress(false).emit('data', BIG);
        h.io.emit('data', BIG, { compress: false });
        const plain = await polling.get(gzip);
        expect(plain.headers['content-encoding']).to.equal(undefined);
        expect(splitPayload(plain.text)).to.deep.equal([eventText(BIG), eventText(BIG)]);

        // From a handler (in a pool thread in worker-pool mode), no ack: one plain packet.
        const how: Reply = { via: 'emit', rows: 100, compress: false };
        await polling.post(`42${JSON.stringify(['reply', how])}`);
        const reply = await polling.get(gzip);
        expect(reply.headers['content-encoding']).to.equal(undefined);
        expect(splitPayload(reply.text)).to.deep.equal([eventText(replyPayload(how))]);
      } finally {
        await polling.post('1');
      }
    });

    it('negotiates nothing without perMessageDeflate (the default): every frame plain', async function () {
      await h.stop();
      h = await start(asyncMode, {});
      const peer = await rawPeer();
      expect(peer.ws.extensions).to.equal(undefined);
      h.io.emit('data', BIG);
      expect(await peer.frames(1)).to.deep.equal([{ compressed: false, message: eventText(BIG) }]);
    });
  });

  for (const transport of CLIENT_TRANSPORTS) {
    describe(`compress with the official client [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await start(asyncMode, { perMessageDeflate: true }, transport);
      });
      afterEach(() => h.stop());

      it('reads every emit intact, compressed or not, from outside and inside handlers', async function () {
        const peer = await h.connect();
        const bytes = Buffer.from(JSON.stringify(BIG));
        h.io.emit('data', BIG);
        h.io.emit('data', SMALL);
        h.io.compress(false).emit('data', BIG);
        h.io.compress(false).emit('data', bytes);
        h.io.emit('data', bytes);
        const replies: Reply[] = [
          { via: 'operator', rows: 100, compress: false },
          { via: 'emit', rows: 100 },
          { via: 'emit', rows: 100, compress: false, binary: true },
        ];
        for (const how of replies) expect(await peer.emitAck('reply', how)).to.deep.equal([true]);
        await syncAfter([], [peer]);
        const got = peer
          .inbox('data')
          .items.map(([data]) =>
            data instanceof ArrayBuffer || ArrayBuffer.isView(data)
              ? { binary: Buffer.from(bytesOf(data)).toString('utf8') }
              : data,
          );
        const binary = { binary: JSON.stringify(BIG) };
        expect(got).to.deep.equal([BIG, SMALL, BIG, binary, binary, BIG, BIG, binary]);
      });

      if (transport.name !== 'polling')
        it('takes a compressed 10 KB emit in a fraction of the bytes of a compress(false) one', async function () {
          const bytes = new ClientBytes(h.port);
          try {
            const peer = await h.connect();
            // After an upgrade, measure over the WebSocket only.
            expect(
              await waitFor(() => peer.socket.io.engine.transport.name === 'websocket'),
            ).to.equal(true);
            const payload = rows(250); // about 10 KB of JSON
            const size = JSON.stringify(payload).length;
            const measure = async (send: () => void): Promise<number> => {
              await peer.sync();
              const before = bytes.read;
              send();
              await peer.next('data');
              return bytes.read - before;
            };
            const plain = await measure(() => h.io.compress(false).emit('data', payload));
            const deflated = await measure(() => h.io.emit('data', payload));
            expect(plain).to.be.above(size);
            expect(deflated).to.be.below(plain / 4);
          } finally {
            bytes.close();
          }
        });
    });
  }
}
