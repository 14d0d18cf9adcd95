/**
 * `messageQueueOptions`: how a process rides out a broker outage. Unknown names
 * are refused like every other option.
 */
import { OptionError } from '../errors.js';
import { checkOptionNames } from '../option-names.js';
import { secondsOption, wholeOption } from '../option-values.js';

/**
 * Options of the message queue (`new SocketIO({ messageQueue, messageQueueOptions })`).
 *
 * @example
 * ```ts
 * new SocketIO({ messageQueue: 'redis://127.0.0.1:6379/0', messageQueueOptions: { maxBuffered: 50_000 } });
 * ```
 */
export interface MessageQueueOptions {
  /**
   * Messages published and not yet taken by the broker (waiting for a connection, or for the
   * broker's answer) that a process holds; past it, a publish is dropped and counted in
   * `queueStats().lost`. Default 10000.
   */
  maxBuffered?: number;
  /**
   * RabbitMQ: seconds the queue of a process that lost its connection is kept (`x-expires`),
   * holding what is published meanwhile until the process is back. Default 30 (1 to 3600).
   */
  queueExpires?: number;
}

/** {@link MessageQueueOptions} after checking (times in milliseconds). */
export interface ResolvedQueueOptions {
  readonly maxBuffered: number;
  readonly queueExpiresMs: number;
}

const NAMES: ReadonlySet<string> = new Set(
  Object.keys({ maxBuffered: true, queueExpires: true } satisfies Record<
    keyof MessageQueueOptions,
    true
  >),
);

/**
 * Checks the options (names and values).
 *
 * @example
 * ```ts
 * resolveQueueOptions({ queueExpires: 5 }); // { maxBuffered: 10000, queueExpiresMs: 5000 }
 * ```
 */
export function resolveQueueOptions(options: MessageQueueOptions = {}): ResolvedQueueOptions {
  if (typeof options !== 'object' || options === null)
    throw new OptionError('messageQueueOptions', 'an object', options);
  checkOptionNames('messageQueueOptions', options, NAMES);
  return {
    maxBuffered: wholeOption('messageQueueOptions.maxBuffered', options.maxBuffered, 10_000),
    queueExpiresMs: secondsOption(
      'messageQueueOptions.queueExpires',
      options.queueExpires,
      30,
      1,
      3_600,
    ),
  };
}
