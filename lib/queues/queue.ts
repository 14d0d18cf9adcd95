/**
 * The message-queue seam: one small interface, one file per broker (redis.ts,
 * amqp.ts). A queue carries opaque payloads on a channel; pubsub.ts gives them
 * meaning.
 */
import { requireOptional } from '../../schedulers/optional-dependency.js';
import type { Clock } from '../../schedulers/scheduler.js';
import type { Logger } from '../socketio/options.js';

/** Counters a queue keeps; `lost` counts what could not be published while the broker was away. */
export interface QueueStats {
  published: number;
  received: number;
  lost: number;
  reconnects: number;
}

/** A publish/subscribe channel on a broker. */
export interface MessageQueue {
  /** Publishes a payload; resolves false (and counts it lost) when the broker is unreachable. */
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
 * Runs one publish attempt and counts it: `published` when it went out, `lost` when it
 * threw (or `send` returned false: no connection to send on). Resolves whether it went out.
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
