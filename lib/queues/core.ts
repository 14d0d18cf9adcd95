/**
 * What both brokers share: the outbox (publishing), the inbox (receiving),
 * the counters, and the one place that logs outages, reconnections and
 * losses, each at warn. A broker file tells it when a connection goes and
 * comes back and hands it what arrives.
 */
import { randomBytes } from 'node:crypto';
import { Outbox } from './outbox.js';
import type { Link, LossReason } from './outbox.js';
import { redact } from './queue.js';
import type { QueueSettings, QueueStats } from './queue.js';
import { Members } from './members.js';
import { Inbox } from './sequence.js';
import type { TimerHandle } from '../../schedulers/scheduler.js';

/**
 * One broker connection as the log sees it: up, or down since some time.
 *
 * @example
 * ```ts
 * const subscriber = new Connection('(subscriber)', false, true);
 * core.down(subscriber); // warns once: "... (subscriber): connection closed (by the server); reconnecting"
 * ```
 */
export class Connection {
  #downSince: number | undefined;
  #reached = false;
  #error: string | undefined;

  constructor(
    /** E.g. `(publisher)`; empty for a broker's only connection. */
    readonly role: string,
    readonly publishes: boolean,
    /** Whether it delivers messages (from the first subscribe on). */
    public subscribes: boolean,
  ) {}

  /** Whether it was ever up. */
  get reached(): boolean {
    return this.#reached;
  }

  /** Remembers the error that will explain the next close. */
  failed(error: Error): void {
    this.#error = error.message;
  }

