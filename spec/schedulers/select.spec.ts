/**
 * Choosing the async mode: the `asyncMode` option, else the environment
 * variable SOCKETIO_ASYNC_MODE, else the CLI's --async-mode, else event-loop;
 * bad choices fail at construction with an error that names the fix.
 */
import { expect } from 'chai';
import { AsyncModeError, SocketIO, resolveAsyncMode } from '../../lib/index.js';
import type { AsyncMode, SocketIOOptions } from '../../lib/index.js';
import { ASYNC_MODES } from '../../schedulers/scheduler.js';
import { setCliAsyncMode } from '../../schedulers/select.js';
import { CooperativeScheduler } from '../../schedulers/cooperative.js';
import { EventLoopScheduler } from '../../schedulers/event-loop.js';
import { WorkerPoolScheduler } from '../../schedulers/worker-pool.js';

/** An app module with background tasks only: pool threads load it, and it starts no server. */
const TASKS_MODULE = new URL('../fixtures/worker-tasks.js', import.meta.url).href;

/** What `fn` threw (fails the test when it does not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.fail('expected a throw');
}

/** Checks an AsyncModeError and returns its message. */
function asyncModeError(error: unknown): string {
  expect(error).to.be.instanceOf(AsyncModeError);
  const e = error as AsyncModeError;
  expect(e.code).to.equal('ERR_ASYNC_MODE');
  expect(e.name).to.equal('AsyncModeError');
  return e.message;
}

/** Options with a mode the types do not allow, as plain JavaScript could pass it. */
function withMode(mode: string, rest: SocketIOOptions = {}): SocketIOOptions {
  return { ...rest, asyncMode: mode as AsyncMode };
}

/** Environment variables that steer the mode or the pool; cleared for each test, then restored. */
const ENV_KEYS = ['SOCKETIO_ASYNC_MODE', 'SOCKETIO_APP_MODULE', 'SOCKETIO_WORKERS'] as const;

