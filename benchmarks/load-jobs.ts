/**
 * What the peer benchmark's orchestrator asks a load-generator process to do,
 * and what it answers (IPC messages, JSON-serialisable).
 *
 * ```
 *  orchestrator                       load generator (1..n processes)
 *  connect {kind, port, count} ───▶   opens its share of clients
 *                              ◀───   connected {latencies, elapsedMs}
 *  ack {event, inFlight, s}    ───▶   a timed window of acked messages
 *                              ◀───   acked {count, elapsedMs, latencies}
 *  expect {firstId, count}     ───▶   a fresh tally of those broadcast ids
 *  emit / await-deliveries     ───▶   fan-out: send, then count deliveries
 *                              ◀───   deliveries {per client and id}
 *  ping-gaps {seconds}         ───▶   how far apart each client's pings come
 *  close                       ───▶   terminates its clients
 * ```
 */
import type { TallyFigures } from './delivery-tally.js';

/** How a load client talks to a server. */
export type ClientKind =
  /** Engine.IO v4 / Socket.IO v5 over WebSocket. */
  | 'sio-ws'
  /** Engine.IO v4 / Socket.IO v5 over long-polling (node:http, keep-alive). */
  | 'sio-polling'
  /** Raw WebSocket frames (the `ws` echo server): no handshake, replies in kind. */
  | 'raw-ws';

/** A request from the orchestrator. */
export type LoadJob =
  | {
      readonly type: 'connect';
      readonly kind: ClientKind;
      readonly port: number;
      /** Path for raw-ws (the operation the raw server applies to every frame). */
      readonly path: string;
      readonly count: number;
      readonly batch: number;
      /** Record each connection's time to connected (handshake + namespace). */
      readonly timeEach: boolean;
      /**
       * Spread the clients' source addresses over 127.0.0.0/8 (see
       * `sourceAddress`): this generator's first client is client `sourceIndex`
       * of all generators. Null: the system picks (127.0.0.1).
       */
      readonly sourceIndex: number | null;
      /** Stop starting batches at this absolute time (ms, see `absoluteNow`), or after this many failures. */
      readonly limits: { readonly stopAt: number; readonly maxFailures: number } | null;
    }
  | {
      readonly type: 'ack';
      readonly event: string;
      readonly data: unknown;
      readonly inFlight: number;
      readonly seconds: number;
      readonly collectLatency: boolean;
    }
  | {
      /** The first client sends `count` events `{ i: firstId + k, text }`. */
      readonly type: 'emit';
      readonly event: string;
      readonly text: string;
      readonly firstId: number;
      readonly count: number;
      /** How many clients send (the first ones), taking the ids in turn. */
      readonly senders: number;
    }
  | {
      /** Count, per client, the arrivals of ids `firstId` … `firstId + count - 1` from now on. */
      readonly type: 'expect';
      readonly firstId: number;
      readonly count: number;
    }
  | {
      /** Wait until every client has every expected id, or none arrives for `idleMs`. */
      readonly type: 'await-deliveries';
      readonly idleMs: number;
      /** How long the first delivery may take (then `idleMs` between deliveries). */
      readonly firstMs: number;
    }
  | {
      /** For `seconds`, the gap (ms) between each ping and the same client's previous one. */
      readonly type: 'ping-gaps';
      readonly seconds: number;
    }
  | { readonly type: 'close' };

/** CPU time a load generator used during a phase. */
export interface CpuSpent {
  /** user + system CPU, ms. */
  readonly cpuMs: number;
  readonly wallMs: number;
}

/** An answer to the orchestrator (one per job, in order). */
export type LoadReply =
  | ({
      readonly type: 'connected';
      readonly count: number;
      readonly failed: number;
      readonly latencies: number[];
      readonly firstError: string | null;
    } & CpuSpent)
  | ({
      readonly type: 'acked';
      readonly count: number;
      readonly latencies: number[];
      readonly lost: number;
    } & CpuSpent)
  | { readonly type: 'emitted'; readonly startedAt: number }
  | { readonly type: 'expecting' }
  | ({
      readonly type: 'deliveries';
      /** Expected (client, id) pairs. */
      readonly expected: number;
      /** Absolute time (ms, timeOrigin-based) of the last first arrival of an expected id. */
      readonly lastAt: number;
    } & TallyFigures &
      CpuSpent)
  | { readonly type: 'ping-gaps'; readonly gaps: number[] }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly error: string };

/** Milliseconds since the epoch with sub-ms precision, comparable across processes. */
export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

/** How many clients share one source address when they are spread (each address has ~28k ports). */
export const CLIENTS_PER_SOURCE = 1000;

/**
 * The source address of client `index` when clients are spread over
 * 127.0.0.0/8: 127.0.0.2 for the first {@link CLIENTS_PER_SOURCE}, then
 * 127.0.0.3, … (127.0.0.1 stays the servers').
 *
 * @example
 * ```ts
 * sourceAddress(0); // '127.0.0.2'
 * sourceAddress(1000); // '127.0.0.3'
 * ```
 */
export function sourceAddress(index: number): string {
  const host = 2 + Math.floor(index / CLIENTS_PER_SOURCE);
  return `127.${(host >> 16) & 255}.${(host >> 8) & 255}.${host & 255}`;
}
