import { expect } from 'chai';
import { randomToken } from '../../lib/random.js';

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
