/**
 * The message-queue seam: one small interface, one file per broker (redis.ts,
 * amqp.ts), sharing what rides out an outage (core.ts: outbox.ts publishing,
 * sequence.ts receiving). A queue carries JSON payloads on a channel;
 * pubsub.ts gives them meaning.
 */
import { requireOptional } from '../../schedulers/optional-dependency.js';
import type { Clock } from '../../schedulers/scheduler.js';
import type { Logger } from '../log.js';
import type { ResolvedQueueOptions } from './options.js';

/**
 * Counters a queue keeps. Each message a process publishes and another one does not receive is
 * counted once: by the publisher (`lost`: it never reached the broker) or by the receiver
 * (`missed`: a gap in the publisher's sequence numbers).
 *
 * @group Queues
 */
export interface QueueStats {
  /** Messages the broker took. */
  published: number;
  /** Messages delivered to this process (each once). */
  received: number;
  /** Messages this process published that never reached the broker. */
  lost: number;
  /** Messages of other processes that this one never received. */
  missed: number;
  /** Broker connections re-established after an outage. */
  reconnects: number;
  /** Messages published and not yet taken by the broker (at most `maxBuffered`). */
  buffered: number;
}

/** A publish/subscribe channel on a broker. */
export interface MessageQueue {
  /** This process on the channel (python-socketio's host_id; the `sender` of its stamps). */
  readonly id: string;
  /**
   * Publishes a payload (a JSON object); resolves true once the broker took it (Redis answered
   * the PUBLISH, RabbitMQ confirmed it), false when it never will.
   */
  publish(payload: string): Promise<boolean>;
  /**
   * Publishes a payload on a room's route: only the processes that {@link listenTo} it receive
   * it. Same result as {@link publish}.
   */
  publishTo(route: string, payload: string): Promise<boolean>;
  /**
   * Starts delivering every payload published on the channel (by anyone, this process
   * included), and on the routes it listens to.
   */
  subscribe(onMessage: (payload: Buffer) => void): Promise<void>;
  /**
   * Starts (`on`) or stops receiving what is published on a room's route (a subscription of
   * its own on the broker, kept across reconnects). Before {@link subscribe}, it takes effect
   * when that is called. Resolves once the broker has the change, or the connection it was
   * asked on went (the next one applies it); never rejects.
   */
  listenTo(route: string, on: boolean): Promise<void>;
  /** Whether the broker connections are up. */
  readonly connected: boolean;
  /**
   * The other server processes on the channel (their ids), as their heartbeats show: those
   * that subscribe. External emitters and python-socketio processes are not among them.
   */
  peers(): string[];
  /** Calls `listener` with a process's id when it leaves (says goodbye, or stops beating). */
  onPeerGone(listener: (id: string) => void): void;
  readonly stats: QueueStats;
  close(): Promise<void>;
}

/** What a queue is built with. */
export interface QueueSettings {
  readonly url: string;
  readonly channel: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly options: ResolvedQueueOptions;
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
