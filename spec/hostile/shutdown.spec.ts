/**
 * Graceful shutdown under load: `io.stop()` with many connected real clients
 * (raw WebSocket peers on '/' and some on '/a' too, plus polling sessions
 * with and without a GET waiting) closes every one of them with a close
 * packet, runs every disconnect handler with 'server shutdown', rejects every
 * pending `call()`, resolves, and leaves no session and no timer behind.
 */
import { expect } from 'chai';
import { DisconnectedError, EventLoopScheduler, VirtualClock } from '../../lib/index.js';
import type { AsyncMode, SocketIOOptions } from '../../lib/index.js';
import { RawSioPolling, trapProcessErrors } from '../helpers/hostile.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { startProtocolServer } from '../helpers/protocol-server.js';
import { waitFor } from '../helpers/raw-engine.js';
import type { RawResponse } from '../helpers/raw-engine.js';
import { RawSio, within } from '../helpers/socketio.js';

/** Connected WebSocket clients per mode (1,000 where connecting is cheapest). */
const CLIENTS: Record<AsyncMode, number> = {
  'event-loop': 1000,
  cooperative: 300,
  'worker-pool': 300,
};
const ALSO_ON_A = 100;
const CALLS = 50;
const POLLING = 10;
const PARALLEL = 50;

function optionsFor(mode: AsyncMode): { options: SocketIOOptions; clock?: VirtualClock } {
  if (mode !== 'event-loop') return { options: {} };
  const clock = new VirtualClock();
  return { options: { scheduler: new EventLoopScheduler({ clock }) }, clock };
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  describe(`graceful shutdown (${mode})`, function () {
    this.timeout(60_000);

    it(`io.stop() with ${CLIENTS[mode]} WebSocket and ${POLLING} polling clients closes them all, runs their disconnect handlers and rejects pending calls`, async function () {
      const trap = trapProcessErrors();
      const { options, clock } = optionsFor(mode);
      const reasons: string[] = [];
      const server = await startProtocolServer(mode, options, (app) => {
        for (const namespace of ['/', '/a'])
          app.on('disconnect', (reason: string) => void reasons.push(`${namespace} ${reason}`), {
            namespace,
          });
      });
      const { io } = server;
      const peers: RawSio[] = [];
      const sids: string[] = [];
      try {
        let next = 0;
        await Promise.all(
          Array.from({ length: PARALLEL }, async () => {
            while (next < CLIENTS[mode]) {
              const i = next++;
              const peer = await RawSio.open(server.wsUrl);
              peers[i] = peer;
              sids[i] = await peer.connect('/');
              if (i < ALSO_ON_A) await peer.connect('/a');
            }
          }),
        );
        const polling = await Promise.all(
          Array.from({ length: POLLING }, () => RawSioPolling.open(`${server.origin}/socket.io/`)),
        );
        for (const peer of polling) await peer.connect();
        // Half of the polling clients have a GET waiting when the server stops.
        const held: Promise<RawResponse>[] = polling
          .slice(0, POLLING / 2)
          .map((peer) => peer.polling.get());
        await waitFor(
          () =>
            polling
              .slice(0, POLLING / 2)
              .every((peer) => io.engine.connection(peer.sid)?.transport.writable === true),
          3000,
        );
        expect(io.engine.clientsCount).to.equal(CLIENTS[mode] + POLLING);

        const calls = sids.slice(0, CALLS).map((sid) =>
          io.call('question', 'will you answer?', { to: sid, timeout: 30 }).then(
            () => 'resolved',
            (error: unknown) => error,
          ),
        );
        // Each asked client has the question before the server stops.
        for (const peer of peers.slice(0, CALLS))
          expect(await peer.nextText('the question')).to.match(/^2\d+\["question"/);

        await within(io.stop(), 'io.stop()', 20_000);

        for (const outcome of await within(Promise.all(calls), 'the pending calls'))
          expect(outcome, 'a pending call').to.be.instanceOf(DisconnectedError);
        expect(
          await waitFor(() => peers.every((p) => !p.ws.isOpen), 5000),
          'every WebSocket closed',
        ).to.be.true;
        const lastFrames = peers.map((p) => p.ws.messages.items.at(-1));
        expect(
          lastFrames.filter((frame) => frame !== '1').length,
          'WebSockets whose last frame was not the close packet',
        ).to.equal(0);
        for (const response of await Promise.all(held))
          expect(response.text, 'a held GET gets the close packet').to.equal('1');
        const expected = CLIENTS[mode] + ALSO_ON_A + POLLING;
        expect(reasons.length, 'disconnect handlers run').to.equal(expected);
        expect(
          reasons.filter((r) => !r.endsWith(' server shutdown')),
          "reasons other than 'server shutdown'",
        ).to.deep.equal([]);
        // Once stop() resolved nothing may be left: the HTTP server is gone, so a session
        // still waiting for a GET to collect its close packet can never be collected.
        const counts = io.phaseCounts();
        expect({
          sessions: io.engine.clientsCount,
          live: counts.handshake + counts.connected + counts.upgrading,
          timers: clock?.pending ?? 0,
        }).to.deep.equal({ sessions: 0, live: 0, timers: 0 });
        expect(trap.errors).to.deep.equal([]);
      } finally {
        trap.dispose();
        await Promise.all(peers.map((p) => p.ws.close()));
        await io.stop();
      }
    });
  });
}
