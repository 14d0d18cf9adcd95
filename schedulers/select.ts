/**
 * Picks the async mode: the `asyncMode` option, else the environment variable
 * `SOCKETIO_ASYNC_MODE`, else the CLI's `--async-mode`, else `event-loop`.
 */
import { EventLoopScheduler } from './event-loop.js';
import { ASYNC_MODES } from './scheduler.js';
import type { AsyncMode, Clock, Scheduler } from './scheduler.js';

/** Set by the CLI from `--async-mode`; lowest precedence after the default. */
let cliMode: string | undefined;

/** Records the CLI's `--async-mode` (called by the CLI only). */
export function setCliAsyncMode(mode: string | undefined): void {
  cliMode = mode;
}

/**
 * An unknown async mode, or one whose optional dependency is missing.
 *
 * @example
 * ```ts
 * resolveAsyncMode('threads'); // throws AsyncModeError listing the valid modes
 * ```
 */
export class AsyncModeError extends Error {
  readonly code = 'ERR_ASYNC_MODE';
  constructor(message: string) {
    super(message);
    this.name = 'AsyncModeError';
  }
}

/**
 * Resolves the mode by precedence and checks it.
 *
 * @example
 * ```ts
 * resolveAsyncMode(undefined); // 'event-loop' unless SOCKETIO_ASYNC_MODE is set
 * ```
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
    throw new AsyncModeError(
      `${source}: unknown async mode ${JSON.stringify(mode)}; valid modes are ${ASYNC_MODES.join(', ')}`,
    );
  }
  return mode as AsyncMode;
}

/** What a scheduler is built with. */
export interface SchedulerContext {
  readonly clock?: Clock;
  readonly onTaskError: (error: unknown) => void;
}

/**
 * Builds the scheduler for a mode.
 *
 * @example
 * ```ts
 * const scheduler = createScheduler('event-loop', { onTaskError: console.error });
 * ```
 */
export function createScheduler(mode: AsyncMode, context: SchedulerContext): Scheduler {
  switch (mode) {
    case 'event-loop':
      return new EventLoopScheduler(context);
    case 'worker-pool':
    case 'cooperative':
      throw new AsyncModeError(
        `async mode ${mode} is not available in this version; valid modes here: event-loop`,
      );
  }
}
