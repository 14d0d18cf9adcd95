/**
 * Redis pub/sub (ioredis): one connection publishes, a second subscribes.
 * ioredis reconnects with backoff; any close counts as an outage, an error or
 * the server closing the connection cleanly (`CLIENT KILL`, a restart). While
 * the publishing connection is away, messages wait in the outbox (bounded by
 * `maxBuffered`) and go out when it is back; the subscribing one subscribes
 * again and asks the others what it missed (see sequence.ts). ioredis is an
 * optional dependency, loaded when a redis:// URL is used.
 */
import type { Redis } from 'ioredis';
import { Connection, QueueCore } from './core.js';
import type { SendResult } from './outbox.js';
import { closedInTime, loadBrokerClient } from './queue.js';
import type { MessageQueue, QueueSettings, QueueStats } from './queue.js';

const retryStrategy = (times: number): number => Math.min(100 * 2 ** Math.min(times, 6), 5000);

/** How long subscribe() waits for the first subscription before going on (it keeps trying). */
const FIRST_SUBSCRIBE_WAIT_MS = 5000;

/**
 * A Redis channel.
 *
 * @example
 * ```ts
 * const q = new RedisQueue({ url: 'redis://127.0.0.1:6379/0', channel: 'socketio', logger, clock, options });
 * await q.publish('{"method":"emit"}');
 * ```
 */
export class RedisQueue implements MessageQueue {
  readonly #ioredis: { Redis: typeof Redis };
  readonly #core: QueueCore;
  readonly #publisher = new Connection('(publisher)', true, false);
  readonly #subscriber = new Connection('(subscriber)', false, true);
  readonly #pub: Redis;
  #sub: Redis | undefined;
  /** Ends subscribe()'s wait for the first subscription. */
  #firstSubscribed: (() => void) | undefined;
  #closing = false;

  constructor(private readonly settings: QueueSettings) {
    this.#ioredis = loadBrokerClient('ioredis', settings.url);
    this.#core = new QueueCore(settings, {
      isUp: () => this.#pub.status === 'ready',
      send: (wire) => this.#send(wire),
    });
    this.#pub = this.#connect(this.#publisher, 'socketio-actors-publisher');
  }

  #connect(connection: Connection, name: string): Redis {
    const client = new this.#ioredis.Redis(this.settings.url, {
      lazyConnect: false,
      // The outbox holds and resends; ioredis must neither queue nor resend by itself.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      connectionName: name,
      retryStrategy,
    });
    client.on('error', (error: Error) => connection.failed(error));
    client.on('close', () => {
      if (!this.#closing) this.#core.down(connection);
    });
    client.on('ready', () => {
      if (this.#closing) return;
      this.#core.up(connection);
      if (client === this.#sub) void this.#listen(client);
    });
    return client;
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
    return this.#publisher.isUp && (this.#sub === undefined || this.#subscriber.isUp);
  }

  publish(payload: string): Promise<boolean> {
    return this.#core.outbox.publish(payload);
  }

  async #send(wire: string): Promise<SendResult> {
    try {
      await this.#pub.publish(this.settings.channel, wire);
      return 'taken';
    } catch (error) {
      // An error reply is Redis saying no; anything else is the connection going.
      return (error as Error).name === 'ReplyError' ? 'refused' : 'failed';
    }
  }

  /** Subscribes on a (re)connected subscriber, then asks the others what it missed. */
  async #listen(sub: Redis): Promise<void> {
    try {
      await sub.subscribe(this.settings.channel);
      this.#core.subscribed();
      this.#firstSubscribed?.();
    } catch {
      // The connection went meanwhile; its next 'ready' subscribes again.
    }
  }

  async subscribe(onMessage: (payload: Buffer) => void): Promise<void> {
    const channel = Buffer.from(this.settings.channel);
    const sub = this.#connect(this.#subscriber, 'socketio-actors-subscriber');
    this.#sub = sub;
    sub.on('messageBuffer', (from: Buffer, message: Buffer) => {
      if (from.equals(channel)) this.#core.receive(message, onMessage);
    });
    // Until subscribed, or the first attempt failed (then it keeps trying in the background).
    const { clock } = this.settings;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clock.clearTimeout(timer);
        sub.off('close', done);
        this.#firstSubscribed = undefined;
        resolve();
      };
      const timer = clock.setTimeout(done, FIRST_SUBSCRIBE_WAIT_MS);
      this.#firstSubscribed = done;
      sub.once('close', done);
    });
  }

  async close(): Promise<void> {
    // The goodbye goes out before QUIT, on the same connection.
    this.#core.leave(this.#publisher);
    this.#closing = true;
    const clients = [this.#pub, this.#sub].filter((c): c is Redis => c !== undefined);
    const { clock } = this.settings;
    await Promise.all(
      clients.map(async (c) => {
        // Not ready: nobody to say goodbye to. Ready: QUIT, cut if the server does not answer.
        if (c.status !== 'ready' || !(await closedInTime(clock, c.quit()))) c.disconnect();
      }),
    );
    this.#core.outbox.close();
  }
}
