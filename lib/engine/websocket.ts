/**
 * The WebSocket transport (engine.io-protocol v4, "WebSocket"): one packet per
 * frame; a binary frame is a raw message payload.
 */
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { ParseError } from '../errors.js';
import { decodePacket, encodePacket } from './packets.js';
import type { Packet } from './packets.js';
import type { Transport, TransportSink } from './transport.js';

/** ws error codes that mean "the frame was larger than maxPayload". */
const TOO_LARGE = new Set(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);

/**
 * One WebSocket, as an Engine.IO transport.
 *
 * @example
 * ```ts
 * wss.handleUpgrade(req, socket, head, (ws) => new WebSocketTransport(ws));
 * ```
 */
export class WebSocketTransport implements Transport {
  readonly name = 'websocket' as const;
  readonly lingering = false;
  sink: TransportSink | null = null;
  #corked = false;
  #tickBytes = 0;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) =>
      this.#receive(data, isBinary),
    );
    ws.on('error', (error: Error & { code?: string }) => {
      this.sink?.onTransportClose(
        TOO_LARGE.has(error.code ?? '') ? 'payload too large' : 'transport error',
      );
    });
    ws.on('close', () => this.sink?.onTransportClose('transport close'));
  }

  get writable(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  #receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    let packet: Packet;
    try {
      packet = decodePacket(isBinary ? bytes : bytes.toString('utf8'));
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      this.sink?.onTransportClose('parse error');
      this.ws.close(1003, 'parse error');
      return;
    }
    this.sink?.onPacket(packet);
  }

  write(packets: readonly Packet[]): void {
    this.#cork();
    for (const packet of packets) {
      const frame = encodePacket(packet);
      this.#tickBytes += frame.length;
      this.ws.send(frame);
    }
  }

  writeOne(packet: Packet): void {
    this.#cork();
    const frame = encodePacket(packet);
    this.#tickBytes += frame.length;
    this.ws.send(frame);
  }

  /**
   * Corks the TCP socket until the end of the tick, so every frame written to this
   * client in one tick (acks to a batch of events, a broadcast's packets) leaves in one
   * writev. `ws` has no public cork; `_socket` is its net.Socket.
   */
  #cork(): void {
    if (this.#corked) return;
    const socket = (this.ws as unknown as { _socket?: Duplex })._socket;
    if (socket === undefined || socket.destroyed) return;
    this.#corked = true;
    socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      this.#tickBytes = 0;
      socket.uncork();
    });
  }

  /** Bytes the client has not taken yet: not counting what this tick wrote into the cork. */
  bufferedBytes(): number {
    return Math.max(0, this.ws.bufferedAmount - this.#tickBytes);
  }

  releaseWithNoop(): void {}

  close(final: readonly Packet[] = []): void {
    this.sink = null;
    if (this.ws.readyState === WebSocket.OPEN) {
      this.write(final);
      this.ws.close();
    } else if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    }
  }

  discard(): void {}
}
