/**
 * RabbitMQ (amqplib): a fanout exchange named after the channel (non-durable,
 * as python-socketio's kombu manager declares it); each subscriber binds an
 * exclusive, auto-deleted queue. Publishes go on a confirm channel: one
 * counts as published once the broker confirms it. Reconnects with backoff on
 * the scheduler's clock; publishing while away is counted as lost. amqplib is
 * an optional dependency, loaded when an amqp:// URL is used.
 */
import type { ChannelModel, ConfirmChannel, connect } from 'amqplib';
import type { TimerHandle } from '../../schedulers/scheduler.js';
import { closedInTime, countPublish, loadBrokerClient, newStats, redact } from './queue.js';
import type { MessageQueue, QueueSettings, QueueStats } from './queue.js';

/** How long connecting (TCP and the AMQP handshake) may take. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * A RabbitMQ fanout channel.
 *
 * @example
 * ```ts
 * const q = new AmqpQueue({ url: 'amqp://guest:guest@127.0.0.1:5672/', channel: 'socketio', logger, clock });
 * await q.publish('{"method":"emit"}');
 * ```
 */
export class AmqpQueue implements MessageQueue {
  readonly stats: QueueStats = newStats();
  #connection: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #connecting: Promise<void> | undefined;
  #onMessage: ((payload: Buffer) => void) | undefined;
  #retryTimer: TimerHandle | undefined;
  #attempt = 0;
  #closed = false;

  readonly #amqplib: { connect: typeof connect };

  constructor(private readonly settings: QueueSettings) {
    this.#amqplib = loadBrokerClient('amqplib', settings.url);
  }

  get connected(): boolean {
    return this.#channel !== undefined;
  }

  #open(): Promise<void> {
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const { url, channel: exchange, logger } = this.settings;
    try {
      // A broker that accepts the TCP connection and never answers must not hold publishes.
      const connection = await this.#amqplib.connect(url, { timeout: CONNECT_TIMEOUT_MS });
      const channel = await connection.createConfirmChannel();
      await channel.assertExchange(exchange, 'fanout', { durable: false });
      if (this.#onMessage !== undefined) await this.#consume(channel);
      connection.on('error', () => undefined);
      connection.on('close', () => this.#lost());
      channel.on('error', () => undefined);
      if (this.#attempt > 0) {
        this.stats.reconnects++;
        logger.info(
          `message queue ${redact(url)} is back; ${this.stats.lost} messages were lost while it was away`,
        );
      }
      this.#attempt = 0;
      this.#connection = connection;
      this.#channel = channel;
      if (this.#closed) await this.close();
    } catch (error) {
      if (this.#attempt === 0)
        logger.warn(`message queue ${redact(url)}: ${(error as Error).message}; reconnecting`);
      this.#scheduleRetry();
    }
  }

  async #consume(channel: ConfirmChannel): Promise<void> {
    const { queue } = await channel.assertQueue('', {
      exclusive: true,
      autoDelete: true,
      durable: false,
    });
    await channel.bindQueue(queue, this.settings.channel, '');
    await channel.consume(
      queue,
      (message) => {
        if (message === null) return;
        this.stats.received++;
        this.#onMessage?.(message.content);
      },
      { noAck: true },
    );
  }

  #lost(): void {
    this.#connection = undefined;
    this.#channel = undefined;
    if (this.#closed) return;
    this.settings.logger.warn(`message queue ${redact(this.settings.url)} closed; reconnecting`);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    const delay = Math.min(100 * 2 ** Math.min(this.#attempt++, 6), 5000);
    this.#retryTimer = this.settings.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#open();
    }, delay);
  }

  async publish(payload: string): Promise<boolean> {
    if (this.#channel === undefined && this.#attempt === 0) await this.#open();
    const channel = this.#channel;
    return countPublish(this.stats, () => {
      if (channel === undefined) return false;
      // Settles on the broker's ack or nack, or when the channel closes first. publish()
      // returning false only asks for backpressure: the message is queued all the same.
      return new Promise<boolean>((resolve) => {
        channel.publish(this.settings.channel, '', Buffer.from(payload), {}, (error: unknown) =>
          resolve(error === null || error === undefined),
        );
      });
    });
  }

  async subscribe(onMessage: (payload: Buffer) => void): Promise<void> {
    this.#onMessage = onMessage;
    if (this.#channel !== undefined) await this.#consume(this.#channel);
    else await this.#open();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer !== undefined) this.settings.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const connection = this.#connection;
    this.#connection = undefined;
    this.#channel = undefined;
    // A broker that stopped answering cannot hold stop(); its heartbeat ends the connection.
    if (connection !== undefined) await closedInTime(this.settings.clock, connection.close());
  }
}
