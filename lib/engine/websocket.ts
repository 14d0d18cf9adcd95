/**
 * The WebSocket transport (engine.io-protocol v4, "WebSocket"): one packet per
 * frame; a binary frame is a raw message payload.
 */
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { ParseError } from '../errors.js';
import { decodePacket, PACKET_TYPES } from './packets.js';
import type { Packet, PacketType } from './packets.js';
import type { Transport, TransportSink } from './transport.js';

/** First header byte of a final (FIN) text frame and of a final binary frame (RFC 6455 5.2). */
const TEXT = 0x81;
const BINARY = 0x82;

/** Bytes of an unmasked frame header for a payload of `length` bytes. */
function frameHeaderLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/** Where the payload of an unmasked frame starts (after its 2, 4 or 10 header bytes). */
function payloadStart(frame: Buffer): number {
  const length = (frame[1] ?? 0) & 0x7f;
  return length < 126 ? 2 : length === 126 ? 4 : 10;
}

/** Writes an unmasked frame header at the start of `frame`; returns where the payload goes. */
function writeFrameHeader(frame: Buffer, length: number, first: number): number {
  frame[0] = first;
  if (length < 126) {
    frame[1] = length;
    return 2;
  }
  if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
    return 4;
  }
  frame[1] = 127;
  frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  frame.writeUInt32BE(length >>> 0, 6);
  return 10;
}

/** The last text frame built, and what it holds: a broadcast writes one frame to every client. */
let lastType: PacketType | undefined;
let lastData: string | undefined;
let lastFrame: Buffer = Buffer.alloc(0);

/** Frames larger than this are forgotten at the end of the tick instead of kept until the next. */
const KEEP_FRAME_BYTES = 64 * 1024;

function forgetFrame(): void {
  lastType = undefined;
  lastData = undefined;
  lastFrame = Buffer.alloc(0);
}

/**
 * An unmasked final text frame holding the packet `<type><data>`. A frame is never
 * modified once written, so every client of a broadcast (the same `data` string) gets
 * the one built for the first of them (a broadcast writes to all its clients in one tick,
 * so a large frame is not kept past it).
 */
function textFrame(type: PacketType, data: string): Buffer {
  if (data === lastData && type === lastType) return lastFrame;
  const length = 1 + Buffer.byteLength(data);
  const frame = Buffer.allocUnsafe(frameHeaderLength(length) + length);
  const start = writeFrameHeader(frame, length, TEXT);
  frame[start] = PACKET_TYPES[type].charCodeAt(0);
  frame.write(data, start + 1, 'utf8');
  if (frame.length > KEEP_FRAME_BYTES && lastFrame.length <= KEEP_FRAME_BYTES)
    process.nextTick(forgetFrame);
  lastType = type;
  lastData = data;
  lastFrame = frame;
  return frame;
}

/** ws error codes that mean "the frame was larger than maxPayload". */
const TOO_LARGE = new Set(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);

/**
 * The WebSocket class the engine's `WebSocketServer` makes (ws's `WebSocket` option): it
 * points at its transport, so one set of listener functions serves every socket instead of
 * three closures per connection (about 200 bytes each connection).
 */
export class EngineWebSocket extends WebSocket {
  transport?: WebSocketTransport;
}

function onWsMessage(
  this: EngineWebSocket,
  data: Buffer | ArrayBuffer | Buffer[],
  isBinary: boolean,
): void {
  this.transport?.receive(data, isBinary);
}

function onWsError(this: EngineWebSocket, error: Error & { code?: string }): void {
  this.transport?.sink?.onTransportClose(
    TOO_LARGE.has(error.code ?? '') ? 'payload too large' : 'transport error',
  );
}

function onWsClose(this: EngineWebSocket): void {
  this.transport?.sink?.onTransportClose('transport close');
}

/** The default `flushWrites`: corked frames go to the OS at the end of the tick. */
export function flushAtEndOfTick(flush: () => void): void {
  process.nextTick(flush);
}

/**
 * One WebSocket, as an Engine.IO transport.
 *
 * @example
 * ```ts
 * const wss = new WebSocketServer({ noServer: true, WebSocket: EngineWebSocket });
 * wss.handleUpgrade(req, socket, head, (ws) => new WebSocketTransport(ws));
 * ```
 */
export class WebSocketTransport implements Transport {
  readonly name = 'websocket' as const;
  readonly lingering = false;
  sink: TransportSink | null = null;
  #corked = false;
  /** The smallest payload compressed, when the client took permessage-deflate; else undefined. */
  readonly #deflateThreshold: number | undefined;
  /** Compressed messages ws has not yet handed to the socket (see {@link #throughWs}). */
  #deflating = 0;
  /** Made only for a client that took permessage-deflate. */
  readonly #onDeflated: (() => void) | undefined;

