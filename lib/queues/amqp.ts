/**
 * RabbitMQ (amqplib): a fanout exchange named after the channel (non-durable,
 * as python-socketio's kombu manager declares it). Each subscribing process
 * binds a queue of its own, named after the channel and the process, that
 * outlives a short disconnect: not exclusive, not auto-deleted, but expiring
 * `queueExpires` seconds after its consumer went (`x-expires`), and deleted on
 * a clean stop. What is published while a process reconnects waits there, and
 * a message is acknowledged once handled, so one in flight when the
 * connection went comes again. Publishes go on a confirm channel through the
 * outbox (held while away, sent again when unconfirmed). Reconnects with
 * backoff on the scheduler's clock. amqplib is an optional dependency, loaded
 * when an amqp:// URL is used.
 *
 * Room routes go through a second exchange, `<channel>.routes`, of type direct (a
 * topic exchange without wildcards does the same work, slower): a message's routing
 * key is its route, and a process binds its queue with the key of each route it
 * listens to. Both exchanges feed the one queue, and messages published on one channel
 * reach a queue in the order they were published, so a process's messages keep their
 * order across the channel and its routes.
 */
import type { ChannelModel, ConfirmChannel, connect } from 'amqplib';
import type { TimerHandle } from '../../schedulers/scheduler.js';
import { Connection, QueueCore } from './core.js';
import type { SendResult } from './outbox.js';
import { closedInTime, loadBrokerClient } from './queue.js';
import type { MessageQueue, QueueSettings, QueueStats } from './queue.js';

/** How long connecting (TCP and the AMQP handshake) may take. */
const CONNECT_TIMEOUT_MS = 5000;
/** Deliveries a consumer may hold unacknowledged. */
const PREFETCH = 1000;
const ignore = (): void => undefined;

/**
 * A RabbitMQ fanout channel.
 *
 * @example
 * ```ts
 * const q = new AmqpQueue({ url: 'amqp://guest:guest@127.0.0.1:5672/', channel: 'socketio', logger, clock, options });
 * await q.publish('{"method":"emit"}');
 * ```
 */
export class AmqpQueue implements MessageQueue {
  readonly #core: QueueCore;
  readonly #link = new Connection('', true, false);
  readonly #queueName: string;
  #model: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #opened = false;
  #connecting: Promise<void> | undefined;
  #onMessage: ((payload: Buffer) => void) | undefined;
  #retryTimer: TimerHandle | undefined;
  #attempt = 0;
  #closed = false;
  /** The routes listened to (bound to this process's queue while it consumes). */
  readonly #routes = new Set<string>();
  /** Routes let go while not consuming: the queue may still be bound to them. */
  readonly #stale = new Set<string>();
  /** The channel the queue is consumed on (bindings go there), once consuming. */
  #consuming: ConfirmChannel | undefined;

  readonly #amqplib: { connect: typeof connect };

