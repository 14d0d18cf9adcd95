/**
 * A worker pool whose threads cannot load the app module (it throws at its top
 * level in pool threads only): handlers and background tasks run on the main
 * thread, the failure is logged once as what it is, and `ready()` (so
 * `io.run()`) rejects with it instead of waiting forever.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { SocketIO } from '../../lib/index.js';
import type { Task, TaskMode } from '../../lib/index.js';
import { WorkerPoolScheduler, routeKey } from '../../schedulers/worker-pool.js';
import { REPO_ROOT } from '../helpers/browser.js';
import { CliClients, CliServer } from '../helpers/cli.js';
import { within } from '../helpers/socketio.js';

const unloadable = new URL('../fixtures/worker-app-unloadable.js', import.meta.url).href;

/** How the pool's failure to load the app module reads (log line and error). */
const LOAD_FAILURE =
  /worker-pool: the pool threads could not load the app module .*worker-app-unloadable.*boom/;

/** Rejects with what `promise` rejected with; fails when it fulfils or takes longer than 10 s. */
async function rejection(promise: Promise<unknown>, label: string): Promise<Error> {
  const outcome = await within(
    promise.then(
      () => undefined,
      (error: unknown) => error,
    ),
    label,
    10_000,
  );
  expect(outcome, `${label} rejects`).to.be.instanceOf(Error);
  return outcome as Error;
}

describe('worker-pool mode: pool threads that cannot load the app module (spec/fixtures/worker-app-unloadable)', function () {
  let scheduler: WorkerPoolScheduler;
  const logged: string[] = [];
  /** A handler job dispatched before any thread had loaded (or failed to load) the module. */
  let early: Promise<number>;
  /** An exported task started then, and its mode right then. */
  let earlyTask: Task<number>;
  let earlyMode: TaskMode;

  /** A handler job the pool threads would run, if they had the app module. */
  function job(value: number): Promise<number> {
    return scheduler.dispatch({
      label: '/#where',
      run: () => value,
      remote: { key: routeKey('/', 'where'), request: {}, settle: () => -1 },
    });
  }

  before(async function () {
    const tasks = await import('../fixtures/worker-app-unloadable.js');
    scheduler = new WorkerPoolScheduler({
      appModule: unloadable,
      workers: 2,
      onPoolError: (message) => logged.push(message),
    });
    early = job(1);
    earlyTask = scheduler.startBackgroundTask(tasks.whereAmI);
    earlyMode = earlyTask.mode;
  });

  after(async function () {
    await scheduler.close();
  });

  it('ready() rejects with the load failure instead of waiting forever', async function () {
    const error = await rejection(scheduler.ready(), 'ready()');
    expect(error.message).to.match(LOAD_FAILURE);
  });

  it('a handler job that waited for the first thread, and any later one, runs on the main thread', async function () {
    expect(await within(early, 'the early job', 10_000)).to.equal(1);
    expect(await within(job(2), 'a later job')).to.equal(2);
  });

  it('an exported background task started before any thread was ready runs on the main thread', async function () {
    expect(earlyMode).to.equal('pending');
    expect(await within(earlyTask.join(), 'the early task', 10_000)).to.equal(0);
    expect(earlyTask.mode).to.equal('event-loop');
  });

  it('an exported background task runs on the main thread', async function () {
    const tasks = await import('../fixtures/worker-app-unloadable.js');
    const task = scheduler.startBackgroundTask(tasks.whereAmI);
    expect(await within(task.join(), 'the task', 10_000)).to.equal(0);
    expect(task.mode).to.equal('event-loop');
  });

  it('logs the failure once, as the pool threads failing to load the app module, with its error', function () {
    expect(logged).to.have.length(1);
    expect(logged[0]).to.match(LOAD_FAILURE);
  });

  it('io.run() rejects with it, naming the module and the error, and it is printed once', async function () {
    const printed: unknown[][] = [];
    const print = console.error;
    console.error = (...args: unknown[]) => void printed.push(args);
    const io = new SocketIO({ asyncMode: 'worker-pool', appModule: unloadable, workers: 1 });
    try {
      const error = await rejection(io.run(undefined, { host: '127.0.0.1', port: 0 }), 'run()');
      expect(error.message).to.match(LOAD_FAILURE);
    } finally {
      console.error = print;
      await io.stop();
    }
    expect(printed).to.have.length(1);
    expect(printed[0]?.join(' ')).to.match(LOAD_FAILURE);
  });
});

describe('worker-pool mode: an attached app whose pool threads cannot load it, started with plain node (spec/fixtures/worker-app-unloadable-attached)', function () {
  const clients = new CliClients();
  let server: CliServer;
  let port: number;

  before(async function () {
    server = CliServer.script(
      join(REPO_ROOT, 'dist', 'spec', 'fixtures', 'worker-app-unloadable-attached.js'),
    );
    const [, listening] = await server.waitForOutput(/listening on (\d+)/);
    port = Number(listening);
  });

  after(async function () {
    clients.close();
    await server.stop();
  });

  it('clients connect: the connect handler runs on the main thread', async function () {
    const peer = await clients.connect(port, { transports: ['websocket'] });
    expect(await peer.next('greeting', 10_000)).to.deep.equal([0]);
    expect(await peer.emitAck('thread')).to.deep.equal([0]);
  });

  it('logs once that the pool threads could not load the app module, never as a background task', async function () {
    for (let i = 0; i < 3; i++) await clients.connect(port, { transports: ['websocket'] });
    const output = server.stdout + server.stderr;
    expect(output.match(/could not load the app module/g) ?? []).to.have.length(1);
    expect(output).to.match(/boom: this module cannot load in a pool thread/);
    expect(output).to.not.match(/background task failed/);
  });
});