  /** Starts an outage at `now` (ms); returns what to log, or undefined when it is down already. */
  down(reason: string | undefined, now: number): string | undefined {
    const why = reason ?? this.#error ?? 'by the server';
    this.#error = undefined;
    if (this.#downSince !== undefined) return undefined;
    this.#downSince = now;
    return `${this.#reached ? 'connection closed' : 'cannot connect'} (${why}); reconnecting`;
  }

  /** Ends an outage at `now` (ms); returns its length in seconds, or undefined when it was not down. */
  up(now: number): number | undefined {
    this.#reached = true;
    this.#error = undefined;
    const since = this.#downSince;
    this.#downSince = undefined;
    return since === undefined ? undefined : (now - since) / 1000;
  }

  get isUp(): boolean {
    return this.#reached && this.#downSince === undefined;
  }
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * The broker-independent part of a queue.
 *
 * @example
 * ```ts
 * const core = new QueueCore(settings, link);
 * const publisher = new Connection('(publisher)', true, false);
 * client.on('ready', () => core.up(publisher));
 * client.on('close', () => core.down(publisher));
 * ```
 */
export class QueueCore {
  readonly id = randomBytes(16).toString('hex');
  readonly outbox: Outbox;
  readonly inbox: Inbox;
  /** The other server processes on the channel (from their heartbeats). */
  readonly members: Members;
  reconnects = 0;
  /** Told when a member leaves (says bye, or its heartbeats stop). */
  onMemberGone: ((id: string) => void) | undefined;
  /** The heartbeat, from the first subscription until {@link leave}. */
  #beat: TimerHandle | undefined;
  #left = false;
  /**
   * Whether this process receives what is published (subscribed, its connection up): it beats
   * only then, so the others never wait for answers it cannot hear.
   */
  #listening = false;
  readonly #name: string;
  /** Loss reasons already warned about since the publishing connection was last up. */
  readonly #warned = new Set<LossReason>();

  constructor(
    private readonly settings: QueueSettings,
    link: Link,
  ) {
    this.#name = `message queue ${redact(settings.url)}`;
    this.outbox = new Outbox(link, this.id, settings.options.maxBuffered, (reason) =>
      this.#lost(reason),
    );
    this.members = new Members(settings.clock, settings.options.heartbeatTimeoutMs, (id) =>
      this.onMemberGone?.(id),
    );
    this.inbox = new Inbox(
      this.id,
      (count, sender) =>
        this.#warn(
          `${this.#name}: missed ${plural(count, 'message')} from host ${sender} (published while this process was not subscribed)`,
        ),
      (sender, control) => {
        // A newcomer hears of this process at once, not a heartbeat later.
        if (this.members.heard(sender, control) && this.#listening) this.outbox.control('beat');
      },
    );
  }

  get stats(): QueueStats {
    return {
      published: this.outbox.published,
      received: this.inbox.received,
      lost: this.outbox.lost,
      missed: this.inbox.missed,
      reconnects: this.reconnects,
      buffered: this.outbox.buffered,
    };
  }

  /**
   * A connection went (or an attempt failed). Before the publishing connection was ever up,
   * what waits for it is dropped: see {@link Outbox.unreachable}.
   */
  down(connection: Connection, reason?: string): void {
    const line = connection.down(reason, this.settings.clock.now());
    if (line !== undefined) this.#warn(`${this.#label(connection)}: ${line}`);
    if (connection.subscribes) this.#listening = false;
    if (!connection.publishes) return;
    if (connection.reached) this.outbox.linkDown();
    else this.outbox.unreachable();
  }

  /** A connection is up (again); a subscribing one calls {@link subscribed} once it listens. */
  up(connection: Connection): void {
    const seconds = connection.up(this.settings.clock.now());
    if (seconds !== undefined) {
      this.reconnects++;
      const news: string[] = [];
      if (connection.publishes) {
        const lost = this.outbox.lostWhileDown;
        if (lost > 0)
          news.push(
            `${plural(lost, 'message')} published meanwhile were lost (counted in queueStats().lost)`,
          );
        if (this.outbox.buffered > 0)
          news.push(`sending the ${plural(this.outbox.buffered, 'message')} held meanwhile`);
      }
      if (connection.subscribes) news.push('asking the other processes what it missed');
      this.#warn(
        `${this.#label(connection)} is back after ${seconds.toFixed(1)} s${news.map((n) => `; ${n}`).join('')}`,
      );
    }
    if (connection.publishes) {
      this.#warned.clear();
      this.outbox.linkUp();
    }
  }

  /** Listening (again): asks every process for its last message number, to find what is missing. */
  subscribed(): void {
    this.outbox.control('ask');
    if (this.#left) return;
    this.#listening = true;
    this.outbox.control('beat');
    if (this.#beat === undefined) this.#scheduleBeat();
  }

  #scheduleBeat(): void {
    const { clock, options } = this.settings;
    const due = clock.now() + options.heartbeatIntervalMs;
    this.#beat = clock.setTimeout(() => {
      // A timer that fires late means this process stalled: what the others sent meanwhile is
      // still unread, so nobody is declared gone before it has been read.
      if (clock.now() - due < options.heartbeatIntervalMs / 2) this.members.sweep();
      if (this.#listening) this.outbox.control('beat');
      this.#scheduleBeat();
    }, options.heartbeatIntervalMs);
  }

  /** Hands on what should be (each message once), answers asks; `route`: the room route it came on. */
  receive(payload: Buffer, onMessage: (payload: Buffer) => void, route?: string): void {
    const arrival = this.inbox.accept(payload, route);
    if (arrival === 'deliver') onMessage(payload);
    else if (arrival === 'answer') this.outbox.control('state');
  }

  /** Says goodbye on the channel (with the last message number) when the connection is up. */
  leave(connection: Connection): void {
    this.#left = true;
    this.#listening = false;
    if (this.#beat !== undefined) this.settings.clock.clearTimeout(this.#beat);
    this.#beat = undefined;
    this.members.clear();
    if (connection.isUp) this.outbox.control('bye');
  }

  #lost(reason: LossReason): void {
    if (this.#warned.has(reason)) return;
    this.#warned.add(reason);
    const max = this.settings.options.maxBuffered;
    this.#warn(
      `${this.#name}: ` +
        (reason === 'full'
          ? `${plural(max, 'message')} wait for the broker (maxBuffered ${max}); dropping new ones (counted in queueStats().lost)`
          : reason === 'unreachable'
            ? 'never reached yet; dropping what is published until it is (counted in queueStats().lost)'
            : reason === 'closed'
              ? 'closed; dropping what is published (counted in queueStats().lost)'
              : 'the broker refused a message; the other processes count it as missed'),
    );
  }

  #label(connection: Connection): string {
    return connection.role === '' ? this.#name : `${this.#name} ${connection.role}`;
  }

  #warn(line: string): void {
    this.settings.logger.warn(line);
  }
}
