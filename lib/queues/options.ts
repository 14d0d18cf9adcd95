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
 *
 * @group Queues
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
  /**
   * Seconds between a server process's heartbeats on the channel, by which the others know it is
   * alive (cluster queries wait for the live processes only). Default 1 (0.05 to 60).
   */
  heartbeatInterval?: number;
  /**
   * Seconds without a word from a process after which the others stop counting it (a process
   * killed without a goodbye). Default 3, more than `heartbeatInterval` (0.1 to 600).
   */
  heartbeatTimeout?: number;
  /**
   * Seconds a cluster query (`fetchSockets`, `socketsJoin`, `socketsLeave`,
   * `disconnectSockets`, `serverSideEmitWithAck` without `timeout()`) waits for the other
   * processes' answers before it rejects with `ClusterTimeoutError`. Default 5 (0.1 to 600).
   */
  requestTimeout?: number;
  /**
   * `'channel'` (the default): every message goes on the one channel, which every process
   * reads. `'rooms'`: an emit to one room goes on that room's route (Redis 7 sharded pub/sub,
   * a RabbitMQ direct exchange), which only the processes with members in the room receive.
   * Python processes on the channel then miss those emits; see the README's "Room-aware routing".
   */
  routing?: 'channel' | 'rooms';
}

/** {@link MessageQueueOptions} after checking (times in milliseconds). */
export interface ResolvedQueueOptions {
  readonly maxBuffered: number;
  readonly queueExpiresMs: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly routing: 'channel' | 'rooms';
}

const NAMES: ReadonlySet<string> = new Set(
  Object.keys({
    maxBuffered: true,
    queueExpires: true,
    heartbeatInterval: true,
    heartbeatTimeout: true,
    requestTimeout: true,
    routing: true,
  } satisfies Record<keyof MessageQueueOptions, true>),
);

/**
 * Checks the options (names and values).
 *
 * @example
 * ```ts
 * resolveQueueOptions({ queueExpires: 5 }); // { maxBuffered: 10000, queueExpiresMs: 5000, heartbeatIntervalMs: 1000, ... }
 * ```
 */
export function resolveQueueOptions(options: MessageQueueOptions = {}): ResolvedQueueOptions {
  if (typeof options !== 'object' || options === null)
    throw new OptionError('messageQueueOptions', 'an object', options);
  checkOptionNames('messageQueueOptions', options, NAMES);
  const heartbeatIntervalMs = secondsOption(
    'messageQueueOptions.heartbeatInterval',
    options.heartbeatInterval,
    1,
    0.05,
    60,
  );
  const heartbeatTimeoutMs = secondsOption(
    'messageQueueOptions.heartbeatTimeout',
    options.heartbeatTimeout,
    Math.max(3, (3 * heartbeatIntervalMs) / 1000),
    0.1,
    600,
  );
  if (heartbeatTimeoutMs <= heartbeatIntervalMs)
    throw new OptionError(
      'messageQueueOptions.heartbeatTimeout',
      `more seconds than heartbeatInterval (${heartbeatIntervalMs / 1000}); three times it is usual`,
      options.heartbeatTimeout,
    );
  const routing = options.routing ?? 'channel';
  if (routing !== 'channel' && routing !== 'rooms')
    throw new OptionError('messageQueueOptions.routing', "'channel' or 'rooms'", options.routing);
  return {
    routing,
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    requestTimeoutMs: secondsOption(
      'messageQueueOptions.requestTimeout',
      options.requestTimeout,
      5,
      0.1,
      600,
    ),
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
