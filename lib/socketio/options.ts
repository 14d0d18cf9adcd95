/**
 * `SocketIO` options beyond the Engine.IO ones, and the logger they select.
 */
import { OptionError } from '../errors.js';
import { ENGINE_OPTION_NAMES } from '../engine/options.js';
import type { EngineOptions } from '../engine/options.js';
import { checkOptionNames } from '../option-names.js';
import { secondsOption, wholeOption } from '../option-values.js';
import { resolveQueueOptions } from '../queues/options.js';
import type { MessageQueueOptions, ResolvedQueueOptions } from '../queues/options.js';
import type { AsyncMode, Scheduler } from '../../schedulers/scheduler.js';
import { PARSER_NAMES } from './codec.js';
import type { ParserName } from './codec.js';
import type { JsonCodec } from './packets.js';
import { resolveRecoveryOptions } from './recovery.js';
import type { ConnectionStateRecoveryOptions, ResolvedRecoveryOptions } from './recovery.js';
import type { StatusPageOptions } from './status-options.js';

import type { Logger } from '../log.js';

export type { Logger };

/**
 * Engine.IO options the Socket.IO server takes from its scheduler rather than from the user
 * (`clock` is a Socket.IO option of its own, `'real'` or `'virtual'`).
 */
type FromScheduler = 'clock' | 'flushWrites';
const FROM_SCHEDULER: ReadonlySet<string> = new Set<FromScheduler>(['clock', 'flushWrites']);

/**
 * Options of `new SocketIO(app?, options)`: every Engine.IO option (seconds for
 * times) plus these.
 *
 * @example
 * ```ts
 * new SocketIO({ asyncMode: 'event-loop', corsAllowedOrigins: '*', logger: true });
 * ```
 *
 * @group Options
 */
export interface SocketIOOptions extends Omit<EngineOptions, FromScheduler> {
  /** `event-loop` (default), `worker-pool` or `cooperative`; see "Choosing an async mode". */
  asyncMode?: AsyncMode;
  /** A scheduler instance to use instead of one built from `asyncMode`. */
  scheduler?: Scheduler;
  /** Keep a server-side session per client and namespace (default true). */
  manageSession?: boolean;
  /** Log connections, disconnections and handler errors: true, false, or a logger. Default false. */
  logger?: boolean | Logger;
  /** Log Engine.IO transport detail too. Default false. */
  engineioLogger?: boolean | Logger;
  /** A JSON codec used for every packet's arguments. Default the global JSON. */
  json?: JsonCodec;
  /**
   * The Socket.IO packet format: `'json'` (default, socket.io-parser) or `'msgpack'` (the
   * format of socket.io-msgpack-parser and python-socketio's `serializer='msgpack'`); every
   * client must use the same one. See "The msgpack parser" in the README.
   */
  parser?: ParserName;
  /** Message queue URL for several processes (`redis://...`, `amqp://...`). */
  messageQueue?: string;
  /** Channel name on the message queue. Default 'socketio'. */
  channel?: string;
  /** How the message queue rides out broker outages; see "Broker outages" in the README. */
  messageQueueOptions?: MessageQueueOptions;
  /** Let one client's events be handled concurrently (default false: in arrival order). */
  asyncHandlers?: boolean;
  /** Seconds a client has to connect to a namespace after the handshake. Default 45. */
  connectTimeout?: number;
  /** Accept the namespace connection before the connect handler runs. Default false. */
  alwaysConnect?: boolean;
  /** Binary attachments allowed in one packet. Default 10. */
  maxAttachments?: number;
  /** Longest event name accepted from a client. Default 256. */
  maxEventNameLength?: number;
  /** Deepest nesting of event arguments accepted from a client. Default 32. */
  maxArgumentDepth?: number;
  /** Namespaces one connection may join at once. Default 64. */
  maxNamespacesPerConnection?: number;
  /** worker-pool: URL of the module that creates this server (`import.meta.url`); its threads load it. */
  appModule?: string;
  /** worker-pool: number of pool threads. Default: the number of cores. */
  workers?: number;
  /** cooperative: `'real'` (default) or `'virtual'` time. */
  clock?: 'real' | 'virtual';
  /** cooperative: seed that fixes the order in which ready tasks run. */
  seed?: number;
  /** Serve the official client bundle at `/<path>/socket.io.js` (and `.min.js`, source maps). Default true. */
  serveClient?: boolean;
  /** A live status page (off by default); see "Status page" in the README. */
  statusPage?: StatusPageOptions;
  /**
   * socket.io's connection state recovery (off by default): a client that loses its
   * connection and comes back within `maxDisconnectionDuration` seconds gets its sid, rooms,
   * session and missed packets back. `true` takes the defaults. See "Connection state
   * recovery" in the README.
   */
  connectionStateRecovery?: boolean | ConnectionStateRecoveryOptions;
}

