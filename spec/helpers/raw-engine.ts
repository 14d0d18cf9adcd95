/**
 * Hand-driven Engine.IO peers for the integration specs: raw HTTP requests
 * (node:http, so headers such as Origin and Accept-Encoding go out exactly as
 * written and bodies arrive undecoded), a raw long-polling session and a raw
 * WebSocket. They speak the wire format directly so a spec can place each
 * request precisely, or misbehave on purpose.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import WebSocket from 'ws';

/** Items in arrival order, read one at a time with a timeout. */
export class Inbox<T> {
  /** Everything received so far, read or not. */
  readonly items: T[] = [];
  #read = 0;
  #waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    this.items.push(item);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#read++;
      waiter(item);
    }
  }

  /** Items received but not yet taken by {@link next}. */
  get unread(): readonly T[] {
    return this.items.slice(this.#read);
  }

  /** The next unread item; rejects after `ms` milliseconds. */
  next(label = 'an item', ms = 2000): Promise<T> {
    if (this.#read < this.items.length) return Promise.resolve(this.items[this.#read++] as T);
    return new Promise<T>((resolve, reject) => {
      const waiter = (item: T): void => {
        clearTimeout(timer);
        resolve(item);
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${ms} ms waiting for ${label}`));
      }, ms);
      this.#waiters.push(waiter);
    });
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` until it holds (true) or `ms` milliseconds pass (false). */
export async function waitFor(predicate: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await delay(5);
  }
  return true;
}

/** An HTTP answer with its body as bytes and as text. */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

/** What a raw request may carry. */
export interface RawRequestInit {
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string | Buffer;
  /** The address to connect from (any of 127.0.0.0/8 works on Linux). */
  readonly localAddress?: string;
}

/** One HTTP request on a fresh connection (no keep-alive, no automatic decompression). */
export function rawRequest(url: string, init: RawRequestInit = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        agent: false,
        localAddress: init.localAddress,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The parsed JSON body of an answer. */
export function jsonBody(res: RawResponse): unknown {
  return JSON.parse(res.text) as unknown;
}

/** The fields of an Engine.IO open packet. */
export interface OpenPacket {
  readonly sid: string;
  readonly upgrades: string[];
  readonly pingInterval: number;
  readonly pingTimeout: number;
  readonly maxPayload: number;
}

/** Parses `0{...}`; throws when the packet is not an open packet. */
export function parseOpenPacket(packet: string): OpenPacket {
  if (!packet.startsWith('0')) throw new Error(`expected an open packet, got ${packet}`);
  return JSON.parse(packet.slice(1)) as OpenPacket;
}

/** Splits a polling response into its packets. */
export function splitPayload(text: string): string[] {
  return text.split('\x1e');
}

/** A long-polling session driven by hand. */
export class RawPolling {
  private constructor(
    /** `http://host:port/<path>/` */
    readonly base: string,
    readonly handshake: OpenPacket,
    readonly handshakeResponse: RawResponse,
  ) {}

  /** Opens a session with a polling GET; rejects unless the answer is an open packet. */
  static async open(base: string, headers: OutgoingHttpHeaders = {}): Promise<RawPolling> {
    const res = await rawRequest(`${base}?EIO=4&transport=polling`, { headers });
    if (res.status !== 200) throw new Error(`handshake answered ${res.status}: ${res.text}`);
    return new RawPolling(base, parseOpenPacket(res.text), res);
  }

  get sid(): string {
    return this.handshake.sid;
  }

  /** The session's polling URL. */
  get url(): string {
    return `${this.base}?EIO=4&transport=polling&sid=${encodeURIComponent(this.sid)}`;
  }

  /** A GET on the session. */
  get(headers: OutgoingHttpHeaders = {}): Promise<RawResponse> {
    return rawRequest(this.url, { headers });
  }

  /** A GET that must answer 200; resolves to its packets. */
  async packets(): Promise<string[]> {
    const res = await this.get();
    if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.text}`);
    return splitPayload(res.text);
  }

  /** A POST of `body` on the session. */
  post(body: string | Buffer): Promise<RawResponse> {
    return rawRequest(this.url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body,
    });
  }
}

/** A WebSocket driven by hand; text frames arrive as strings, binary frames as Buffers. */
export class RawWs {
  readonly socket: WebSocket;
  readonly messages = new Inbox<string | Buffer>();
  /** Resolves with the close code and reason once the WebSocket is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves when the WebSocket is open; rejects if it fails first. */
  readonly opened: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, { headers, perMessageDeflate: false });
    this.socket.on('message', (data: Buffer, isBinary: boolean) =>
      this.messages.push(isBinary ? data : data.toString('utf8')),
    );
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      this.socket.once('close', (code: number, reason: Buffer) =>
        resolve({ code, reason: reason.toString('utf8') }),
      ),
    );
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** Closes the WebSocket (if it is not closed already) and waits for it. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    else this.socket.close();
    await this.closed;
  }
}

/** How a server refused a WebSocket upgrade request. */
export interface UpgradeRefusal {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Sends a WebSocket upgrade request the server should refuse; resolves with its
 * HTTP answer, rejects if a WebSocket opens instead.
 */
export function refusedUpgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<UpgradeRefusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    let settled = false;
    ws.on('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        settled = true;
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          // not JSON: the spec's assertion shows the raw text
        }
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    ws.on('open', () => {
      settled = true;
      ws.terminate();
      reject(new Error(`the WebSocket to ${url} opened; expected an HTTP error answer`));
    });
    ws.on('error', (error) => {
      if (!settled) reject(error);
    });
  });
}
