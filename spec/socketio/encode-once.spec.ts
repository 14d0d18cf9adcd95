/**
 * A broadcast is encoded once, whatever the number of clients it reaches: its
 * JSON is made as for a single client (counted through the `json` codec option,
 * which is applied to each element of a packet) and the same bytes go to every
 * target, over both transports.
 */
import { expect } from 'chai';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { CLIENT_TRANSPORTS, SioHarness } from '../helpers/socketio.js';

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  describe(`a broadcast encoded once [${asyncMode}]`, function () {
    let h: SioHarness;
    let stringified = 0;
    beforeEach(async function () {
      stringified = 0;
      const json = {
        stringify: (value: unknown): string => {
          stringified++;
          return JSON.stringify(value);
        },
        parse: (text: string): unknown => JSON.parse(text) as unknown,
      };
      h = await SioHarness.start({ asyncMode, json });
      h.io.on('shout', (text: string) => h.io.emit('news', text));
    });
    afterEach(() => h.stop());

    /** The codec calls `send()` causes once the clients have what it sent. */
    async function jsonWork(send: () => void, arrivals: () => Promise<unknown>): Promise<number> {
      const before = stringified;
      send();
      await arrivals();
      return stringified - before;
    }

    it('does the JSON work of one packet however many clients get it, over every transport', async function () {
      const peers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          h.connect('/', (CLIENT_TRANSPORTS[i % 3] ?? CLIENT_TRANSPORTS[0])?.options),
        ),
      );
      const one = peers[0];
      if (one === undefined) throw new Error('no peer');
      const single = await jsonWork(
        () => h.io.emit('news', { n: 1, text: 'one' }, { to: one.id }),
        () => one.next('news'),
      );
      const all = await jsonWork(
        () => h.io.emit('news', { n: 2, text: 'all' }),
        () => Promise.all(peers.map((p) => p.next('news'))),
      );
      expect(single).to.be.greaterThan(0);
      expect(all, 'codec calls for 30 clients vs 1').to.equal(single);
      for (const peer of peers)
        expect(peer.inbox('news').items.at(-1)).to.deep.equal([{ n: 2, text: 'all' }]);
    });
  });
}
