/**
 * The command line as a user meets it: `socketio-actors --help`, the one-line
 * errors (exit code 2) for the usual mistakes, and `socketio-actors run` serving
 * a compiled app, a TypeScript app, an app in another async mode, an app over
 * several processes behind the sticky front, and an app that restarts when its
 * file changes. Every server runs in its own process group and is ended after
 * its test (SIGTERM, then SIGKILL).
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, eventually } from '../helpers/browser.js';
import { CliClients, CliServer, runCli, waitForHandshake } from '../helpers/cli.js';
import type { WhoAmI } from '../helpers/cli.js';
import { REDIS_URL, freePort, uniqueChannel } from '../helpers/queues.js';
import type { SioPeer } from '../helpers/socketio.js';

const APP_JS = 'dist/spec/fixtures/cli-app.js';
const APP_TS = 'spec/fixtures/cli-app.ts';
const NO_IO_JS = 'dist/spec/fixtures/cli-no-io.js';
/** An address no machine has (TEST-NET-1, RFC 5737). */
const UNASSIGNED = '192.0.2.1';
const FLAGS = [
  '--host',
  '--port',
  '--async-mode',
  '--workers',
  '--processes',
  '--reload',
  '--help',
  '--version',
];

describe('socketio-actors CLI: help and mistakes', function () {
  this.timeout(20_000);
  let scratch: string;
  let busy: Server;
  let busyPort = 0;

  before(async function () {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const address = busy.address();
    busyPort = typeof address === 'object' && address !== null ? address.port : 0;
    scratch = await mkdtemp(join(tmpdir(), 'socketio-actors-cli-'));
    await writeFile(join(scratch, 'broken.mjs'), "throw new Error('the app failed to start');\n");
  });

  after(async function () {
    busy.close();
    await rm(scratch, { recursive: true, force: true });
  });

  for (const flag of ['--help', '-h']) {
    it(`${flag} lists every flag and exits 0`, async function () {
      const result = await runCli([flag]);
      expect(result.code).to.equal(0);
      expect(result.stderr).to.equal('');
      expect(result.stdout).to.match(/^Usage: socketio-actors run <app> \[options\]/);
      for (const name of FLAGS) expect(result.stdout).to.include(name);
      expect(result.stdout).to.include('event-loop | worker-pool | cooperative');
    });
  }

  it('no arguments prints the help and exits 0', async function () {
    const result = await runCli([]);
    expect(result.code).to.equal(0);
    expect(result.stderr).to.equal('');
    expect(result.stdout).to.equal((await runCli(['--help'])).stdout);
  });

  for (const flag of ['--version', '-v']) {
    it(`${flag} prints the package's version and exits 0`, async function () {
      const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      const result = await runCli([flag]);
      expect(result.code).to.equal(0);
      expect(result.stderr).to.equal('');
      expect(result.stdout).to.equal(`${pkg.version}\n`);
    });
  }

  interface Mistake {
    readonly what: string;
    readonly args: () => string[];
    /** What the line must name: the culprit and the fix. */
    readonly says: readonly (string | RegExp)[];
  }

  const mistakes: Mistake[] = [
    {
      what: 'a wrong flag',
      args: () => ['run', APP_JS, '--bogus'],
      says: ['--bogus', 'see socketio-actors --help'],
    },
    {
      what: 'a misspelt flag',
      args: () => ['run', APP_JS, '--prot', '8000'],
      says: [/^socketio-actors: unknown option --prot; did you mean --port\?$/],
    },
    {
      what: 'a flag without its value',
      args: () => ['run', APP_JS, '--port'],
      says: ['--port', 'see socketio-actors --help'],
    },
    {
      what: 'a host that is not this machine',
      args: () => ['run', APP_JS, '--host', UNASSIGNED, '--port', '5999'],
      says: [
        `socketio-actors: cannot listen on ${UNASSIGNED}:5999: no interface of this machine has that address; check --host`,
      ],
    },
    {
      what: 'a host that is not this machine, with --processes 2',
      args: () => ['run', APP_JS, '--processes', '2', '--host', UNASSIGNED, '--port', '5999'],
      says: [`cannot listen on ${UNASSIGNED}:5999`, 'check --host'],
    },
    {
      what: 'a port in use',
      args: () => ['run', APP_JS, '--port', String(busyPort)],
      says: [
        /^socketio-actors: cannot listen on 127\.0\.0\.1:\d+: the port is in use; pick another --port$/,
      ],
    },
    {
      what: 'an unknown async mode',
      args: () => ['run', APP_JS, '--async-mode', 'turbo'],
      says: ['"turbo"', 'event-loop, worker-pool, cooperative'],
    },
    {
      what: 'a missing module',
      args: () => ['run', 'spec/fixtures/no-such-app.js'],
      says: [
        'cannot find spec/fixtures/no-such-app.js',
        join(REPO_ROOT, 'spec/fixtures/no-such-app.js'),
        'give the path of your app module',
      ],
    },
    {
      what: 'a module that exports no SocketIO',
      args: () => ['run', NO_IO_JS],
      says: [NO_IO_JS, 'exports no SocketIO instance', 'export default io'],
    },
    {
      what: 'a module that throws while loading',
      args: () => ['run', join(scratch, 'broken.mjs')],
      says: ['cannot load', 'the app failed to start'],
    },
    {
      what: 'no app module',
      args: () => ['run'],
      says: ['missing the app module', 'try: socketio-actors run app.js'],
    },
    {
      what: 'an unknown command',
      args: () => ['serve', APP_JS],
      says: ['"serve"', 'try: socketio-actors run app.js'],
    },
    {
      what: 'a port that is not a number',
      args: () => ['run', APP_JS, '--port', 'http'],
      says: ['--port takes a whole number from 0 to 65535', '"http"'],
    },
    {
      what: 'zero workers',
      args: () => ['run', APP_JS, '--workers', '0'],
      says: ['--workers takes a whole number from 1 to 256'],
    },
  ];

  for (const mistake of mistakes) {
    it(`${mistake.what}: one line on stderr with the fix, exit code 2`, async function () {
      const result = await runCli(mistake.args());
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stdout).to.equal('');
      const text = result.stderr.replace(/\n$/, '');
      expect(text.split('\n'), result.stderr).to.have.length(1);
      expect(text).to.match(/^socketio-actors: \S/);
      for (const part of mistake.says) {
        if (typeof part === 'string') expect(text).to.include(part);
        else expect(text).to.match(part);
      }
    });
  }
});

