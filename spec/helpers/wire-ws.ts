/**
 * A WebSocket client on a bare TCP socket, for specs that must see frames as they travel:
 * it offers permessage-deflate (RFC 7692) or not, and reports each frame with its RSV1 bit
 * (set: compressed), its opcode and its size on the wire, and the message it carries
 * (inflated with zlib, context kept between messages as the extension asks). `ws` hides
 * all of that, so this reads the bytes itself.
 */
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { constants, createInflateRaw } from 'node:zlib';
import type { InflateRaw } from 'node:zlib';
import { Inbox } from './raw-engine.js';

/** One frame from the server. */
export interface WireFrame {
  /** RSV1: the payload is compressed (permessage-deflate). */
  readonly compressed: boolean;
  /** 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  readonly opcode: number;
  /** Header and payload bytes, as they came over TCP. */
  readonly wireBytes: number;
  /** The message: text as a string, binary as a Buffer (inflated when compressed). */
  readonly message: string | Buffer;
}

/** What the client offers in `Sec-WebSocket-Extensions` (null: nothing). */
export type DeflateOffer = string | null;

/** The offer browsers and `ws` send: permessage-deflate with context takeover both ways. */
export const DEFLATE_OFFER = 'permessage-deflate; client_max_window_bits';

/** The tail a deflate flush ends with, which RFC 7692 strips from each message. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * JSON of about `bytes` bytes, shaped like an app's (a list of users), so it compresses as
 * real payloads do.
 */
export function sampleJson(bytes: number): string {
  const users: unknown[] = [];
  let length = 2;
  for (let i = 0; length < bytes; i++) {
    const user = { id: i, name: `user-${i}`, online: i % 3 === 0, score: (i * 7919) % 1000 };
    length += JSON.stringify(user).length + 1;
    users.push(user);
  }
  return JSON.stringify(users);
}

/** Inflates one message after another on one zlib stream (the server keeps its context). */
class Inflater {
  readonly #stream: InflateRaw = createInflateRaw();
  #out: Buffer[] = [];

  constructor() {
    this.#stream.on('data', (chunk: Buffer) => this.#out.push(chunk));
  }

  inflate(payload: Buffer): Promise<Buffer> {
    this.#stream.write(Buffer.concat([payload, TAIL]));
    return new Promise((resolve, reject) => {
      this.#stream.once('error', reject);
      this.#stream.flush(constants.Z_SYNC_FLUSH, () => {
        this.#stream.off('error', reject);
        const out = Buffer.concat(this.#out);
        this.#out = [];
        resolve(out);
      });
    });
  }

  close(): void {
    this.#stream.close();
  }
}

/**
 * A client WebSocket read frame by frame.
 *
 * @example
 * ```ts
 * const ws = await WireWs.open(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
 * const frame = await ws.frames.next(); // { compressed: false, message: '0{"sid":…', … }
 * ```
 */
export class WireWs {
  /** Frames in arrival order (data frames only: close, ping and pong are not listed). */
  readonly frames = new Inbox<WireFrame>();
  /** Bytes read from TCP after the handshake answer. */
  bytesAfterHandshake = 0;
  /** Reads from TCP (`data` events) after the handshake answer. */
  reads = 0;
  #pending = Buffer.alloc(0);
  readonly #inflater = new Inflater();
  /** Frames are decoded in order, inflation being asynchronous. */
  #decoding: Promise<void> = Promise.resolve();

