/**
 * The README's worker-pool pattern: an app module that runs its own server
 * from a top-level `await io.run()` (guarded by `isMainThread`) and then
 * starts an exported background task. `run()` must not wait for that module
 * to finish evaluating (it is still awaiting `run()`); a task the module starts
 * there runs in the pool if the module exports it, which the main thread can
 * only tell once the module has finished, and on the main thread otherwise.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../helpers/browser.js';
import { CliClients, CliServer } from '../helpers/cli.js';
import { expectPoolThread } from '../helpers/schedulers.js';

import type { Started } from '../fixtures/worker-app-placement.js';

type PlacementApp = typeof import('../fixtures/worker-app-placement.js');

/** Starts a compiled fixture with plain node. */
function startScript(fixture: string, env: Record<string, string> = {}): CliServer {
  return CliServer.script(join(REPO_ROOT, 'dist', 'spec', 'fixtures', fixture), env);
}

/** The port a fixture listens on, once it prints `listening on <port>`. */
async function listeningPort(server: CliServer): Promise<number> {
  const [, listening] = await server.waitForOutput(/listening on (\d+)/);
  return Number(listening);
}

describe('worker-pool mode: an app module started with plain node, serving from its top-level await (spec/fixtures/worker-app-script)', function () {
  const clients = new CliClients();
  let server: CliServer;
  let port: number;

  before(async function () {
    server = startScript('worker-app-script.js', { WORKER_APP_PORT: '0' });
    port = await listeningPort(server);
  });

  after(async function () {
    clients.close();
    await server.stop();
  });

  it('starts listening: run() resolves while the module that called it is still evaluating', function () {
    expect(port).to.be.greaterThan(0);
    expect(server.exited).to.equal(false);
  });

  it('runs a handler of the module in a pool thread: its emit and its ack reach the official client', async function () {
    const peer = await clients.connect(port, { transports: ['websocket'] });
    const [result] = (await peer.emitAck('resize', 640)) as [{ size: unknown; thread: unknown }];
    expect(result.size).to.equal(640);
    expectPoolThread(result.thread);
    expect(peer.inbox('progress').items).to.deep.equal([[100]]);
  });

  it('runs the exported background task started after `await io.run()` in a pool thread', async function () {
    const [, thread] = await server.waitForOutput(/nightly report ran on thread (\d+)/);
    expectPoolThread(Number(thread));
  });
});

describe('worker-pool mode: an app that attaches to its own http.Server and listens itself (spec/fixtures/worker-app-attached)', function () {
  const clients = new CliClients();
  let server: CliServer;
  let port: number;

  before(async function () {
    server = startScript('worker-app-attached.js');
    port = await listeningPort(server);
  });

  after(async function () {
    clients.close();
    await server.stop();
  });

  it('runs the very first event in a pool thread (it waits for the threads to load the app)', async function () {
    const peer = await clients.connect(port, { transports: ['websocket'] });
    const [first] = await peer.emitAck('thread');
    expectPoolThread(first);
    const [second] = await peer.emitAck('thread');
    expectPoolThread(second);
  });
});

