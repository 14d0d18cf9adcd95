/**
 * Tools of the hostile-input specs (spec/hostile/): a trap for errors that
 * escape to the process, a logger that records every level, a well-behaved
 * witness client whose traffic must come through untouched while others
 * misbehave, and raw Socket.IO peers over WebSocket and polling.
 */
import { expect } from 'chai';
import { io as connectClient } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import type { Logger } from '../../lib/index.js';
import { RawPolling, rawRequest, splitPayload } from './raw-engine.js';
import type { RawResponse } from './raw-engine.js';
import { within } from './socketio.js';

/** Errors that reached the process: `uncaughtException` and `unhandledRejection`. */
export interface ProcessErrorTrap {
  readonly errors: unknown[];
  /** Stops listening; call it in `afterEach`. */
  dispose(): void;
}

/**
 * Records what escapes to the process while a spec runs (Node would otherwise
 * crash, or mocha report it against whichever spec runs at that moment).
 */
export function trapProcessErrors(): ProcessErrorTrap {
  const errors: unknown[] = [];
  const onError = (error: unknown): void => void errors.push(error);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    dispose() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

/** One logged line. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly text: string;
}

/** A logger that keeps every line at every level (the console stays quiet). */
export function fullLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const text = (value: unknown): string =>
    value instanceof Error ? (value.stack ?? value.message) : String(value);
  const at =
    (level: LogLine['level']) =>
    (...args: unknown[]): void =>
      void lines.push({ level, text: args.map(text).join(' ') });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * A well-behaved official client on '/' (WebSocket or polling): every `echo`
 * it sends must come back, in order, whatever other clients do meanwhile.
 */
export class Witness {
  readonly socket: Socket;
  #sent = 0;
  readonly #acked: number[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
  }

  static async connect(origin: string, transport: 'websocket' | 'polling'): Promise<Witness> {
    const socket = connectClient(origin, {
      forceNew: true,
      reconnection: false,
      transports: [transport],
    });
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      }),
      'the witness connection',
      5000,
    );
    return new Witness(socket);
  }

  /** Sends `n` echoes at once; resolves when all came back (each checked). */
  async burst(n = 5): Promise<void> {
    const sends: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const k = this.#sent++;
      sends.push(
        this.socket
          .timeout(5000)
          .emitWithAck('echo', { k })
          .then((answer: unknown) => {
            expect(answer, 'the echo of the witness').to.deep.equal({ k });
            this.#acked.push(k);
          }),
      );
    }
    await Promise.all(sends);
  }

  /** Checks that everything the witness sent came back exactly once, in order. */
  async verify(): Promise<void> {
    await this.burst(3);
    expect(this.socket.connected, 'the witness is still connected').to.equal(true);
    expect(this.#acked, 'witness echoes: none lost, none repeated, in order').to.deep.equal(
      Array.from({ length: this.#sent }, (_, i) => i),
    );
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** A Socket.IO peer over raw long-polling: Engine.IO handshake, then `4`-prefixed packets. */
export class RawSioPolling {
  private constructor(readonly polling: RawPolling) {}

  static async open(base: string): Promise<RawSioPolling> {
    return new RawSioPolling(await RawPolling.open(base));
  }

  get sid(): string {
    return this.polling.sid;
  }

  /** POSTs Socket.IO packets (each becomes the Engine.IO message `4<packet>`). */
  send(...packets: string[]): Promise<RawResponse> {
    return this.polling.post(packets.map((p) => `4${p}`).join('\x1e'));
  }

  /** POSTs a raw body. */
  post(body: string | Buffer): Promise<RawResponse> {
    return this.polling.post(body);
  }

  /** One GET; its Engine.IO packets (a 400 gives the JSON error text as the only item). */
  async get(): Promise<{ status: number; packets: string[] }> {
    const res = await this.polling.get();
    return {
      status: res.status,
      packets: res.status === 200 ? splitPayload(res.text) : [res.text],
    };
  }

  /** CONNECT to '/' and read the answer; resolves with the Socket.IO sid. */
  async connect(): Promise<string> {
    await this.send('0');
    const { packets } = await this.get();
    const answer = packets.find((p) => p.startsWith('40'));
    if (answer === undefined) throw new Error(`CONNECT answered ${JSON.stringify(packets)}`);
    return (JSON.parse(answer.slice(2)) as { sid: string }).sid;
  }
}

/** A GET on a session that must be gone: 400 `Session ID unknown`. */
export async function expectSessionGone(url: string): Promise<void> {
  const res = await rawRequest(url);
  expect(res.status, `GET ${url}`).to.equal(400);
  expect(JSON.parse(res.text)).to.deep.equal({ code: 1, message: 'Session ID unknown' });
}
