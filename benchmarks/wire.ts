/**
 * A bare Socket.IO v5 client over `ws` for the load generator: no client
 * library in the hot path, just the wire format.
 */
import WebSocket from 'ws';

/** Resolves when `ws` opens, rejects on error. */
function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

/**
 * Connects `ws` to namespace '/' once its Engine.IO session opens (answers the open packet
 * with CONNECT): `connected` runs on the server's CONNECT, `refused` on CONNECT_ERROR.
 *
 * @example
 * ```ts
 * connectNamespace(ws, () => console.log('in'), (error) => console.error(error));
 * ```
 */
export function connectNamespace(
  ws: WebSocket,
  connected: () => void,
  refused: (error: Error) => void,
): void {
  const onMessage = (data: Buffer): void => {
    const text = data.toString();
    if (text.startsWith('0')) ws.send('40');
    else if (text.startsWith('40')) {
      ws.off('message', onMessage);
      connected();
    } else if (text.startsWith('44')) refused(new Error(`connect refused: ${text}`));
  };
  ws.on('message', onMessage);
}

/**
 * One connected client: answers pings, sends acked events, counts events.
 *
 * @example
 * ```ts
 * const c = await BenchClient.connect(port);
 * const rtt = await c.ack('echo', { n: 1 });
 * ```
 */
export class BenchClient {
  #nextId = 0;
  readonly #acks = new Map<number, (t: number) => void>();
  /** Events received (not acks), by name. */
  readonly events = new Map<string, number>();
  /** Arrival times (performance.now) of server pings. */
  readonly pings: number[] = [];
  recordPings = false;
  /** Called on every event with its name and the whole packet's text. */
  onEvent: ((name: string, text: string) => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.#onText(data.toString());
    });
  }

  /** Opens a WebSocket session and connects to namespace '/'. */
  static async connect(port: number, path = '/socket.io/'): Promise<BenchClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}?EIO=4&transport=websocket`);
    const client = new BenchClient(ws);
    const connected = new Promise<void>((resolve, reject) => {
      connectNamespace(ws, resolve, reject);
      ws.once('close', () => reject(new Error('closed before connecting')));
    });
    await opened(ws);
    await connected;
    return client;
  }

  #onText(text: string): void {
    const type = text.charCodeAt(0);
    if (type === 50 /* '2' ping */) {
      if (this.recordPings) this.pings.push(performance.now());
      this.ws.send('3');
      return;
    }
    if (type !== 52 /* '4' message */) return;
    const sioType = text.charCodeAt(1);
    if (sioType === 51 /* '3' ack */) {
      let i = 2;
      let id = 0;
      for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i))
        id = id * 10 + (c - 48);
      const done = this.#acks.get(id);
      this.#acks.delete(id);
      done?.(performance.now());
    } else if (sioType === 50 /* '2' event */) {
      const end = text.indexOf('"', 4);
      const name = text.slice(4, end);
      this.events.set(name, (this.events.get(name) ?? 0) + 1);
      this.onEvent?.(name, text);
    }
  }

  /** Sends an acked event; resolves with the round-trip time in ms. */
  ack(event: string, data: unknown): Promise<number> {
    const id = this.#nextId++;
    const start = performance.now();
    return new Promise((resolve) => {
      this.#acks.set(id, (t) => resolve(t - start));
      this.ws.send(`42${id}${JSON.stringify([event, data])}`);
    });
  }

  /** Sends an event without an ack. */
  emit(event: string, data: unknown): void {
    this.ws.send(`42${JSON.stringify([event, data])}`);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Connects `n` clients in batches of `batch`. */
export async function connectMany(
  port: number,
  n: number,
  batch = 50,
  path?: string,
): Promise<BenchClient[]> {
  const clients: BenchClient[] = [];
  for (let i = 0; i < n; i += batch) {
    const size = Math.min(batch, n - i);
    clients.push(
      ...(await Promise.all(Array.from({ length: size }, () => BenchClient.connect(port, path)))),
    );
  }
  return clients;
}
