/**
 * A logger adapter that gives each line a timestamp and its level, for
 * `logger` / `engineioLogger` when the output goes to a file or a log
 * collector rather than a terminal. The default logging stays as it is (quiet);
 * pino and winston already stamp their lines and are passed as they are.
 */
import type { Logger } from '../log.js';

/**
 * Options of {@link timestampedLogger}.
 *
 * @group Options
 */
export interface TimestampedLoggerOptions {
  /** Where the stamped lines go (default `console`). */
  readonly to?: Logger;
  /** The clock that stamps them (default the wall clock). */
  readonly now?: () => Date;
  /** Whether `debug` lines are kept (default false, as with `logger: true`). */
  readonly debug?: boolean;
}

/**
 * A {@link Logger} whose lines start with an ISO 8601 timestamp and the level in capitals,
 * then `socketio-actors:` and what the server logged.
 *
 * @example
 * ```ts
 * new SocketIO({ logger: timestampedLogger() });
 * // 2025-01-31T09:30:00.000Z INFO socketio-actors: client connected …
 * new SocketIO({ logger: timestampedLogger({ to: myLogger, debug: true }) });
 * ```
 *
 * @group Options
 */
export function timestampedLogger(options: TimestampedLoggerOptions = {}): Logger {
  const { to = console, now = () => new Date(), debug = false } = options;
  const stamped = (level: keyof Logger) =>
    level === 'debug' && !debug
      ? (): void => undefined
      : (...args: unknown[]): void =>
          to[level](`${now().toISOString()} ${level.toUpperCase()} socketio-actors:`, ...args);
  return {
    debug: stamped('debug'),
    info: stamped('info'),
    warn: stamped('warn'),
    error: stamped('error'),
  };
}
