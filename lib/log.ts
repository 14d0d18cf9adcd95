/**
 * The logger every layer writes to. It sits below lib/socketio and lib/queues, which both
 * log, so that neither imports the other for it.
 */

/**
 * Anything with the four console levels (console, pino, winston...).
 *
 * @example
 * ```ts
 * const logger: Logger = console;
 * logger.warn('message queue redis://127.0.0.1:6379/0: connection closed; reconnecting');
 * ```
 *
 * @group Options
 */
export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}