  private constructor(
    private readonly socket: Socket,
    /** The server's `Sec-WebSocket-Extensions` answer, if any. */
    readonly extensions: string | undefined,
    rest: Buffer,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.reads++;
      this.#take(chunk);
    });
    this.#take(rest);
  }

  /** Opens a WebSocket to `url`, offering `offer` (permessage-deflate by default). */
  static open(url: string, offer: DeflateOffer = DEFLATE_OFFER): Promise<WireWs> {
    const { hostname, port, pathname, search } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      socket.once('error', reject);
      socket.once('connect', () => {
        const lines = [
          `GET ${pathname}${search} HTTP/1.1`,
          `Host: ${hostname}:${port}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
          'Sec-WebSocket-Version: 13',
          ...(offer === null ? [] : [`Sec-WebSocket-Extensions: ${offer}`]),
        ];
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const answer = head.subarray(0, end).toString('latin1');
        if (!answer.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          return reject(new Error(`no upgrade: ${answer.split('\r\n')[0] ?? ''}`));
        }
        const extensions = /^sec-websocket-extensions: *(.*)$/im.exec(answer)?.[1];
        resolve(new WireWs(socket, extensions, head.subarray(end + 4)));
      };
      socket.on('data', onData);
    });
  }

  #take(chunk: Buffer): void {
    this.bytesAfterHandshake += chunk.length;
    this.#pending = Buffer.concat([this.#pending, chunk]);
    for (;;) {
      const frame = this.#cut();
      if (frame === undefined) return;
      this.#decoding = this.#decoding.then(() => this.#deliver(frame));
    }
  }

  /** Cuts one whole (unmasked, final) frame off the front of what was read. */
  #cut(): { first: number; payload: Buffer; wireBytes: number } | undefined {
    const bytes = this.#pending;
    if (bytes.length < 2) return undefined;
    const first = bytes[0] ?? 0;
    let length = (bytes[1] ?? 0) & 0x7f;
    let start = 2;
    if (length === 126) {
      if (bytes.length < 4) return undefined;
      length = bytes.readUInt16BE(2);
      start = 4;
    } else if (length === 127) {
      if (bytes.length < 10) return undefined;
      length = Number(bytes.readBigUInt64BE(2));
      start = 10;
    }
    if (bytes.length < start + length) return undefined;
    this.#pending = bytes.subarray(start + length);
    if ((first & 0x80) === 0) throw new Error('fragmented frames are not expected from the server');
    return { first, payload: bytes.subarray(start, start + length), wireBytes: start + length };
  }

  async #deliver(frame: { first: number; payload: Buffer; wireBytes: number }): Promise<void> {
    const opcode = frame.first & 0x0f;
    if (opcode !== 1 && opcode !== 2) return;
    const compressed = (frame.first & 0x40) !== 0;
    const payload = compressed ? await this.#inflater.inflate(frame.payload) : frame.payload;
    this.frames.push({
      compressed,
      opcode,
      wireBytes: frame.wireBytes,
      message: opcode === 1 ? payload.toString('utf8') : payload,
    });
  }

  /** The next data frame. */
  next(label = 'a frame', ms = 5000): Promise<WireFrame> {
    return this.frames.next(label, ms);
  }

  /** Sends a text message (masked, as a client must). */
  send(text: string): void {
    const payload = Buffer.from(text, 'utf8');
    const mask = randomBytes(4);
    const header =
      payload.length < 126
        ? Buffer.from([0x81, 0x80 | payload.length])
        : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    if (payload.length >= 65536) throw new Error('send(): keep client messages under 64 KiB');
    const masked = payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0));
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  /** Stops reading: what the server sends stays in its buffers and the kernel's. */
  pause(): void {
    this.socket.pause();
  }

  /** Drops the connection. */
  close(): void {
    this.#inflater.close();
    this.socket.destroy();
  }
}

/**
 * Bytes this process's TCP clients read from `port`, counting sockets opened while it
 * listens (Node's `net.client.socket` diagnostics channel): what an official client took
 * off the wire, without reaching into it.
 *
 * @example
 * ```ts
 * const bytes = new ClientBytes(port);
 * const peer = await h.connect(); // ... bytes.read
 * ```
 */
export class ClientBytes {
  readonly #sockets: Socket[] = [];
  readonly #onSocket = (message: unknown): void => {
    const { socket } = message as { socket: Socket };
    socket.once('connect', () => {
      if (socket.remotePort === this.port) this.#sockets.push(socket);
    });
  };

  constructor(private readonly port: number) {
    subscribe('net.client.socket', this.#onSocket);
  }

  /** Bytes read so far by the sockets to the port. */
  get read(): number {
    return this.#sockets.reduce((sum, socket) => sum + socket.bytesRead, 0);
  }

  /** Stops counting new sockets. */
  close(): void {
    unsubscribe('net.client.socket', this.#onSocket);
  }
}
