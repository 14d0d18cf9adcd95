/**
 * `io.run()` after `io.stop()`, in every async mode, on a server the framework
 * makes and on the app's own http.Server: the second run serves WebSocket and
 * polling clients like the first (no listener left over from the first run,
 * the scheduler taking work again).
 */
import { createServer } from 'node:http';
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { SocketIO } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST, modeOptions } from '../helpers/modes.js';
import { SioPeer, within } from '../helpers/socketio.js';

async function echoOnce(port: number, transport: 'websocket' | 'polling'): Promise<unknown> {
  const peer = new SioPeer(
    connect(`http://127.0.0.1:${port}`, {
      forceNew: true,
      reconnection: false,
      transports: [transport],
    }),
  );
  try {
    await within(peer.opened, `a ${transport} connection`);
    // emitWithAck resolves with the ack's first argument.
    return (await peer.socket.timeout(2000).emitWithAck('echo', { over: transport })) as unknown;
  } finally {
    peer.socket.disconnect();
  }
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  describe(`io.run() after io.stop() (${mode})`, function () {
    this.timeout(20000);

    for (const kind of ['its own server', "the app's http.Server"] as const) {
      it(`serves again on ${kind}, over WebSocket and polling`, async function () {
        const app = kind === 'its own server' ? undefined : createServer();
        const io = new SocketIO(modeOptions(mode));
        io.on('echo', (value: unknown) => value);
        try {
          for (let run = 1; run <= 2; run++) {
            const { port } = await io.run(app, { host: '127.0.0.1', port: 0 });
            for (const transport of ['websocket', 'polling'] as const)
              expect(await echoOnce(port, transport), `run ${run}, ${transport}`).to.deep.equal({
                over: transport,
              });
            await io.stop();
          }
          if (app !== undefined) {
            // Nothing of the two runs is left on the app's server.
            expect(app.listenerCount('upgrade')).to.equal(0);
            expect(app.listenerCount('request')).to.equal(0);
          }
        } finally {
          await io.stop();
        }
      });
    }
  });
}
