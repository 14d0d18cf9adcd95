/**
 * Picks the async mode: the `asyncMode` option, else the environment variable
 * `SOCKETIO_ASYNC_MODE`, else the CLI's `--async-mode`, else `event-loop`; then
 * builds its scheduler.
 */
import { CooperativeScheduler } from './cooperative.js';
import { EventLoopScheduler } from './event-loop.js';
import { ASYNC_MODES } from './scheduler.js';
import type { AsyncMode, Scheduler } from './scheduler.js';
import { WorkerPoolScheduler } from './worker-pool.js';
import { poolWorkerData } from './worker-runtime.js';

/** Set by the CLI from `--async-mode`; lowest precedence after the default. */
let cliMode: string | undefined;

/** Records the CLI's `--async-mode` (called by the CLI only). */
export function setCliAsyncMode(mode: string | undefined): void {
  cliMode = mode;
}

/**
 * An unknown async mode, or one whose optional dependency or setting is missing.
 *
 * @example
 * ```ts
 * resolveAsyncMode('threads'); // throws AsyncModeError listing the valid modes
 * ```
 *
 * @group Errors
 */
export class AsyncModeError extends Error {
  readonly code = 'ERR_ASYNC_MODE';
  constructor(message: string) {
    super(message);
    this.name = 'AsyncModeError';
  }
}

const VALID = `valid modes are ${ASYNC_MODES.join(', ')}`;

/**
 * Resolves the mode by precedence and checks it.
 *
 * @example
 * ```ts
 * resolveAsyncMode(undefined); // 'event-loop' unless SOCKETIO_ASYNC_MODE is set
 * ```
 *
 * @group Schedulers
 */
export function resolveAsyncMode(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): AsyncMode {
  const [source, mode] =
    option !== undefined
      ? ['option asyncMode', option]
      : env.SOCKETIO_ASYNC_MODE
        ? ['environment variable SOCKETIO_ASYNC_MODE', env.SOCKETIO_ASYNC_MODE]
        : cliMode !== undefined
          ? ['--async-mode', cliMode]
          : ['default', 'event-loop'];
  if (!(ASYNC_MODES as readonly string[]).includes(mode)) {
    throw new AsyncModeError(`${source}: unknown async mode ${JSON.stringify(mode)}; ${VALID}`);
  }
  return mode as AsyncMode;
}

/** What a scheduler is built with (the mode-specific options of `SocketIO`). */
export interface SchedulerSettings {
  readonly onTaskError: (error: unknown) => void;
  /** worker-pool: the pool itself failed (its threads cannot load the app module). */
  readonly onPoolError?: (message: string, cause?: unknown) => void;
  readonly debug?: (message: string) => void;
  /** cooperative: `'real'` (default) or `'virtual'`. */
  readonly clock?: 'real' | 'virtual';
  /** cooperative: seed for the order of ready tasks. */
  readonly seed?: number;
  /** cooperative with a virtual clock: real ms of idleness before time jumps. */
  readonly idleMs?: number;
  /** worker-pool: the module that creates the server (`import.meta.url`). */
  readonly appModule?: string;
  /** worker-pool: pool threads (default: cores). */
  readonly workers?: number;
}

/**
 * Builds the scheduler for a mode. Inside a worker-pool thread, `worker-pool`
 * gives that thread's own event loop (work started there stays in the pool).
 *
 * @example
 * ```ts
 * const scheduler = createScheduler('cooperative', { onTaskError: console.error, clock: 'virtual' });
 * ```
 */
export function createScheduler(mode: AsyncMode, settings: SchedulerSettings): Scheduler {
  if (mode !== 'cooperative' && (settings.clock !== undefined || settings.seed !== undefined)) {
    throw new AsyncModeError(
      `options clock and seed belong to async mode cooperative, not ${mode}`,
    );
  }
  switch (mode) {
    case 'event-loop':
      return new EventLoopScheduler({ onTaskError: settings.onTaskError });
    case 'cooperative':
      return new CooperativeScheduler({
        clock: settings.clock,
        seed: settings.seed,
        idleMs: settings.idleMs,
        onTaskError: settings.onTaskError,
      });
    case 'worker-pool': {
      if (poolWorkerData() !== undefined) {
        return new EventLoopScheduler({ mode: 'worker-pool', onTaskError: settings.onTaskError });
      }
      // The CLI names the app module (and thread count) for apps that do not.
      const appModule = settings.appModule ?? process.env.SOCKETIO_APP_MODULE;
      const envWorkers = process.env.SOCKETIO_WORKERS;
      const workers =
        settings.workers ?? (envWorkers === undefined ? undefined : Number(envWorkers));
      if (appModule === undefined) {
        throw new AsyncModeError(
          'async mode worker-pool needs to know the app module its threads load: pass { appModule: import.meta.url } (the CLI fills it in)',
        );
      }
      if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 256)) {
        throw new AsyncModeError(
          `option workers: expected a whole number from 1 to 256, got ${String(workers)}`,
        );
      }
      try {
        return new WorkerPoolScheduler({
          appModule,
          workers,
          onTaskError: settings.onTaskError,
          onPoolError: settings.onPoolError,
          debug: settings.debug,
        });
      } catch (error) {
        throw new AsyncModeError(error instanceof Error ? error.message : String(error));
      }
    }
  }
}
