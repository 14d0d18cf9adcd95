/**
 * The load generator's Engine.IO v4 long-polling client over node:http with a
 * keep-alive agent: one GET always pending, POSTs one at a time carrying
 * every packet queued meanwhile (as the reference client does).
 *
 * ```
 *  client                                   server
 *  GET  ?EIO=4&transport=polling     ───▶
 *                                    ◀───   0{"sid":…}
 *  POST &sid=…   40                  ───▶   (connect to namespace '/')
 *  GET  &sid=…                       ───▶
 *                                    ◀───   40{"sid":…}
 *  POST 42<id>["echo",…]             ───▶
 *                                    ◀───   (pending GET) 43<id>[…]
 * ```
 */
import { Agent, request } from 'node:http';
import type { LoadClient } from './load-client.js';
import { CONNECT_TIMEOUT_MS, readId } from './load-client.js';

/** Engine.IO's payload separator (record separator, U+001E). */
const SEPARATOR = '\x1e';

const noop = (): void => undefined;

/** One HTTP request on `agent`; resolves with the status and body text. */
function exchange(
  agent: Agent,
  port: number,
  path: string,
  body?: string,
  timeoutMs?: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        method: body === undefined ? 'GET' : 'POST',
        headers:
          body === undefined
            ? undefined
            : {
                'content-type': 'text/plain;charset=UTF-8',
                'content-length': Buffer.byteLength(body),
              },
      },
      (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (timeoutMs !== undefined)
      req.setTimeout(timeoutMs, () => req.destroy(new Error('request timed out')));
    req.end(body);
  });
}

/**
 * A long-polling Socket.IO client.
 *
 * @example
 * ```ts
 * const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
 * const client = await PollingLoadClient.connect(port, agent);
 * client.onAck = (rtt) => console.log(rtt);
 * client.ack('["echo",1]');
 * ```
 */
export class PollingLoadClient implements LoadClient {
  onAck: (rttMs: number) => void = noop;
  onEvent: (packet: Buffer | string) => void = noop;
  onPing: () => void = noop;
  /** Set when a request failed or the server closed the session. */
  error: string | null = null;
  #nextId = 0;
  readonly #sent = new Map<number, number>();
  #outbox: string[] = [];
  #posting = false;
  #closed = false;

  private constructor(
    private readonly agent: Agent,
    private readonly port: number,
    private readonly path: string,
  ) {}

  get pending(): number {
    return this.#sent.size;
  }

  /** Handshakes, connects to namespace '/', and starts polling. */
  static async connect(port: number, agent: Agent): Promise<PollingLoadClient> {
    const t = CONNECT_TIMEOUT_MS;
    const open = await exchange(agent, port, '/socket.io/?EIO=4&transport=polling', undefined, t);
    if (open.status !== 200 || !open.text.startsWith('0'))
      throw new Error(`polling handshake failed: ${open.status} ${open.text.slice(0, 80)}`);
    const { sid } = JSON.parse(open.text.slice(1)) as { sid: string };
    const client = new PollingLoadClient(
      agent,
      port,
      `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`,
    );
    const posted = await exchange(agent, port, client.path, '40', t);
    if (posted.status !== 200) throw new Error(`connect POST failed: ${posted.status}`);
    // The namespace answer may come with other packets; wait for it, then poll.
    for (let connected = false; !connected;) {
      const poll = await exchange(agent, port, client.path, undefined, t);
      if (poll.status !== 200) throw new Error(`connect GET failed: ${poll.status}`);
      for (const packet of poll.text.split(SEPARATOR)) {
        if (packet.startsWith('40')) connected = true;
        else if (packet.startsWith('44')) throw new Error(`connect refused: ${packet}`);
        else client.#onPacket(packet);
      }
    }
    client.#poll();
    return client;
  }

  #poll(): void {
    if (this.#closed) return;
    exchange(this.agent, this.port, this.path).then(
      ({ status, text }) => {
        if (status !== 200) return this.#fail(`GET ${status}: ${text.slice(0, 80)}`);
        for (const packet of text.split(SEPARATOR)) this.#onPacket(packet);
        this.#poll();
      },
      (error: Error) => this.#fail(`GET: ${error.message}`),
    );
  }

  #onPacket(packet: string): void {
    const type = packet.charCodeAt(0);
    if (type === 50 /* '2' ping */) {
      this.onPing();
      this.#send('3');
    } else if (type === 49 /* '1' close */) this.#fail('closed by the server');
    else if (type === 52 /* '4' message */) {
      const sioType = packet.charCodeAt(1);
      if (sioType === 51 /* '3' ack */) {
        const id = readId(packet, 2);
        const start = this.#sent.get(id);
        if (start === undefined) return;
        this.#sent.delete(id);
        this.onAck(performance.now() - start);
      } else if (sioType === 50 /* '2' event */) this.onEvent(packet);
    }
  }

  #send(packet: string): void {
    this.#outbox.push(packet);
    this.#flush();
  }

  #flush(): void {
    if (this.#posting || this.#outbox.length === 0 || this.#closed) return;
    this.#posting = true;
    const body = this.#outbox.join(SEPARATOR);
    this.#outbox = [];
    exchange(this.agent, this.port, this.path, body).then(
      ({ status, text }) => {
        this.#posting = false;
        if (status !== 200) return this.#fail(`POST ${status}: ${text.slice(0, 80)}`);
        this.#flush();
      },
      (error: Error) => this.#fail(`POST: ${error.message}`),
    );
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.error ??= reason;
    this.#closed = true;
  }

  ack(body: string): void {
    const id = this.#nextId++;
    this.#sent.set(id, performance.now());
    this.#send(`42${id}${body}`);
  }

  emit(body: string): void {
    this.#send(`42${body}`);
  }

  /** Stops polling and tells the server (a close packet), best effort. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    exchange(this.agent, this.port, this.path, '1').catch(noop);
  }
}