describe('worker-pool mode: background tasks the app module starts from its own top-level code (spec/fixtures/worker-app-placement)', function () {
  let app: PlacementApp;

  before(async function () {
    // Resolves once the module's top-level code is done: it awaits run(), then a task.
    app = await import('../fixtures/worker-app-placement.js');
  });

  after(async function () {
    await app.io.stop();
  });

  /** What the top-level code started under `label`. */
  function started(label: string): Started {
    const entry = app.started.get(label);
    if (entry === undefined) throw new Error(`the fixture started no task "${label}"`);
    return entry;
  }

  it('an exported function is pending while the module evaluates, then runs in the pool', async function () {
    const { task, modeAtStart } = started('exported');
    expect(modeAtStart).to.equal('pending');
    expectPoolThread(await task.join());
    expect(task.mode).to.equal('worker-pool');
  });

  it('a closure named like no export runs on the main thread at once, so the top-level code may wait for it', async function () {
    const { task, modeAtStart } = started('closure');
    expect(modeAtStart).to.equal('event-loop');
    expect(await task.join()).to.equal(0);
    expect(app.awaitedClosureThread).to.equal(0);
  });

  it('a local function that shares an export’s name waits too, then runs on the main thread: exports are told by identity', async function () {
    const { task, modeAtStart } = started('same name');
    expect(modeAtStart).to.equal('pending');
    expect(await task.join()).to.equal(0);
    expect(task.mode).to.equal('event-loop');
  });

  it('the debug log says, for each task, why it waited and where it ran', function () {
    expect(app.debugLogs).to.include.members([
      'background task report waits for the app module to finish evaluating, to tell whether the module exports it',
      'background task report runs in the worker pool',
      'background task report is not exported by the app module: it runs on the main thread',
      'background task (anonymous) is not exported by the app module: it runs on the main thread',
    ]);
  });

  it('once the module has finished, an exported task is placed at once', async function () {
    const task = app.io.startBackgroundTask(app.report);
    expect(task.mode).to.equal('worker-pool');
    expectPoolThread(await task.join());
  });
});

/** What the awaits-tasks fixture printed for `label`: the task's mode at start and its result. */
async function awaitedTask(
  server: CliServer,
  label: string,
): Promise<{ modeAtStart: string; thread: number }> {
  const [, modeAtStart = '', thread] = await server.waitForOutput(
    new RegExp(`task ${label} (\\S+) (-?\\d+)`),
  );
  return { modeAtStart, thread: Number(thread) };
}

for (const serve of ['run', 'attach'] as const) {
  describe(`worker-pool mode: an app module that awaits task.join() at its top level, ${serve === 'run' ? 'after await io.run()' : 'attached without run(), before any pool thread is ready'} (spec/fixtures/worker-app-awaits-tasks)`, function () {
    const clients = new CliClients();
    let server: CliServer;
    let port: number;

    before(async function () {
      server = startScript('worker-app-awaits-tasks.js', { WORKER_APP_SERVE: serve });
      port = await listeningPort(server);
    });

    after(async function () {
      clients.close();
      await server.stop();
    });

    it('an anonymous closure runs on the main thread at once', async function () {
      expect(await awaitedTask(server, 'closure')).to.deep.equal({
        modeAtStart: 'event-loop',
        thread: 0,
      });
    });

    it(`a function named like no export runs on the main thread${serve === 'run' ? ' at once' : ', once the first pool thread has said what the module exports'}`, async function () {
      expect(await awaitedTask(server, 'unexported')).to.deep.equal({
        modeAtStart: serve === 'run' ? 'event-loop' : 'pending',
        thread: 0,
      });
    });

    it('an exported function runs in the pool, though the module is still evaluating', async function () {
      const { modeAtStart, thread } = await awaitedTask(server, 'exported');
      expect(modeAtStart).to.equal('pending');
      expectPoolThread(thread);
    });

    it('a local function awaited under an export’s name runs as that export, and a warning says so once the module has evaluated', async function () {
      const { thread } = await awaitedTask(server, 'same-name');
      expectPoolThread(thread);
      await server.waitForOutput(/background task warmCache ran in the worker pool/);
      const output = server.stdout + server.stderr;
      expect(output.match(/background task \w+ ran in the worker pool/g)).to.have.length(1);
      expect(output).to.match(
        /background task warmCache ran in the worker pool as the app module's export warmCache, but the function started was not that export/,
      );
    });

    it('finishes evaluating and serves: a handler runs in a pool thread', async function () {
      expect(port).to.be.greaterThan(0);
      const peer = await clients.connect(port, { transports: ['websocket'] });
      expectPoolThread((await peer.emitAck('thread'))[0]);
    });
  });
}
