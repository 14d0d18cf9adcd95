/**
 * The load generator's clients over WebSocket: Socket.IO v5 frames written by
 * hand, or raw frames for the `ws` echo server. Callbacks, not a promise per
 * message, so the load generator stays cheap next to the server it drives.
 */
import WebSocket from 'ws';
import { connectNamespace } from './wire.js';

/**
 * One load-generating client, whatever the transport.
 *
 * @example
 * ```ts
 * client.onAck = (rttMs) => samples.push(rttMs);
 * client.ack('["echo",{"n":1}]');
 * ```
 */
export interface LoadClient {
  /** Called with the round-trip time (ms) of every answered `ack()`. */
  onAck: (rttMs: number) => void;
  /** Called for every event received (a broadcast), with the packet as it came. */
  onEvent: (packet: Buffer | string) => void;
  /** Called for every ping the server sends (before it is answered). */
  onPing: () => void;
  /** Acks sent and not yet answered. */
  readonly pending: number;
  /** Sends event `body` (a JSON array, e.g. `["echo",{…}]`) and expects an answer. */
  ack(body: string): void;
  /** Sends event `body` without an ack. */
  emit(body: string): void;
  close(): void;
}

const noop = (): void => undefined;

/** How long a connect (handshake + namespace) may take before it counts as failed. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Reads the decimal id starting at `from`; -1 when there is none. */
export function readId(text: string, from: number): number {
  let id = -1;
  for (let i = from, c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i))
    id = (id < 0 ? 0 : id * 10) + (c - 48);
  return id;
}

/** `readId` on the frame's bytes: no string is made for a frame we only classify. */
export function readIdBytes(bytes: Buffer, from: number): number {
  let id = -1;
  for (let i = from, c = bytes[i] ?? 0; c >= 48 && c <= 57; c = bytes[++i] ?? 0)
    id = (id < 0 ? 0 : id * 10) + (c - 48);
  return id;
}

/**
 * A client over WebSocket. In Socket.IO mode it opens namespace '/' and
 * answers pings; in raw mode the server echoes `42<id>[…]` back verbatim, so
 * the same bytes go out and the reply is matched by the same id.
 */
export class WsLoadClient implements LoadClient {
  onAck: (rttMs: number) => void = noop;
  onEvent: (packet: Buffer | string) => void = noop;
  onPing: () => void = noop;
  #nextId = 0;
  readonly #sent = new Map<number, number>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly raw: boolean,
  ) {}

  get pending(): number {
    return this.#sent.size;
  }

  /**
   * Opens a session; resolves once connected to namespace '/' (Socket.IO) or
   * once the WebSocket is open (raw). `localAddress` binds the client's end
   * (any of 127.0.0.0/8), so many clients do not run out of one address's ports.
   */
  static connect(
    port: number,
    raw: boolean,
    path: string,
    localAddress?: string,
  ): Promise<WsLoadClient> {
    const url = raw
      ? `ws://127.0.0.1:${port}${path}`
      : `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`;
    // The load generator trusts the server's UTF-8: validating it is the
    // server's job, and would only make the generator the bottleneck sooner.
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      localAddress,
    });
    const client = new WsLoadClient(ws, raw);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('connect timed out')), CONNECT_TIMEOUT_MS);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        ws.terminate();
        reject(error);
      };
      ws.once('error', fail);
      ws.once('close', () => fail(new Error('closed before connecting')));
      const ready = (): void => {
        clearTimeout(timer);
        ws.off('error', fail);
        ws.removeAllListeners('close');
        ws.on('error', noop);
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (!isBinary) client.#onFrame(data);
        });
        resolve(client);
      };
      if (raw) {
        ws.once('open', ready);
        return;
      }
      connectNamespace(ws, ready, fail);
    });
  }

  #onFrame(frame: Buffer): void {
    if (this.raw) {
      // The echo server answers with the frame itself: `42<id>[…]`; a
      // broadcast frame carries no id.
      const id = readIdBytes(frame, 2);
      if (id >= 0) this.#answered(id);
      else this.onEvent(frame);
      return;
    }
    const type = frame[0];
    if (type === 50 /* '2' ping */) {
      this.onPing();
      this.ws.send('3');
      return;
    }
    if (type !== 52 /* '4' message */) return;
    const sioType = frame[1];
    if (sioType === 51 /* '3' ack */) this.#answered(readIdBytes(frame, 2));
    else if (sioType === 50 /* '2' event */) this.onEvent(frame);
  }

  #answered(id: number): void {
    const start = this.#sent.get(id);
    if (start === undefined) return;
    this.#sent.delete(id);
    this.onAck(performance.now() - start);
  }

  ack(body: string): void {
    const id = this.#nextId++;
    this.#sent.set(id, performance.now());
    this.ws.send(`42${id}${body}`);
  }

  emit(body: string): void {
    this.ws.send(`42${body}`);
  }

  close(): void {
    this.ws.terminate();
  }
}