  constructor(private readonly settings: QueueSettings) {
    this.#amqplib = loadBrokerClient('amqplib', settings.url);
    this.#core = new QueueCore(settings, {
      isUp: () => this.#channel !== undefined,
      send: (wire, route) => this.#send(wire, route),
    });
    this.#queueName = `socketio-actors.${settings.channel}.${this.#core.id}`;
  }

  get id(): string {
    return this.#core.id;
  }

  get stats(): QueueStats {
    return this.#core.stats;
  }

  peers(): string[] {
    return this.#core.members.ids();
  }

  onPeerGone(listener: (id: string) => void): void {
    this.#core.onMemberGone = listener;
  }

  get connected(): boolean {
    return this.#channel !== undefined;
  }

  #open(): Promise<void> {
    this.#opened = true;
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const { url, channel: exchange } = this.settings;
    try {
      // A broker that accepts the TCP connection and never answers must not hold publishes.
      const model = await this.#amqplib.connect(url, {
        timeout: CONNECT_TIMEOUT_MS,
        clientProperties: { connection_name: `socketio-actors ${exchange} ${this.#core.id}` },
      });
      const channel = await model.createConfirmChannel();
      await channel.assertExchange(exchange, 'fanout', { durable: false });
      await channel.assertExchange(this.#routesExchange, 'direct', { durable: false });
      const failed = (error: Error): void => this.#link.failed(error);
      model.on('error', failed);
      channel.on('error', failed);
      model.on('close', () => this.#lost(channel));
      channel.on('close', () => this.#lost(channel));
      this.#attempt = 0;
      this.#model = model;
      this.#channel = channel;
      if (this.#closed) return await this.close();
      this.#core.up(this.#link);
      if (this.#onMessage !== undefined) await this.#consume(channel, this.#onMessage);
    } catch (error) {
      // Connected but not consuming: closing it brings the retry (see #lost).
      if (this.#channel !== undefined) return void this.#model?.close().catch(ignore);
      this.#core.down(this.#link, (error as Error).message);
      this.#scheduleRetry();
    }
  }

  async #consume(channel: ConfirmChannel, onMessage: (payload: Buffer) => void): Promise<void> {
    const { queue } = await channel.assertQueue(this.#queueName, {
      exclusive: false,
      autoDelete: false,
      durable: false,
      arguments: { 'x-expires': this.settings.options.queueExpiresMs },
    });
    await channel.bindQueue(queue, this.settings.channel, '');
    for (const route of this.#routes) await channel.bindQueue(queue, this.#routesExchange, route);
    for (const route of this.#stale) await channel.unbindQueue(queue, this.#routesExchange, route);
    this.#stale.clear();
    await channel.prefetch(PREFETCH);
    await channel.consume(
      queue,
      (message) => {
        if (this.#channel !== channel) return;
        // The broker cancelled the consumer (the queue was deleted): declare it again.
        if (message === null) return void this.#consume(channel, onMessage).catch(ignore);
        const { exchange, routingKey } = message.fields;
        if (exchange !== this.#routesExchange) this.#core.receive(message.content, onMessage);
        // Only while listened to: one queued before the unbinding is dropped.
        else if (this.#routes.has(routingKey))
          this.#core.receive(message.content, onMessage, routingKey);
        channel.ack(message);
      },
      { noAck: false },
    );
    this.#consuming = channel;
    this.#core.subscribed();
  }

  #lost(channel: ConfirmChannel): void {
    if (this.#channel !== channel) return;
    this.#consuming = undefined;
    this.#model = undefined;
    this.#channel = undefined;
    if (this.#closed) return;
    this.#core.down(this.#link);
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

  publish(payload: string): Promise<boolean> {
    if (!this.#opened) void this.#open();
    return this.#core.outbox.publish(payload);
  }

  get #routesExchange(): string {
    return `${this.settings.channel}.routes`;
  }

  publishTo(route: string, payload: string): Promise<boolean> {
    if (!this.#opened) void this.#open();
    return this.#core.outbox.publish(payload, route);
  }

  async listenTo(route: string, on: boolean): Promise<void> {
    if (on === this.#routes.has(route)) return;
    const channel = this.#consuming;
    if (on) {
      this.#routes.add(route);
      this.#stale.delete(route);
      this.#core.inbox.listen(route);
    } else {
      this.#routes.delete(route);
      this.#core.inbox.unlisten(route);
      if (channel === undefined) this.#stale.add(route);
    }
    // Not consuming: the next #consume binds every route. A failure here is a channel closing,
    // which brings a new one that binds them all again.
    if (channel === undefined) return;
    const queue = this.#queueName;
    const binding = on
      ? channel.bindQueue(queue, this.#routesExchange, route)
      : channel.unbindQueue(queue, this.#routesExchange, route);
    await binding.catch(ignore);
  }

  #send(wire: string, route: string | undefined): Promise<SendResult> {
    const channel = this.#channel;
    if (channel === undefined) return Promise.resolve('failed');
    // Settles on the broker's ack or nack, or when the channel closes first. publish()
    // returning false only asks for backpressure: the message is queued all the same.
    return new Promise<SendResult>((resolve) => {
      try {
        const [exchange, key] =
          route === undefined ? [this.settings.channel, ''] : [this.#routesExchange, route];
        channel.publish(exchange, key, Buffer.from(wire), {}, (error: unknown) =>
          resolve(
            error === null || error === undefined
              ? 'taken'
              : /nack/i.test((error as Error).message)
                ? 'refused'
                : 'failed',
          ),
        );
      } catch {
        resolve('failed');
      }
    });
  }

  async subscribe(onMessage: (payload: Buffer) => void): Promise<void> {
    this.#onMessage = onMessage;
    this.#link.subscribes = true;
    if (this.#channel !== undefined) await this.#consume(this.#channel, onMessage);
    else await this.#open();
  }

  async close(): Promise<void> {
    // The goodbye goes out on the channel before it closes.
    this.#core.leave(this.#link);
    this.#closed = true;
    if (this.#retryTimer !== undefined) this.settings.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const model = this.#model;
    const channel = this.#channel;
    this.#model = undefined;
    this.#channel = undefined;
    this.#consuming = undefined;
    // A broker that stopped answering cannot hold stop(); its heartbeat ends the connection.
    if (model !== undefined)
      await closedInTime(
        this.settings.clock,
        (async () => {
          // Nobody will read it again.
          if (channel !== undefined && this.#onMessage !== undefined)
            await channel.deleteQueue(this.#queueName);
          await model.close();
        })(),
      );
    this.#core.outbox.close();
  }
}
