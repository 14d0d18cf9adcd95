/**
 * The status page's rule (no `auth`, no serving beyond loopback) as the command
 * line applies it: to the address users reach, which with `--processes` is the
 * front's, not the processes' own 127.0.0.1. A refusal is the CLI's one line
 * with the fix and exit code 2, from one process or from the front. Behind the
 * front, the page's `auth` and the handlers see the client's address, never the
 * front's, and a client cannot name another address in `X-Forwarded-For`.
 */
import { expect } from 'chai';
import { CliClients, CliServer, runCli, waitForHandshake } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/queues.js';
import { rawRequest } from '../helpers/raw-engine.js';

const STATUS_APP = 'dist/spec/fixtures/cli-status-app.js';

/** A loopback address other than the front's own 127.0.0.1 (all of 127.0.0.0/8 is local). */
const CLIENT = '127.0.0.2';

function expectOneLineRefusal(result: CliResult, host: string): void {
  expect(result.code, result.stderr).to.equal(2);
  expect(result.stdout).to.equal('');
  const text = result.stderr.replace(/\n$/, '');
  expect(text.split('\n'), result.stderr).to.have.length(1);
  expect(text).to.equal(
    `socketio-actors: statusPage needs an auth check when the server listens on ${host}: pass statusPage: { auth: (req) => … }`,
  );
}

describe('socketio-actors CLI: the status page rule applies where users reach the server', function () {
  this.timeout(30_000);
  const servers: CliServer[] = [];
  const clients = new CliClients();

  afterEach(async function () {
    clients.close();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function serving(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
    const port = await freePort();
    const server = CliServer.start([...args, '--port', String(port)], env);
    servers.push(server);
    await server.waitForOutput(/serving .* on http:\/\/\S+/);
    expect(await waitForHandshake(port), 'the handshake answers 200').to.equal(true);
    return port;
  }

  async function statusOf(
    port: number,
    localAddress: string,
    headers: Record<string, string> = {},
  ): Promise<number> {
    const res = await rawRequest(`http://127.0.0.1:${port}/status`, { headers, localAddress });
    return res.status;
  }

  it('one process on 0.0.0.0 without auth: one line naming the fix, exit code 2', async function () {
    const port = await freePort();
    const result = await runCli(['run', STATUS_APP, '--host', '0.0.0.0', '--port', String(port)]);
    expectOneLineRefusal(result, '0.0.0.0');
  });

  it('--processes 2 on 0.0.0.0 without auth: the front says it in one line, exit code 2', async function () {
    const port = await freePort();
    const result = await runCli([
      'run',
      STATUS_APP,
      '--processes',
      '2',
      '--host',
      '0.0.0.0',
      '--port',
      String(port),
    ]);
    expectOneLineRefusal(result, '0.0.0.0');
  });

  it('--processes 2 on 0.0.0.0 with auth: serves, and auth sees the client, not the front', async function () {
    const port = await serving(['run', STATUS_APP, '--processes', '2', '--host', '0.0.0.0'], {
      CLI_SPEC_STATUS_FROM: CLIENT,
    });
    const bearer = { authorization: 'Bearer s3cret' };
    for (let i = 0; i < 4; i++) {
      // Both processes (round-robin) agree.
      expect(await statusOf(port, CLIENT, bearer), 'the trusted client').to.equal(200);
      expect(await statusOf(port, CLIENT), 'no token').to.equal(401);
      expect(await statusOf(port, '127.0.0.1', bearer), 'another address').to.equal(401);
      expect(
        await statusOf(port, '127.0.0.1', { ...bearer, 'x-forwarded-for': CLIENT }),
        'an address the client names itself',
      ).to.equal(401);
    }
    // The engine too: a handler sees the client's address, over a WebSocket through the front.
    for (let i = 0; i < 2; i++) {
      const peer = await clients.connect(port, {
        transports: ['websocket'],
        transportOptions: { websocket: { localAddress: CLIENT } },
      });
      expect(await peer.emitAck('remote')).to.deep.equal([CLIENT]);
    }
  });

  it('--processes 2 on loopback without auth: the page is for this machine, not for what a proxy forwarded', async function () {
    const port = await serving(['run', STATUS_APP, '--processes', '2']);
    for (let i = 0; i < 2; i++) {
      expect(await statusOf(port, '127.0.0.1'), 'from this machine').to.equal(200);
      expect(
        await statusOf(port, '127.0.0.1', { 'x-forwarded-for': '203.0.113.5' }),
        'forwarded by a proxy',
      ).to.equal(401);
    }
  });
});
