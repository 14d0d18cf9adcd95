/**
 * Picks the broker from the `messageQueue` URL's scheme.
 */
import { OptionError } from '../errors.js';
import { AmqpQueue } from './amqp.js';
import type { MessageQueue, QueueSettings } from './queue.js';
import { RedisQueue } from './redis.js';

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
