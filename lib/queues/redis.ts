/**
 * Redis pub/sub (ioredis): one connection publishes, a second subscribes.
 * ioredis reconnects with backoff; any close counts as an outage, an error or
 * the server closing the connection cleanly (`CLIENT KILL`, a restart). While
 * the publishing connection is away, messages wait in the outbox (bounded by
 * `maxBuffered`) and go out when it is back; the subscribing one subscribes
 * again and asks the others what it missed (see sequence.ts). ioredis is an
 * optional dependency, loaded when a redis:// URL is used.
 *
 * Room routes use sharded pub/sub (Redis 7: SPUBLISH, SSUBSCRIBE), one shard channel
 * per route, `<channel>#<route>`, on the same two connections. One connection runs
 * its commands in order and a subscriber receives in the order they ran, so a
 * process's messages keep their order across the channel and its routes on a single
 * Redis server (a Redis Cluster keeps it per shard only).
 */
import type { Redis } from 'ioredis';
import { Connection, QueueCore } from './core.js';
import type { SendResult } from './outbox.js';
import { closedInTime, loadBrokerClient } from './queue.js';
import type { MessageQueue, QueueSettings, QueueStats } from './queue.js';

const ignore = (): void => undefined;

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
  /** The routes listened to, by shard channel name. */
  readonly #routes = new Map<string, string>();

  constructor(private readonly settings: QueueSettings) {
    this.#ioredis = loadBrokerClient('ioredis', settings.url);
    this.#core = new QueueCore(settings, {
      isUp: () => this.#pub.status === 'ready',
      send: (wire, route) => this.#send(wire, route),
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

  publishTo(route: string, payload: string): Promise<boolean> {
    return this.#core.outbox.publish(payload, route);
  }

  /** The shard channel of a route. */
  #routeChannel(route: string): string {
    return `${this.settings.channel}#${route}`;
  }

  /**
   * A shard channel nobody publishes to, subscribed with the first route and never left: ioredis
   * takes a SUNSUBSCRIBE that leaves no shard channel for the end of subscriber mode, and would
   * then stop reading the channel's messages.
   */
  get #anchor(): string {
    return this.#routeChannel('');
  }

  async listenTo(route: string, on: boolean): Promise<void> {
    const channel = this.#routeChannel(route);
    if (on === this.#routes.has(channel)) return;
    const sub = this.#sub;
    const ready = sub !== undefined && sub.status === 'ready';
    if (on) {
      this.#routes.set(channel, route);
      this.#core.inbox.listen(route);
      // Not ready: the next 'ready' subscribes to every route (see #listen).
      if (ready) await sub.ssubscribe(this.#anchor, channel).catch(ignore);
    } else {
      this.#routes.delete(channel);
      this.#core.inbox.unlisten(route);
      if (ready) await sub.sunsubscribe(channel).catch(ignore);
    }
  }

  async #send(wire: string, route: string | undefined): Promise<SendResult> {
    try {
      if (route === undefined) await this.#pub.publish(this.settings.channel, wire);
      else await this.#pub.spublish(this.#routeChannel(route), wire);
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
      if (this.#routes.size > 0) await sub.ssubscribe(this.#anchor, ...this.#routes.keys());
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
    sub.on('smessageBuffer', (from: Buffer, message: Buffer) => {
      // Only while listened to: one still in flight after SUNSUBSCRIBE is dropped.
      const route = this.#routes.get(from.toString());
      if (route !== undefined) this.#core.receive(message, onMessage, route);
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
