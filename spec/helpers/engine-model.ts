/**
 * A reference model of one Engine.IO v4 session (what the protocol says the
 * server does) and a rig that drives a real {@link EngineServer} through a raw
 * client, for the model-based property in spec/engine/connection.props.spec.ts.
 *
 * The model predicts the phase, the close reason, which server messages the
 * client must have received (delivery is in order; an error close drops what
 * was still queued), which client messages the server must have received, and
 * whether the session still exists. Time is a {@link VirtualClock}.
 */
import type { CloseReason, Phase } from '../../lib/index.js';

/** Timings of the server under test, in milliseconds (the protocol defaults). */
export const TIMINGS = { pingInterval: 25_000, pingTimeout: 20_000, upgradeTimeout: 10_000 };

/** The server's maxHttpBufferSize in the property. */
export const MAX_PAYLOAD = 4096;

/** A message payload: text or binary. */
export type Payload = string | Buffer;

/** One packet waiting in the server's outbox: a message (index into `sent`) or a ping. */
type Queued = { readonly kind: 'message'; readonly index: number } | { readonly kind: 'ping' };

/** What the protocol says about one session. */
export class EngineModel {
  transport: 'polling' | 'websocket';
  phase: Exclude<Phase, 'handshake'> = 'connected';
  reason: CloseReason | null = null;
  now = 0;
  pingAt: number | null = TIMINGS.pingInterval;
  pongBy: number | null = null;
  upgradeBy: number | null = null;
  lingerBy: number | null = null;
  /** The client's probe WebSocket: none, open (attached), or probed (`3probe` received). */
  probe: 'none' | 'open' | 'probed' = 'none';
  /** A GET the server holds. */
  getOutstanding = false;
  /** Server packets queued and not yet written. */
  outbox: Queued[] = [];
  /** Every message the server sent, in order. */
  readonly sent: Payload[] = [];
  /** How many of `sent` the client must have received (always a prefix). */
  delivered = 0;
  /** Every message the client sent that the server must deliver, in order. */
  readonly clientSent: Payload[] = [];
  /** Close packets the client must have received. */
  closePackets = 0;
  /** The session is released: unknown sid, clientsCount 0. */
  gone = false;
  /** The polling session was upgraded: polling requests are refused. */
  upgraded = false;

  constructor(transport: 'polling' | 'websocket') {
    this.transport = transport;
  }

  get live(): boolean {
    return this.phase !== 'closed';
  }

  /** Server-side send: queued, written when the transport can take it. */
  serverSend(payload: Payload): void {
    if (!this.live) return;
    this.sent.push(payload);
    this.#queue({ kind: 'message', index: this.sent.length - 1 });
  }

  #queue(item: Queued): void {
    this.outbox.push(item);
    // WebSocket writes at once; polling flushes in a microtask (see flush()).
    if (this.transport === 'websocket') this.#writeOutbox();
  }

  #writeOutbox(): void {
    for (const item of this.outbox)
      if (item.kind === 'message') this.delivered = Math.max(this.delivered, item.index + 1);
    this.outbox = [];
  }

  /** End of a command's synchronous part: a polling outbox goes to a held GET. */
  flush(): void {
    if (!this.live || this.transport !== 'polling' || this.phase === 'upgrading') return;
    if (this.getOutstanding && this.outbox.length > 0) {
      this.#writeOutbox();
      this.getOutstanding = false;
    }
  }

  /**
   * The client issued a GET (polling): what the server answers at once.
   * `held` when it waits; `answered` with data, a noop or the final packets;
   * `refused` (400) for an unknown or upgraded session.
   */
  get(): 'held' | 'answered' | 'refused' {
    if (this.gone || this.upgraded) return 'refused';
    if (!this.live) {
      // Lingering after a graceful close: the queue and a close packet, then the session goes.
      this.#writeOutbox();
      this.closePackets++;
      this.#release();
      return 'answered';
    }
    if (this.phase === 'upgrading') return 'answered';
    if (this.outbox.length > 0) {
      this.#writeOutbox();
      return 'answered';
    }
    this.getOutstanding = true;
    return 'held';
  }

  pong(): void {
    if (this.live && this.pongBy !== null) {
      this.pongBy = null;
      this.pingAt = this.now + TIMINGS.pingInterval;
    }
  }

  /** The probe answered `3probe`: upgrading; a held GET is released with a noop. */
  probed(): void {
    this.probe = 'probed';
    this.phase = 'upgrading';
    this.upgradeBy = this.now + TIMINGS.upgradeTimeout;
    this.getOutstanding = false;
  }

  /** The client sent `5` on the probe: the WebSocket takes over and the queue flushes. */
  upgrade(): void {
    this.phase = 'connected';
    this.transport = 'websocket';
    this.upgraded = true;
    this.upgradeBy = null;
    this.probe = 'none';
    this.getOutstanding = false;
    this.#writeOutbox();
  }

  /** The probe failed (timeout, closed, garbage): back to polling, probe closed. */
  abortUpgrade(): void {
    this.phase = 'connected';
    this.upgradeBy = null;
    this.probe = 'none';
  }

  /**
   * The session closes. `socketGone`: the client's WebSocket is already closed
   * (or closing), so no close packet can reach it.
   */
  close(reason: CloseReason, socketGone = false): void {
    if (!this.live) return;
    const graceful = reason === 'forced close' || reason === 'server shutdown';
    this.phase = 'closed';
    this.reason = reason;
    this.pingAt = this.pongBy = this.upgradeBy = null;
    this.probe = 'none';
    if (this.transport === 'websocket') {
      if (graceful) this.#writeOutbox();
      // A close packet goes out only while the WebSocket is still open.
      if (!socketGone) this.closePackets++;
      this.outbox = [];
      this.#release();
      return;
    }
    if (graceful && !this.getOutstanding) {
      this.lingerBy = this.now + TIMINGS.pingTimeout;
      return;
    }
    if (graceful) this.#writeOutbox();
    this.outbox = [];
    // A client that sent `close` gets a noop; after an error a held GET gets a close packet.
    if (this.getOutstanding && reason !== 'transport close') this.closePackets++;
    this.getOutstanding = false;
    this.#release();
  }

  #release(): void {
    this.gone = true;
    this.lingerBy = null;
    this.outbox = [];
  }

  /** Moves virtual time forward, firing the protocol's timers in order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const due = [this.pingAt, this.pongBy, this.upgradeBy, this.lingerBy].filter(
        (t): t is number => t !== null && t <= target,
      );
      if (due.length === 0) break;
      const t = Math.min(...due);
      this.now = t;
      if (this.pongBy === t) this.close('ping timeout');
      else if (this.upgradeBy === t) this.abortUpgrade();
      else if (this.pingAt === t) {
        this.pingAt = null;
        this.pongBy = t + TIMINGS.pingTimeout;
        this.#queue({ kind: 'ping' });
      } else if (this.lingerBy === t) this.#release();
    }
    this.now = target;
  }
}