  /**
   * `deflateThreshold`: the server's `perMessageDeflate` threshold, when it offers the
   * extension; whether this client took it is read from the handshake ws completed.
   */
  constructor(
    private readonly ws: EngineWebSocket,
    deflateThreshold?: number,
    /** When this tick's corked frames go to the OS (the engine's `flushWrites`). */
    private readonly flushWrites: (flush: () => void) => void = flushAtEndOfTick,
  ) {
    if (deflateThreshold !== undefined && ws.extensions.includes('permessage-deflate')) {
      this.#deflateThreshold = deflateThreshold;
      this.#onDeflated = () => void this.#deflating--;
    }
    ws.transport = this;
    ws.on('message', onWsMessage);
    ws.on('error', onWsError);
    ws.on('close', onWsClose);
  }

  get writable(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** @internal A message from the WebSocket. */
  receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
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
    const socket = this.#cork();
    for (const packet of packets) this.#send(socket, packet);
  }

  writeOne(packet: Packet): void {
    this.#send(this.#cork(), packet);
  }

  /**
   * Frames a packet and writes it to the corked socket: a text packet as one buffer
   * (header and payload together; `ws.send` writes them as two chunks, about 10% more
   * CPU per small message), a binary one as header and payload. A message to compress
   * goes through `ws` instead (see {@link #throughWs}); so does everything without a live
   * socket, and `ws.send` reports the error its own way.
   */
  #send(socket: Duplex | undefined, packet: Packet): void {
    const { data } = packet;
    if (Buffer.isBuffer(data)) {
      if (socket === undefined || this.#deflateThreshold !== undefined)
        if (this.#throughWs(socket, data, true, packet.compress)) return;
      // Here #throughWs said the socket may take the frame (it takes all without one).
      const header = Buffer.allocUnsafe(frameHeaderLength(data.length));
      writeFrameHeader(header, data.length, BINARY);
      socket?.write(header);
      socket?.write(data);
      return;
    }
    const frame = textFrame(packet.type, data ?? '');
    if (socket === undefined || this.#deflateThreshold !== undefined) {
      // The shared frame's payload: a broadcast still encodes once for all its clients.
      const payload = frame.subarray(payloadStart(frame));
      if (this.#throughWs(socket, payload, false, packet.compress)) return;
    }
    socket?.write(frame);
  }

  /**
   * Sends a message through `ws` when it must: to compress it (permessage-deflate taken, not
   * `compress: false`, at least the threshold), while ws still compresses an earlier one
   * (ws holds later messages behind it, so writing past it would reorder them; its callback
   * runs once it reached the socket, after what ws held), or without a socket. Returns false
   * when the caller may write the frame itself.
   *
   *   send A (2 KB)   -> ws deflates A ........ A written, then B -> callback: #deflating 0
   *   send B (20 B)   -> through ws (held behind A)
   *   send C (20 B)   -> (after the callback) written here, as a shared frame
   */
  #throughWs(
    socket: Duplex | undefined,
    payload: Buffer,
    binary: boolean,
    compressible: boolean | undefined,
  ): boolean {
    const threshold = this.#deflateThreshold;
    const compress =
      threshold !== undefined && compressible !== false && payload.length >= threshold;
    if (!compress && this.#deflating === 0 && socket !== undefined) return false;
    if (compress) this.#deflating++;
    this.ws.send(payload, { binary, compress, fin: true }, compress ? this.#onDeflated : undefined);
    return true;
  }

  /** `ws` has no public cork; `_socket` is its net.Socket. */
  #socket(): Duplex | undefined {
    return (this.ws as unknown as { _socket?: Duplex })._socket;
  }

  /**
   * Corks the TCP socket until the end of the tick, so every frame written to this
   * client in one tick (acks to a batch of events, a broadcast's packets) leaves in one
   * writev (two or more only when the tick passes the mark: see {@link flushNow}). The
   * engine's `flushWrites` may hold the frames longer (the cooperative scheduler does while
   * its run queue is busy). Returns the socket, or undefined when there is none to write to.
   */
  #cork(): Duplex | undefined {
    const socket = this.#socket();
    if (socket === undefined || socket.destroyed || !socket.writable) return undefined;
    if (this.#corked) return socket;
    this.#corked = true;
    socket.cork();
    this.flushWrites(() => {
      this.#corked = false;
      socket.uncork();
    });
    return socket;
  }

  /**
   * Bytes the client has not taken yet: the frames corked in this tick, what `ws` queued and
   * what the socket could not hand to the OS (the corked frames are in the socket's
   * writable buffer already). A broadcast frame counts for every client it was written to.
   */
  bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** Writes this tick's corked frames now; the socket stays corked for the rest of the tick. */
  flushNow(): number {
    const socket = this.#socket();
    if (this.#corked && socket !== undefined) {
      socket.uncork();
      socket.cork();
    }
    return this.ws.bufferedAmount;
  }

  /** Destroys the socket: what was corked or buffered for the client goes with it. */
  drop(): void {
    this.sink = null;
    this.ws.terminate();
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