/** Every name {@link SocketIOOptions} has beyond the Engine.IO ones (kept complete by the compiler). */
const OWN_OPTION_NAMES = Object.keys({
  asyncMode: true,
  scheduler: true,
  manageSession: true,
  logger: true,
  engineioLogger: true,
  json: true,
  parser: true,
  messageQueue: true,
  channel: true,
  messageQueueOptions: true,
  asyncHandlers: true,
  connectTimeout: true,
  alwaysConnect: true,
  maxAttachments: true,
  maxEventNameLength: true,
  maxArgumentDepth: true,
  maxNamespacesPerConnection: true,
  appModule: true,
  workers: true,
  clock: true,
  seed: true,
  serveClient: true,
  statusPage: true,
  connectionStateRecovery: true,
} satisfies Record<Exclude<keyof SocketIOOptions, keyof Omit<EngineOptions, FromScheduler>>, true>);

/** Every option name `new SocketIO()` reads. */
export const SOCKETIO_OPTION_NAMES: ReadonlySet<string> = new Set([
  ...[...ENGINE_OPTION_NAMES].filter((name) => !FROM_SCHEDULER.has(name)),
  ...OWN_OPTION_NAMES,
]);

/**
 * The Engine.IO part of the options (what the `EngineServer` underneath is given).
 *
 * @example
 * ```ts
 * engineOptions({ pingInterval: 5, asyncMode: 'event-loop' }); // { pingInterval: 5 }
 * ```
 */
export function engineOptions(options: SocketIOOptions): Omit<EngineOptions, FromScheduler> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options))
    if (ENGINE_OPTION_NAMES.has(name) && !FROM_SCHEDULER.has(name)) out[name] = value;
  return out;
}

/** Options after checking (times in milliseconds). */
export interface ResolvedSocketIOOptions {
  readonly manageSession: boolean;
  readonly logger: Logger;
  readonly engineLogger: Logger;
  readonly json: JsonCodec | undefined;
  readonly parser: ParserName;
  readonly messageQueue: string | undefined;
  readonly channel: string;
  readonly messageQueueOptions: ResolvedQueueOptions;
  readonly asyncHandlers: boolean;
  readonly connectTimeoutMs: number;
  readonly alwaysConnect: boolean;
  readonly maxAttachments: number;
  readonly maxEventNameLength: number;
  readonly maxArgumentDepth: number;
  readonly maxNamespacesPerConnection: number;
  /** Connection state recovery's settings; undefined when it is off. */
  readonly connectionStateRecovery: ResolvedRecoveryOptions | undefined;
}

const noop = (): void => undefined;

/** Logs errors only (handler errors are never silent). */
export const quietLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: (...args: unknown[]) => console.error('socketio-actors:', ...args),
};

/** `logger: true`: info and above, like Flask-SocketIO's logger=True (debug lines carry ids). */
const consoleLogger: Logger = {
  debug: noop,
  info: (...args: unknown[]) => console.info('socketio-actors:', ...args),
  warn: (...args: unknown[]) => console.warn('socketio-actors:', ...args),
  error: (...args: unknown[]) => console.error('socketio-actors:', ...args),
};

/**
 * `logger` itself, or, when it is the default (quiet) one, one that prints warnings too: for
 * what must never pass silently (a broker outage and what it cost, a missing client bundle).
 *
 * @example
 * ```ts
 * warningsShown(resolved.logger).warn('message queue redis://… (publisher): connection closed');
 * ```
 */
