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
 *  emit / await-events         ───▶   fan-out: send, then count deliveries
 *  close                       ───▶   terminates its clients
 * ```
 */

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
      readonly type: 'emit';
      readonly event: string;
      readonly data: unknown;
      readonly times: number;
    }
  | {
      readonly type: 'await-events';
      readonly perClient: number;
      readonly idleMs: number;
      /** How long the job's first delivery may take (then `idleMs` between deliveries). */
      readonly firstMs: number;
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
  | ({
      readonly type: 'events';
      readonly received: number;
      readonly expected: number;
      /** Absolute time (ms, timeOrigin-based) of the last delivery. */
      readonly lastAt: number;
    } & CpuSpent)
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly error: string };

/** Milliseconds since the epoch with sub-ms precision, comparable across processes. */
export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}
