/**
 * Redis pub/sub (ioredis): one connection publishes, a second subscribes.
 * ioredis reconnects with backoff and re-subscribes by itself; publishing while
 * it is away fails fast (no offline queue) and is counted as lost. ioredis is
 * an optional dependency, loaded when a redis:// URL is used.
 */
import type { Redis } from 'ioredis';
import { closedInTime, countPublish, loadBrokerClient, newStats, redact } from './queue.js';
import type { MessageQueue, QueueSettings, QueueStats } from './queue.js';

const retryStrategy = (times: number): number => Math.min(100 * 2 ** Math.min(times, 6), 5000);

/**
 * A Redis channel.
 *
 * @example
 * ```ts
 * const q = new RedisQueue({ url: 'redis://127.0.0.1:6379/0', channel: 'socketio', logger, clock });
 * await q.publish('{"method":"emit"}');
 * ```
 */
export class RedisQueue implements MessageQueue {
  readonly stats: QueueStats = newStats();
  readonly #ioredis: { Redis: typeof Redis };
  readonly #pub: Redis;
  #sub: Redis | undefined;
  #down = false;

  readonly #firstReady: Promise<void>;

  constructor(private readonly settings: QueueSettings) {
    this.#ioredis = loadBrokerClient('ioredis', settings.url);
    this.#pub = this.#connect('publisher');
    const pub = this.#pub;
    const { clock } = settings;
    this.#firstReady = new Promise<void>((resolve) => {
      // Stop waiting once the first attempt fails (or after a few seconds): from then on
      // publishes fail fast and count as lost.
      const timer = clock.setTimeout(resolve, 5000);
      const done = (): void => {
        clock.clearTimeout(timer);
        pub.off('ready', done).off('end', done).off('error', done);
        resolve();
      };
      pub.once('ready', done);
      pub.once('end', done);
      pub.once('error', done);
    });
  }

  #connect(role: string): Redis {
    const { logger, url } = this.settings;
    const client = new this.#ioredis.Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy,
    });
    client.on('error', (error: Error) => {
      if (!this.#down)
        logger.warn(`message queue ${redact(url)} (${role}): ${error.message}; reconnecting`);
      this.#down = true;
    });
    client.on('ready', () => {
      if (this.#down) {
        this.stats.reconnects++;
        logger.info(
          `message queue ${redact(url)} (${role}) is back; ${this.stats.lost} messages were lost while it was away`,
        );
      }
      this.#down = false;
    });
    return client;
  }

  get connected(): boolean {
    return this.#pub.status === 'ready';
  }

  async publish(payload: string): Promise<boolean> {
    return countPublish(this.stats, async () => {
      // The first connection may still be on its way (an external emitter publishes at once).
      if (this.#pub.status === 'connecting' || this.#pub.status === 'wait') await this.#firstReady;
      await this.#pub.publish(this.settings.channel, payload);
    });
  }

  async subscribe(onMessage: (payload: Buffer) => void): Promise<void> {
    const sub = (this.#sub ??= this.#connect('subscriber'));
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString() !== this.settings.channel) return;
      this.stats.received++;
      onMessage(message);
    });
    if (sub.status !== 'ready')
      await new Promise<void>((resolve) => sub.once('ready', () => resolve()));
    await sub.subscribe(this.settings.channel);
  }

  async close(): Promise<void> {
    const clients = [this.#pub, this.#sub].filter((c): c is Redis => c !== undefined);
    const { clock } = this.settings;
    await Promise.all(
      clients.map(async (c) => {
        // Not ready: nobody to say goodbye to. Ready: QUIT, cut if the server does not answer.
        if (c.status !== 'ready' || !(await closedInTime(clock, c.quit()))) c.disconnect();
      }),
    );
  }
}
