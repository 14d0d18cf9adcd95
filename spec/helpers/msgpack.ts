/**
 * The client side of `parser: 'msgpack'` for the specs: socket.io-msgpack-parser as a
 * socket.io-client user plugs it in, its own Encoder and Decoder for hand-made packets,
 * and a raw WebSocket peer that speaks msgpack packets (and sends bytes that are not).
 */
import * as msgpackParser from 'socket.io-msgpack-parser';
import { RawWs, delay, parseOpenPacket } from './raw-engine.js';
import { PROMPT_MS } from './socketio.js';
import type { ClientOptions } from './socketio.js';

/** The official client's options for the msgpack parser: `io(url, { parser })`. */
export const MSGPACK: ClientOptions = { parser: msgpackParser };

/** A packet as socket.io-msgpack-parser carries it. */
export interface MsgpackPacket {
  readonly type: number;
  readonly nsp: string;
  readonly data?: unknown;
  readonly id?: number;
}

/** The packet types (socket.io-protocol v5). */
export const TYPE = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4 } as const;

/** What the client-side encoder and decoder of socket.io-msgpack-parser do. */
interface ClientCodec {
  encode(packet: object): Buffer;
  decode(bytes: Buffer): MsgpackPacket;
}

const encoder = new msgpackParser.Encoder() as unknown as { encode(packet: object): Buffer[] };

/** socket.io-msgpack-parser's client-side codec (notepack.io), as a real client runs it. */
export const clientCodec: ClientCodec = {
  encode(packet) {
    const [bytes] = encoder.encode(packet);
    if (bytes === undefined) throw new Error('socket.io-msgpack-parser encoded nothing');
    return bytes;
  },
  decode(bytes) {
    let packet: MsgpackPacket | undefined;
    const decoder = new msgpackParser.Decoder() as unknown as {
      on(event: 'decoded', listener: (packet: MsgpackPacket) => void): void;
      add(bytes: Buffer): void;
    };
    decoder.on('decoded', (decoded) => (packet = decoded));
    decoder.add(bytes);
    if (packet === undefined) throw new Error('socket.io-msgpack-parser decoded nothing');
    return packet;
  },
};

/** A raw WebSocket that speaks msgpack packets as binary Engine.IO messages. */
export class RawMsgpack {
  private constructor(readonly ws: RawWs) {}

  /** Opens the WebSocket and reads the open packet. */
  static async open(url: string): Promise<RawMsgpack> {
    const ws = new RawWs(url);
    await ws.opened;
    const first = await ws.messages.next('the open packet');
    if (typeof first !== 'string') throw new Error('the first frame was binary');
    parseOpenPacket(first);
    return new RawMsgpack(ws);
  }

  /** Sends a packet encoded by socket.io-msgpack-parser, or raw bytes. */
  send(packet: object | Buffer): void {
    this.ws.send(Buffer.isBuffer(packet) ? packet : clientCodec.encode(packet));
  }

  /** The next packet (answers pings). */
  async next(label = 'a packet', ms = PROMPT_MS): Promise<MsgpackPacket> {
    for (;;) {
      const message = await this.ws.messages.next(label, ms);
      if (Buffer.isBuffer(message)) return clientCodec.decode(message);
      if (message === '2') {
        this.ws.send('3');
        continue;
      }
      throw new Error(`expected ${label}, got the text message ${JSON.stringify(message)}`);
    }
  }

  /** CONNECT to a namespace; resolves with the answer's sid (throws on anything else). */
  async connect(nsp = '/', auth?: object): Promise<string> {
    this.send(
      auth === undefined ? { type: TYPE.CONNECT, nsp } : { type: TYPE.CONNECT, nsp, data: auth },
    );
    const answer = await this.next(`the CONNECT answer for ${nsp}`);
    const sid = (answer.data as { sid?: unknown } | undefined)?.sid;
    if (answer.type !== TYPE.CONNECT || answer.nsp !== nsp || typeof sid !== 'string')
      throw new Error(`CONNECT answered ${JSON.stringify(answer)}`);
    return sid;
  }

  /** Whether the server has closed the WebSocket, waiting up to `ms` milliseconds. */
  closedWithin(ms = PROMPT_MS): Promise<boolean> {
    return Promise.race([this.ws.closed.then(() => true), delay(ms).then(() => false)]);
  }

  close(): Promise<void> {
    return this.ws.close();
  }
}
