/**
 * A burst of emits from the official client over long-polling: the client
 * sends everything queued in one POST (split only where the handshake's
 * `maxPayload` says), so a POST may carry thousands of packets. Like the npm
 * socket.io server, this one bounds a POST by bytes (`maxHttpBufferSize`), not
 * by how many packets it carries.
 */
import { expect } from 'chai';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { jsonBody, RawPolling, waitFor } from '../helpers/raw-engine.js';
import { CLIENT_TRANSPORTS, SioHarness } from '../helpers/socketio.js';
import type { ClientTransport } from '../helpers/socketio.js';

const POLLING = CLIENT_TRANSPORTS.find((t) => t.name === 'polling') as ClientTransport;

/** Emits in one synchronous loop: the first leaves at once, the rest share the next POST. */
const BURST = 2000;

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  describe(`a burst of emits over long-polling [${asyncMode}]`, function () {
    this.timeout(20_000);

    /** Starts a server, connects a polling client and sends the burst; resolves with what the handler saw. */
    async function burst(h: SioHarness): Promise<number[]> {
      const received: number[] = [];
      h.io.on('count', (i: number) => {
        received.push(i);
      });
      const peer = await h.connect();
      for (let i = 0; i < BURST; i++) peer.socket.emit('count', i);
      await waitFor(() => received.length >= BURST || !peer.socket.connected, 10_000);
      expect(peer.lifecycle, 'the client stays connected').to.deep.equal(['connect']);
      // Anything the server did after the burst (a close, a log line) has happened by now.
      await peer.sync();
      expect(peer.socket.connected).to.equal(true);
      expect(h.errorLogs).to.deep.equal([]);
      return received;
    }

    const inOrder = Array.from({ length: BURST }, (_, i) => i);

    describe('with the default options', function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode }, POLLING);
      });
      afterEach(() => h.stop());

      it(`${BURST} emits in one synchronous loop all reach the handler, in order, and the client stays connected`, async function () {
        expect(await burst(h)).to.deep.equal(inOrder);
      });

      it('a POST body over maxHttpBufferSize (1e6 bytes) is still refused with 413, and the session closes', async function () {
        const polling = await RawPolling.open(`${h.origin}/socket.io/`);
        expect(polling.handshake.maxPayload).to.equal(1e6);
        const over = await polling.post(`4${'x'.repeat(1e6)}`);
        expect(over.status).to.equal(413);
        const body = jsonBody(over) as { code: unknown; message: string };
        expect(body.code).to.equal('EIO_ERR_PAYLOAD_TOO_LARGE');
        expect(body.message).to.include('maxHttpBufferSize (1000000 bytes)');
        expect((await polling.get()).status, 'the session is closed').to.equal(400);
      });
    });

    describe('with a small maxHttpBufferSize', function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode, maxHttpBufferSize: 4000 }, POLLING);
      });
      afterEach(() => h.stop());

      it('the client splits a burst larger than maxHttpBufferSize at the maxPayload it was told, and every emit arrives in order', async function () {
        expect(await burst(h)).to.deep.equal(inOrder);
      });
    });
  });
}