describe('socketio-actors CLI: run', function () {
  this.timeout(30_000);
  const servers: CliServer[] = [];
  const clients = new CliClients();

  function start(args: string[], env: NodeJS.ProcessEnv = {}): CliServer {
    const server = CliServer.start(args, env);
    servers.push(server);
    return server;
  }

  async function serving(args: string[], env: NodeJS.ProcessEnv = {}) {
    const port = await freePort();
    const server = start([...args, '--port', String(port)], env);
    await server.waitForOutput(/serving .* on http:\/\/\S+/);
    expect(await waitForHandshake(port), 'the handshake answers 200').to.equal(true);
    return { port, server };
  }

  afterEach(async function () {
    clients.close();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  it('serves a compiled app on the given port and prints its URL', async function () {
    const { port, server } = await serving(['run', APP_JS]);
    expect(server.stdout).to.equal(
      `socketio-actors: serving ${APP_JS} on http://127.0.0.1:${port}/ (event-loop mode)\n`,
    );
    const who = await clients.whoami(await clients.connect(port));
    expect(who.mode).to.equal('event-loop');
    expect(who.module).to.equal(`file://${join(REPO_ROOT, APP_JS)}`);
    // A JavaScript app is served by the CLI process itself.
    expect(who.pid).to.equal(server.child.pid);
    expect(server.stderr).to.equal('');
  });

  it('serves a TypeScript app file directly', async function () {
    const { port, server } = await serving(['run', APP_TS]);
    expect(server.stdout).to.include(
      `socketio-actors: serving ${APP_TS} on http://127.0.0.1:${port}/ (event-loop mode)`,
    );
    const who = await clients.whoami(await clients.connect(port));
    // The source file itself ran, not its compiled copy under dist/.
    expect(who.module).to.equal(`file://${join(REPO_ROOT, APP_TS)}`);
    expect(who.mode).to.equal('event-loop');
  });

  it('--async-mode cooperative runs the app in cooperative mode', async function () {
    const { port, server } = await serving(['run', APP_JS, '--async-mode', 'cooperative']);
    expect(server.stdout).to.include('(cooperative mode)');
    for (const options of [{ transports: ['websocket'] }, { transports: ['polling'] }]) {
      const who = await clients.whoami(await clients.connect(port, options));
      expect(who.mode).to.equal('cooperative');
    }
  });

  it('--processes 2 spreads polling and WebSocket clients over two processes that share rooms', async function () {
    const channel = uniqueChannel('cli');
    const { port, server } = await serving(['run', APP_JS, '--processes', '2'], {
      CLI_SPEC_QUEUE: REDIS_URL,
      CLI_SPEC_CHANNEL: channel,
    });
    expect(server.stdout).to.include(
      `socketio-actors: serving ${APP_JS} on http://127.0.0.1:${port}/ (2 processes)`,
    );

    const transports = {
      polling: { transports: ['polling'] },
      websocket: { transports: ['websocket'] },
      'polling with upgrade': {},
    };
    const peers: { transport: string; peer: SioPeer; who: WhoAmI }[] = [];
    for (const [transport, options] of Object.entries(transports)) {
      for (let i = 0; i < 4; i++) {
        const peer = await clients.connect(port, options);
        peers.push({ transport, peer, who: await clients.whoami(peer) });
      }
    }
    const pids = (transport: string): Set<number> =>
      new Set(peers.filter((p) => p.transport === transport).map((p) => p.who.pid));
    for (const transport of Object.keys(transports)) {
      expect(pids(transport).size, `processes serving ${transport} clients`).to.equal(2);
    }
    const all = new Set(peers.map((p) => p.who.pid));
    expect(all.size).to.equal(2);
    expect(all.has(server.child.pid ?? -1)).to.equal(false);

    // Everyone joins one room; a message to it from one process reaches both.
    for (const { peer } of peers)
      expect(await peer.emitAck('join', 'everyone')).to.deep.equal(['everyone']);
    const sender = peers[0];
    if (sender === undefined) throw new Error('no clients');
    expect(await sender.peer.emitAck('shout', 'everyone', 'across processes')).to.deep.equal([
      true,
    ]);
    for (const { peer, transport } of peers) {
      const [message] = await peer.next('shout', 5000);
      expect(message, transport).to.deep.equal({ text: 'across processes', from: sender.who.pid });
    }

    // Sessions stay with their process: the same pid answers again, nobody was dropped.
    for (const { peer, who, transport } of peers) {
      expect((await clients.whoami(peer)).pid, transport).to.equal(who.pid);
      expect(peer.lifecycle, transport).to.deep.equal(['connect']);
      expect(peer.connectErrors.items).to.deep.equal([]);
    }
    expect(server.stdout + server.stderr).to.not.include('Session ID unknown');
  });

  it('--reload restarts the app when its file changes', async function () {
    const { port, server } = await serving(['run', APP_JS, '--reload']);
    const first = await clients.whoami(await clients.connect(port));
    // The app runs in a child of the supervising CLI process.
    expect(first.pid).to.not.equal(server.child.pid);

    const now = new Date();
    await utimes(join(REPO_ROOT, APP_JS), now, now);
    await server.waitForOutput(/cli-app\.js changed; restarting/);
    const second = await eventually(
      'a new process to answer',
      async () => {
        const peer = await clients.connect(port);
        return clients.whoami(peer);
      },
      (who) => who.pid !== first.pid,
      10_000,
    );
    expect(second.pid).to.not.equal(server.child.pid);
    expect(second.module).to.equal(first.module);
    expect(second.mode).to.equal('event-loop');
  });
});
