/**
 * The message-queue seam: one small interface, one file per broker (redis.ts,
 * amqp.ts). A queue carries opaque payloads on a channel; pubsub.ts gives them
 * meaning.
 */
import { requireOptional } from '../../schedulers/optional-dependency.js';
import type { Clock } from '../../schedulers/scheduler.js';
import type { Logger } from '../socketio/options.js';

/** Counters a queue keeps; `published` counts what the broker took, `lost` what it did not. */
export interface QueueStats {
  published: number;
  received: number;
  lost: number;
  reconnects: number;
}

/** A publish/subscribe channel on a broker. */
export interface MessageQueue {
  /**
   * Publishes a payload; resolves true once the broker took it (Redis answered the PUBLISH,
   * RabbitMQ confirmed it), false (and counts it lost) when it is unreachable or refused it.
   */
  publish(payload: string): Promise<boolean>;
  /** Starts delivering every payload published on the channel (by anyone, this process included). */
  subscribe(onMessage: (payload: Buffer) => void): Promise<void>;
  /** Whether the broker connection is up. */
  readonly connected: boolean;
  readonly stats: QueueStats;
  close(): Promise<void>;
}

/** What a queue is built with. */
export interface QueueSettings {
  readonly url: string;
  readonly channel: string;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Fresh counters. */
export function newStats(): QueueStats {
  return { published: 0, received: 0, lost: 0, reconnects: 0 };
}

/**
 * Runs one publish attempt and counts it: `published` when the broker took it, `lost` when it
 * threw (or `send` returned false: no connection to send on). Resolves whether it was taken.
 *
 * @example
 * ```ts
 * return countPublish(this.stats, () => pub.publish(channel, payload));
 * ```
 */
export async function countPublish(stats: QueueStats, send: () => unknown): Promise<boolean> {
  try {
    if ((await send()) === false) {
      stats.lost++;
      return false;
    }
    stats.published++;
    return true;
  } catch {
    stats.lost++;
    return false;
  }
}

/** How long closing a broker connection may wait for the broker's goodbye. */
const CLOSE_BOUND_MS = 1000;

/**
 * Waits for `promise`, `ms` at most on `clock`; resolves whether it fulfilled in that time
 * (false when it rejected or time ran out).
 *
 * @example
 * ```ts
 * const confirmed = await fulfilledWithin(clock, Promise.allSettled(deliveries), 5000);
 * ```
 */
export function fulfilledWithin(
  clock: Clock,
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), ms);
    const settle = (fulfilled: boolean): void => {
      clock.clearTimeout(timer);
      resolve(fulfilled);
    };
    promise.then(
      () => settle(true),
      () => settle(false),
    );
  });
}

/**
 * Waits for a graceful close of a broker connection, a second at most (a broker that stopped
 * answering cannot hold `stop()`); resolves whether it completed.
 *
 * @example
 * ```ts
 * if (!(await closedInTime(clock, client.quit()))) client.disconnect();
 * ```
 */
export function closedInTime(clock: Clock, closing: Promise<unknown>): Promise<boolean> {
  return fulfilledWithin(clock, closing, CLOSE_BOUND_MS);
}

/**
 * Loads a broker's client package (an optional dependency) when a queue is built; a missing
 * one throws `MissingPackageError` naming the URL and the install command.
 *
 * @example
 * ```ts
 * const { Redis } = loadBrokerClient<{ Redis: typeof Redis }>('ioredis', settings.url);
 * ```
 */
export function loadBrokerClient<T>(name: string, url: string): T {
  return requireOptional<T>(name, `messageQueue '${redact(url)}'`);
}

/** Hides a URL's password for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'an invalid URL';
  }
}
