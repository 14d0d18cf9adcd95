/**
 * What a connection needs of a transport. Long-polling and WebSocket each
 * implement it in their own file.
 */
import type { Packet } from './packets.js';
import type { TransportName } from './options.js';

/** Called by a transport with what arrived or went wrong. */
export interface TransportSink {
  /** A decoded packet, in arrival order. */
  onPacket(packet: Packet): void;
  /** The transport can no longer be used; the connection closes with this reason. */
  onTransportClose(
    reason:
      | 'transport close'
      | 'transport error'
      | 'parse error'
      | 'payload too large'
      | 'overlapping request',
    detail?: string,
  ): void;
  /** The transport can take a write now (a GET arrived). */
  onWritable(): void;
}

/** One way of carrying packets between a client and a connection. */
export interface Transport {
  readonly name: TransportName;
  /** True when a write goes out now rather than waiting. */
  readonly writable: boolean;
  /** Sends packets, in order. Only called when {@link writable}. */
  write(packets: readonly Packet[]): void;
  /** Sends one packet (the hot path of a connected WebSocket). Only called when {@link writable}. */
  writeOne(packet: Packet): void;
  /**
   * Bytes written for the client that the OS has not taken yet: corked in this tick, queued
   * in the WebSocket library or in a socket's writable buffer.
   */
  bufferedBytes(): number;
  /**
   * Hands what this tick has held back (corked) to the OS now rather than at the end of the
   * tick, so that a client that reads takes a burst larger than the mark; returns
   * {@link bufferedBytes} after.
   */
  flushNow(): number;
  /**
   * Drops what the transport still holds for a client that stopped reading (its socket is
   * destroyed): nothing more is written to it. Called before {@link close}.
   */
  drop(): void;
  /** Releases a waiting request with a noop (polling during an upgrade); a no-op elsewhere. */
  releaseWithNoop(): void;
  /**
   * Ends the transport. `final` packets are delivered first; a transport that
   * must wait for the client to collect them (polling with no GET pending)
   * reports {@link lingering} until it calls `onDrained`. With `closeApart`, a close packet
   * after messages goes in a delivery of its own (polling: the next answer).
   */
  close(final?: readonly Packet[], onDrained?: () => void, closeApart?: boolean): void;
  /** True while closed but still holding final packets for the client. */
  readonly lingering: boolean;
  /** Drops any final packets still held. */
  discard(): void;
  /** Where packets and errors go; set by the connection. */
  sink: TransportSink | null;
}
