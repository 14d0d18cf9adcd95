/**
 * Picks the broker from the `messageQueue` URL's scheme, and the session store of connection
 * state recovery from its option.
 */
import type { Clock } from '../../schedulers/scheduler.js';
import { OptionError } from '../errors.js';
import { AmqpQueue } from './amqp.js';
import type { MessageQueue, QueueSettings } from './queue.js';
import { MemorySessionStore } from './memory-sessions.js';
import type { MemorySessionLimits } from './memory-sessions.js';
import { RedisQueue } from './redis.js';
import { RedisSessionStore } from './redis-sessions.js';
import type { RedisSessionLimits } from './redis-sessions.js';
import type { SessionStore } from './sessions.js';

/**
 * `redis://` / `rediss://` → Redis pub/sub; `amqp://` / `amqps://` → RabbitMQ.
 *
 * @example
 * ```ts
 * createQueue({ url: 'redis://127.0.0.1:6379/0', channel: 'socketio', logger, clock });
 * ```
 */
export function createQueue(settings: QueueSettings): MessageQueue {
  const scheme = settings.url.split(':', 1)[0]?.toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss') return new RedisQueue(settings);
  if (scheme === 'amqp' || scheme === 'amqps') return new AmqpQueue(settings);
  throw new OptionError(
    'messageQueue',
    'a redis://, rediss://, amqp:// or amqps:// URL',
    settings.url,
  );
}

/** What {@link createSessionStore} is built with. */
export interface SessionStoreSettings {
  /** In memory, or in the Redis at `url`. */
  readonly store: { readonly kind: 'memory' } | { readonly kind: 'redis'; readonly url: string };
  readonly limits: MemorySessionLimits & RedisSessionLimits;
  /** Starts every Redis key (the queue's channel). */
  readonly prefix: string;
  readonly clock: Clock;
  readonly debug: (line: string) => void;
  readonly warn: (line: string) => void;
  /**
   * Told when a room of the kept sessions gains its first one or loses its last (a store that
   * keeps sessions in this process: their rooms hold their routes, with room-aware routing).
   */
  readonly onRoom?: (nsp: string, room: string, present: boolean) => void;
}

/**
 * The session store of connection state recovery that the option names.
 *
 * @example
 * ```ts
 * createSessionStore({ store: { kind: 'memory' }, limits, prefix: 'socketio', clock, debug, warn });
 * ```
 */
export function createSessionStore(settings: SessionStoreSettings): SessionStore {
  const { store, limits, clock, debug } = settings;
  if (store.kind === 'memory') {
    const memory = new MemorySessionStore(limits, clock, debug);
    memory.onRoom = settings.onRoom;
    return memory;
  }
  return new RedisSessionStore({
    url: store.url,
    prefix: settings.prefix,
    limits,
    clock,
    debug,
    warn: settings.warn,
  });
}
