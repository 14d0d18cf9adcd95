import { expect } from 'chai';
import { randomToken } from '../../lib/random.js';
import { RawPolling } from '../helpers/raw-engine.js';
import { SioHarness } from '../helpers/socketio.js';

describe('randomToken', function () {
  it('gives base64url text of the asked number of bytes', function () {
    for (const bytes of [1, 15, 16, 33, 256]) {
      const token = randomToken(bytes);
      expect(token).to.match(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(token, 'base64url')).to.have.length(bytes);
    }
  });

  it('never repeats across many pool refills', function () {
    // 16-byte tokens: 256 per 4 KB pool, so 20,000 of them cross about 80 refills.
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(randomToken(16));
    expect(seen.size).to.equal(20_000);
  });

  it('spreads its bits: every base64url character shows up in the first position', function () {
    const firsts = new Set<string>();
    for (let i = 0; i < 5_000; i++) firsts.add(randomToken(16)[0] ?? '');
    expect(firsts.size).to.equal(64);
  });

  it('rejects a size that is not a whole number from 1 to 256, naming the range', function () {
    for (const bad of [0, -1, 1.5, 257, Number.NaN]) {
      expect(() => randomToken(bad), String(bad)).to.throw(RangeError, /1 to 256/);
    }
  });
});

/** How often each bit of the decoded tokens is set, as a share of the tokens. */
function bitShares(tokens: readonly string[], bytes: number): number[] {
  const counts = new Array<number>(bytes * 8).fill(0);
  for (const token of tokens) {
    const raw = Buffer.from(token, 'base64url');
    expect(raw, token).to.have.length(bytes);
    for (let bit = 0; bit < bytes * 8; bit++)
      if (((raw[bit >> 3] ?? 0) >> (bit & 7)) & 1) counts[bit] = (counts[bit] ?? 0) + 1;
  }
  return counts.map((n) => n / tokens.length);
}

describe('session ids as clients get them', function () {
  it('are 128 random bits for Engine.IO sessions over both transports, 120 for Socket.IO sockets', async function () {
    const h = await SioHarness.start({ asyncMode: 'event-loop' });
    try {
      const engineSids: string[] = [];
      const socketSids: string[] = [];
      for (let i = 0; i < 200; i++) {
        const polling = await RawPolling.open(`${h.origin}/socket.io/`);
        engineSids.push(polling.sid);
        await polling.post('1');
      }
      for (let i = 0; i < 100; i++) {
        const raw = await h.raw();
        engineSids.push(raw.handshake.sid);
        socketSids.push(await raw.connect());
        await raw.ws.close();
      }
      expect(new Set(engineSids).size).to.equal(engineSids.length);
      expect(new Set(socketSids).size).to.equal(socketSids.length);
      for (const sid of engineSids) expect(sid).to.match(/^[A-Za-z0-9_-]{22}$/);
      for (const sid of socketSids) expect(sid).to.match(/^[A-Za-z0-9_-]{20}$/);
      // Each decodes to exactly the stated number of bytes (bitShares checks the length).
      bitShares(engineSids, 16);
      bitShares(socketSids, 15);
    } finally {
      await h.stop();
    }
  });

  it('set every bit about half the time (each of 128 positions within 43-57% over 4,096 ids)', function () {
    // A bit position's count over 4,096 fair draws has a standard deviation of 32 (0.8%):
    // 7% either way is over 9 deviations, so this never fails by chance.
    const shares = bitShares(
      Array.from({ length: 4096 }, () => randomToken(16)),
      16,
    );
    for (const [bit, share] of shares.entries())
      expect(share, `bit ${bit}`).to.be.within(0.43, 0.57);
  });
});