describe('async mode selection', function () {
  const savedEnv = new Map<string, string | undefined>();

  beforeEach(function () {
    for (const key of ENV_KEYS) {
      savedEnv.set(key, process.env[key]);
      delete process.env[key];
    }
    setCliAsyncMode(undefined);
  });

  afterEach(function () {
    for (const key of ENV_KEYS) {
      const value = savedEnv.get(key);
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    setCliAsyncMode(undefined);
  });

  describe('resolveAsyncMode', function () {
    it('defaults to event-loop', function () {
      expect(resolveAsyncMode(undefined)).to.equal('event-loop');
      expect(resolveAsyncMode(undefined, {})).to.equal('event-loop');
    });

    it('takes the CLI’s --async-mode over the default', function () {
      setCliAsyncMode('cooperative');
      expect(resolveAsyncMode(undefined)).to.equal('cooperative');
    });

    it('takes SOCKETIO_ASYNC_MODE over the CLI', function () {
      setCliAsyncMode('cooperative');
      process.env.SOCKETIO_ASYNC_MODE = 'worker-pool';
      expect(resolveAsyncMode(undefined)).to.equal('worker-pool');
      expect(resolveAsyncMode(undefined, { SOCKETIO_ASYNC_MODE: 'event-loop' })).to.equal(
        'event-loop',
      );
    });

    it('takes the option over the environment and the CLI', function () {
      setCliAsyncMode('worker-pool');
      process.env.SOCKETIO_ASYNC_MODE = 'worker-pool';
      expect(resolveAsyncMode('cooperative')).to.equal('cooperative');
      expect(resolveAsyncMode('event-loop', { SOCKETIO_ASYNC_MODE: 'cooperative' })).to.equal(
        'event-loop',
      );
    });

    it('accepts each of the three modes', function () {
      expect([...ASYNC_MODES]).to.deep.equal(['event-loop', 'worker-pool', 'cooperative']);
      for (const mode of ASYNC_MODES) expect(resolveAsyncMode(mode)).to.equal(mode);
    });

    for (const [where, set] of [
      ['asyncMode', (mode: string) => () => resolveAsyncMode(mode)],
      [
        'SOCKETIO_ASYNC_MODE',
        (mode: string) => () => resolveAsyncMode(undefined, { SOCKETIO_ASYNC_MODE: mode }),
      ],
      [
        '--async-mode',
        (mode: string) => () => {
          setCliAsyncMode(mode);
          return resolveAsyncMode(undefined);
        },
      ],
    ] as const) {
      it(`rejects an unknown mode from ${where} with an AsyncModeError naming where it came from and listing the valid modes`, function () {
        const message = asyncModeError(thrown(set('threading')));
        expect(message).to.include('threading');
        expect(message).to.include(where);
        for (const mode of ASYNC_MODES) expect(message).to.include(mode);
      });
    }

    it('is case-sensitive: EVENT-LOOP is not a mode', function () {
      const message = asyncModeError(thrown(() => resolveAsyncMode('EVENT-LOOP')));
      expect(message).to.include('EVENT-LOOP');
    });
  });

  describe('new SocketIO()', function () {
    it('fails at construction for an unknown mode, listing the valid modes', function () {
      const message = asyncModeError(thrown(() => new SocketIO(withMode('gevent'))));
      expect(message).to.include('gevent');
      for (const mode of ASYNC_MODES) expect(message).to.include(mode);
    });

    it('fails at construction for an unknown mode from SOCKETIO_ASYNC_MODE', function () {
      process.env.SOCKETIO_ASYNC_MODE = 'eventlet';
      const message = asyncModeError(thrown(() => new SocketIO()));
      expect(message).to.include('eventlet');
      expect(message).to.include('SOCKETIO_ASYNC_MODE');
    });

    it('fails for worker-pool without appModule, naming appModule', function () {
      const message = asyncModeError(thrown(() => new SocketIO({ asyncMode: 'worker-pool' })));
      expect(message).to.include('appModule');
    });

    it('fails for worker-pool with a workers count that is not a whole number from 1 to 256', function () {
      for (const workers of [0, -1, 1.5, 257]) {
        const message = asyncModeError(
          thrown(
            () => new SocketIO({ asyncMode: 'worker-pool', appModule: TASKS_MODULE, workers }),
          ),
        );
        expect(message, String(workers)).to.include('workers');
      }
    });

    for (const mode of ['event-loop', 'worker-pool'] as const) {
      for (const option of [{ clock: 'virtual' }, { clock: 'real' }, { seed: 1 }] as const) {
        it(`rejects ${JSON.stringify(option)} with async mode ${mode}: it belongs to cooperative`, function () {
          const message = asyncModeError(
            thrown(() => new SocketIO({ asyncMode: mode, appModule: TASKS_MODULE, ...option })),
          );
          expect(message).to.include('cooperative');
          expect(message).to.include(mode);
        });
      }
    }

    it('accepts clock and seed with cooperative', async function () {
      const io = new SocketIO({ asyncMode: 'cooperative', clock: 'virtual', seed: 7 });
      expect(io.asyncMode).to.equal('cooperative');
      expect(io.scheduler.clock.now()).to.equal(0);
      await io.stop();
    });

    it('reports the mode in use as io.asyncMode, for each of the three modes', async function () {
      const eventLoop = new SocketIO();
      expect(eventLoop.asyncMode).to.equal('event-loop');
      expect(eventLoop.scheduler).to.be.instanceOf(EventLoopScheduler);
      await eventLoop.stop();

      const cooperative = new SocketIO({ asyncMode: 'cooperative' });
      expect(cooperative.asyncMode).to.equal('cooperative');
      expect(cooperative.scheduler).to.be.instanceOf(CooperativeScheduler);
      await cooperative.stop();

      const pool = new SocketIO({ asyncMode: 'worker-pool', appModule: TASKS_MODULE, workers: 1 });
      try {
        expect(pool.asyncMode).to.equal('worker-pool');
        expect(pool.scheduler).to.be.instanceOf(WorkerPoolScheduler);
      } finally {
        await pool.stop();
      }
    });

    it('takes the mode from SOCKETIO_ASYNC_MODE, then --async-mode, when no option is given', async function () {
      setCliAsyncMode('cooperative');
      const fromCli = new SocketIO();
      expect(fromCli.asyncMode).to.equal('cooperative');
      await fromCli.stop();

      process.env.SOCKETIO_ASYNC_MODE = 'event-loop';
      const fromEnv = new SocketIO();
      expect(fromEnv.asyncMode).to.equal('event-loop');
      await fromEnv.stop();

      const fromOption = new SocketIO({ asyncMode: 'cooperative' });
      expect(fromOption.asyncMode).to.equal('cooperative');
      await fromOption.stop();
    });

    it('uses a scheduler instance passed as an option, whatever the mode settings say', async function () {
      process.env.SOCKETIO_ASYNC_MODE = 'worker-pool';
      const scheduler = new CooperativeScheduler();
      const io = new SocketIO({ scheduler });
      expect(io.scheduler).to.equal(scheduler);
      expect(io.asyncMode).to.equal('cooperative');
      await io.stop();
    });
  });
});