export function warningsShown(logger: Logger): Logger {
  return logger === quietLogger ? warningLogger : logger;
}

/** The quiet logger that prints warnings too (see {@link warningsShown}). */
const warningLogger: Logger = {
  ...quietLogger,
  warn: (...args: unknown[]) => console.warn('socketio-actors:', ...args),
};

/** `engineioLogger: true`: transport detail, printed (it is opt-in). */
const engineConsoleLogger: Logger = {
  ...consoleLogger,
  debug: (...args: unknown[]) => console.info('socketio-actors (engine):', ...args),
};

function logger(name: string, value: unknown, verbose = consoleLogger): Logger {
  if (value === undefined || value === false) return quietLogger;
  if (value === true) return verbose;
  const candidate = value as Partial<Logger>;
  if (
    typeof value === 'object' &&
    value !== null &&
    ['debug', 'info', 'warn', 'error'].every(
      (k) => typeof candidate[k as keyof Logger] === 'function',
    )
  ) {
    return value as Logger;
  }
  throw new OptionError(
    name,
    'true, false, or an object with debug/info/warn/error methods',
    value,
  );
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new OptionError(name, 'true or false', value);
  return value;
}

/**
 * Checks the Socket.IO options.
 *
 * @example
 * ```ts
 * resolveSocketIOOptions({ connectTimeout: 5 }).connectTimeoutMs; // 5000
 * ```
 */
export function resolveSocketIOOptions(options: SocketIOOptions): ResolvedSocketIOOptions {
  checkOptionNames('new SocketIO()', options, SOCKETIO_OPTION_NAMES);
  const json = options.json;
  if (
    json !== undefined &&
    (typeof json.stringify !== 'function' || typeof json.parse !== 'function')
  ) {
    throw new OptionError('json', 'an object with stringify() and parse()', json);
  }
  const parser = options.parser ?? 'json';
  if (!(PARSER_NAMES as readonly unknown[]).includes(parser)) {
    const hint =
      typeof parser === 'object' && parser !== null
        ? " (socket.io's parser: require('socket.io-msgpack-parser') is parser: 'msgpack' here)"
        : '';
    throw new OptionError('parser', `'json' or 'msgpack'${hint}`, parser);
  }
  if (parser === 'msgpack' && json !== undefined) {
    throw new OptionError(
      'json',
      "no json codec with parser: 'msgpack' (msgpack does not use JSON); remove one of them",
      json,
    );
  }
  const channel = options.channel ?? 'socketio';
  if (typeof channel !== 'string' || channel === '')
    throw new OptionError('channel', 'a non-empty string', channel);
  const mq = options.messageQueue;
  if (mq !== undefined && typeof mq !== 'string')
    throw new OptionError('messageQueue', "a URL such as 'redis://127.0.0.1:6379/0'", mq);
  return {
    manageSession: flag('manageSession', options.manageSession, true),
    logger: logger('logger', options.logger),
    engineLogger: logger('engineioLogger', options.engineioLogger, engineConsoleLogger),
    json,
    parser,
    messageQueue: mq,
    channel,
    messageQueueOptions: resolveQueueOptions(options.messageQueueOptions),
    asyncHandlers: flag('asyncHandlers', options.asyncHandlers, false),
    connectTimeoutMs: secondsOption('connectTimeout', options.connectTimeout, 45, 1, 86_400),
    alwaysConnect: flag('alwaysConnect', options.alwaysConnect, false),
    maxAttachments: wholeOption('maxAttachments', options.maxAttachments, 10),
    maxEventNameLength: wholeOption('maxEventNameLength', options.maxEventNameLength, 256),
    maxArgumentDepth: wholeOption('maxArgumentDepth', options.maxArgumentDepth, 32),
    maxNamespacesPerConnection: wholeOption(
      'maxNamespacesPerConnection',
      options.maxNamespacesPerConnection,
      64,
    ),
    connectionStateRecovery: resolveRecoveryOptions(options.connectionStateRecovery, mq),
  };
}
