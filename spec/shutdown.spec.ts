/**
 * `io.run()` from plain `node app.js` stops on SIGTERM and SIGINT as the CLI
 * does: the app's disconnect handler runs with `server shutdown` (the client
 * sees its transport close, as after socket.io's io.close()), and the process
 * exits 0 rather than dying of the signal. With
 * `handleSignals: false` the signal is the app's: the server goes on serving.
 */
import { expect } from 'chai';
import { CliServer, endedAfterEach } from './helpers/cli.js';
import { freePort } from './helpers/queues.js';

const APP = 'dist/spec/fixtures/signal-app.js';

describe('io.run() and SIGINT/SIGTERM', function () {
  this.timeout(30_000);
  const { servers, clients } = endedAfterEach();

  async function serving(env: NodeJS.ProcessEnv = {}) {
    const port = await freePort();
    const server = CliServer.script(APP, { SIGNAL_SPEC_PORT: String(port), ...env });
    servers.push(server);
    await server.waitForOutput(/listening/, 20_000);
    const peer = await clients.connect(port);
    expect(await peer.emitAck('ping')).to.deep.equal(['pong']);
    return { server, peer };
  }

  function exit(server: CliServer): Promise<{ code: number | null; signal: string | null }> {
    return new Promise((resolve) => {
      const { child } = server;
      if (child.exitCode !== null || child.signalCode !== null)
        return resolve({ code: child.exitCode, signal: child.signalCode });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: the disconnect handlers run, the process exits 0`, async function () {
      const { server, peer } = await serving();
      const ended = exit(server);
      server.child.kill(signal);
      // As from socket.io's io.close(): the engine closes the transport.
      expect(await peer.disconnects.next('the disconnect', 10_000)).to.equal('transport close');
      expect(await ended).to.deep.equal({ code: 0, signal: null });
      expect(server.stdout).to.include('disconnect: server shutdown');
      expect(server.stderr).to.equal('');
    });
  }

  it('handleSignals: false leaves SIGTERM to the app, and the server goes on serving', async function () {
    const { server, peer } = await serving({ SIGNAL_SPEC_OPT_OUT: '1' });
    server.child.kill('SIGTERM');
    await server.waitForOutput(/the app got SIGTERM/);
    expect(await peer.emitAck('ping')).to.deep.equal(['pong']);
    expect(server.exited).to.equal(false);
    expect(peer.disconnects.unread).to.deep.equal([]);
  });
});
