/**
 * The outbox bound against bursts: a client that stops reading is closed with
 * `outbox overflow` whether what is sent to it comes in one tick (a handler
 * sending in a loop, a broadcast storm) or spread over many. What the server
 * holds for that client (its outbox plus what its TCP sockets have not handed
 * to the OS, corked bytes included) is measured on the server's own sockets,
 * not taken from the engine's accounting, and never passes the mark plus one
 * message; a client that reads, connected meanwhile, gets every message it was
 * sent and stays connected. (spec/engine/outbox.spec.ts covers slow readers fed
 * one message a tick; spec/hostile/slow-reader.spec.ts the Socket.IO level.)
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { EngineConnection } from '../../lib/index.js';
import { EngineHarness } from '../helpers/engine.js';
import type { EioClient } from '../helpers/engine.js';
import { RawPolling, waitFor } from '../helpers/raw-engine.js';

const MARK = 256 * 1024;
/** Characters of each message; every message is distinct, so no two share a frame. */
const MESSAGE = 64 * 1024;
/** 64 MiB in all: a server without a bound would queue all of it. */
const COUNT = 1024;
/** Bytes one message may add on the wire: its frame header, or its share of a polling payload. */
const MESSAGE_BYTES = MESSAGE + 16;
const FILLER = 'x'.repeat(MESSAGE - 8);

type TransportName = 'websocket' | 'polling';

/** Message `n`: eight digits, then filler. */
function message(n: number): string {
  return String(n).padStart(8, '0') + FILLER;
}

/** Raw client sockets of the current spec, destroyed after it. */
const rawSockets = new Set<Socket>();

/** Resolves once `socket` is connected to the engine's port. */
async function rawSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  rawSockets.add(socket);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return socket;
}

/**
 * The engine's side of every TCP connection, by the client's port. What the
 * server holds for a client and has not handed to the OS is in these sockets'
 * writable buffers.
 */
class ServerSockets {
  readonly #byPeerPort = new Map<number, Socket>();

  constructor(http: Server) {
    http.on('connection', (socket: Socket) => this.#byPeerPort.set(socket.remotePort ?? 0, socket));
  }

  /** The server's end of a client socket. */
  of(client: Socket): Socket {
    const socket = this.#byPeerPort.get(client.localPort ?? 0);
    if (socket === undefined) throw new Error(`no server socket for port ${client.localPort}`);
    return socket;
  }

  /** Bytes written to the clients' sockets that the OS has not taken yet, corked bytes included. */
  unsent(clients: readonly Socket[]): number {
    let bytes = 0;
    for (const client of clients) {
      const socket = this.of(client);
      if (!socket.destroyed) bytes += socket.writableLength;
    }
    return bytes;
  }
}

/** A client that stops reading: its raw sockets are paused once the session is open. */
interface SlowClient {
  readonly conn: EngineConnection;
  /** Every TCP socket the client opened. */
  readonly sockets: Socket[];
}

/** A WebSocket session on a raw TCP socket that reads its open packet and then nothing. */
async function stalledWebSocket(h: EngineHarness): Promise<SlowClient> {
  const socket = await rawSocket(h.port);
  socket.write(
    `GET /${h.engine.options.path}/?EIO=4&transport=websocket HTTP/1.1\r\n` +
      `Host: 127.0.0.1:${h.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  return { conn: await h.connections.next('the slow connection'), sockets: [socket] };
}

/** A polling session whose client sends one more GET on a raw socket and never reads its answer. */
async function stalledPolling(h: EngineHarness): Promise<SlowClient> {
  const polling = await RawPolling.open(h.base);
  const conn = await h.connections.next('the slow connection');
  const socket = await rawSocket(h.port);
  socket.pause();
  socket.write(
    `GET /${h.engine.options.path}/?EIO=4&transport=polling&sid=${polling.sid} HTTP/1.1\r\n` +
      `Host: 127.0.0.1:${h.port}\r\n\r\n`,
  );
  if (!(await waitFor(() => conn.transport.writable, 2000))) throw new Error('the GET never came');
  return { conn, sockets: [socket] };
}

const STALLED: Record<TransportName, (h: EngineHarness) => Promise<SlowClient>> = {
  websocket: stalledWebSocket,
  polling: stalledPolling,
};

/** A reading client (the official one) and the messages it got. */
interface GoodClient {
  readonly client: EioClient;
  readonly conn: EngineConnection;
  readonly got: string[];
}

async function goodClient(h: EngineHarness, transport: TransportName): Promise<GoodClient> {
  const client = await h.openClient({ transports: [transport] });
  const conn = await h.connections.next('the good connection');
  const got: string[] = [];
  client.socket.on('message', (data: unknown) => void got.push(String(data)));
  return { client, conn, got };
}

/** What the server held for a slow client at most, and how it ended. */
interface Outcome {
  readonly peak: number;
  readonly reason: string | null;
}

/** Samples what the server holds for `slow` while `send` runs (synchronously, once per message). */
function heldDuring(
  sockets: ServerSockets,
  slows: readonly SlowClient[],
): { sample(): void; peaks: number[] } {
  const peaks = slows.map(() => 0);
  return {
    peaks,
    sample() {
      for (const [i, slow] of slows.entries()) {
        if (slow.conn.phase === 'closed') continue;
        const held = slow.conn.outboxBytes + sockets.unsent(slow.sockets);
        peaks[i] = Math.max(peaks[i] ?? 0, held);
      }
    },
  };
}

/** Waits for the slow clients' close (or gives up) and reports what each went through. */
async function outcomes(
  slows: readonly SlowClient[],
  peaks: readonly number[],
): Promise<Outcome[]> {
  await waitFor(() => slows.every((s) => s.conn.phase === 'closed'), 5000);
  return slows.map((s, i) => ({ peak: peaks[i] ?? 0, reason: s.conn.closeReason }));
}

/** The slow clients were closed for overflow, holding at most the mark plus one message. */
function expectCutOff(found: readonly Outcome[], mark: number): void {
  const peaks = found.map((o) => o.peak).join(', ');
  expect(
    found.map((o) => o.reason),
    `close reasons (bytes held at most: ${peaks})`,
  ).to.deep.equal(found.map(() => 'outbox overflow'));
  for (const [i, { peak }] of found.entries())
    expect(peak, `bytes held for slow client ${i}`).to.be.at.most(mark + MESSAGE_BYTES);
}

/** Nothing stays queued for a client cut off: its outbox is empty and its sockets hold nothing. */
async function expectDropped(sockets: ServerSockets, slow: SlowClient): Promise<void> {
  const dropped = await waitFor(() => sockets.unsent(slow.sockets) === 0, 2000);
  expect(
    { outbox: slow.conn.outboxBytes, unsent: sockets.unsent(slow.sockets), dropped },
    'what is still queued for the client that was cut off',
  ).to.deep.equal({ outbox: 0, unsent: 0, dropped: true });
}

/** The reading client got `expected` in order and is still connected. */
async function expectServed(good: GoodClient, expected: readonly string[]): Promise<void> {
  await waitFor(() => good.got.length >= expected.length, 10_000);
  expect(good.got.length, 'messages the good client got').to.equal(expected.length);
  expect(
    good.got.every((m, i) => m === expected[i]),
    'the good client got every message, in order',
  ).to.be.true;
  expect({ client: good.client.isClosed, server: good.conn.closeReason }).to.deep.equal({
    client: false,
    server: null,
  });
}

/** What a burst spec works with. */
interface Scene {
  readonly slows: readonly SlowClient[];
  readonly good: GoodClient;
  readonly held: { sample(): void };
  /** What the good client must get, in order. */
  readonly expected: string[];
}

/**
 * Opens a reading client and `slowCount` clients that stop reading (all on `transport`),
 * runs `send`, then checks that the slow clients were cut off at the mark, nothing stays
 * queued for them, and the reading client got everything.
 */
async function burst(
  transport: TransportName,
  slowCount: number,
  send: (scene: Scene) => void | Promise<void>,
  mark = MARK,
): Promise<void> {
  const h = await EngineHarness.start({ outboxHighWaterMark: mark }, { echo: false });
  const sockets = new ServerSockets(h.http);
  try {
    const good = await goodClient(h, transport);
    const slows: SlowClient[] = [];
    for (let i = 0; i < slowCount; i++) slows.push(await STALLED[transport](h));
    const held = heldDuring(sockets, slows);
    const expected: string[] = [];
    await send({ slows, good, held, expected });
    expectCutOff(await outcomes(slows, held.peaks), mark);
    for (const slow of slows) await expectDropped(sockets, slow);
    await expectServed(good, expected);
  } finally {
    await h.stop();
  }
}

describe('bounded outbox against bursts', function () {
  this.timeout(60_000);

  afterEach(function () {
    for (const socket of rawSockets) socket.destroy();
    rawSockets.clear();
  });

  for (const transport of ['websocket', 'polling'] as const) {
    describe(`over ${transport}`, function () {
      it(`closes a client that stops reading with 'outbox overflow' when a handler sends it 64 MiB in one synchronous loop, holding at most the mark plus one message`, async function () {
        await burst(transport, 1, ({ slows: [slow], good, held, expected }) => {
          // The handler of the good client's `flood`: one loop, no await, 64 MiB of distinct
          // messages for the slow client and a short one for the good client every 16th.
          good.conn.on('message', () => {
            for (let n = 0; n < COUNT; n++) {
              slow?.conn.send(message(n));
              held.sample();
              if (n % 16 === 0) {
                expected.push(`good ${n}`);
                good.conn.send(`good ${n}`);
              }
            }
          });
          good.client.socket.send('flood');
        });
      });

      it(`closes a client that stops reading with 'outbox overflow' when 64 MiB come one message a tick, holding at most the mark plus one message`, async function () {
        await burst(transport, 1, async ({ slows: [slow], good, held, expected }) => {
          for (let n = 0; n < COUNT && slow?.conn.phase !== 'closed'; n++) {
            slow?.conn.send(message(n));
            held.sample();
            // A short one for the good client: a polling client may not ask again within a tick.
            expected.push(`good ${n}`);
            good.conn.send(`good ${n}`);
            await new Promise((resolve) => setImmediate(resolve));
          }
        });
      });
    });
  }

  it('counts what a polling client left unread of its last answer toward the mark', async function () {
    // An answer larger than the OS takes for a client that does not read (about 4 MiB here),
    // so part of it stays in the server's socket while the next messages fill the outbox.
    const mark = 12 * 1024 * 1024;
    const first = Math.floor((mark * 0.9) / MESSAGE);
    await burst(
      'polling',
      1,
      async ({ slows: [slow], good, held, expected }) => {
        for (let n = 0; n < COUNT && slow?.conn.phase !== 'closed'; n++) {
          slow?.conn.send(message(n));
          held.sample();
          // The first tick fills the pending GET's answer; then one message a tick.
          if (n < first) continue;
          expected.push(`good ${n}`);
          good.conn.send(`good ${n}`);
          await new Promise((resolve) => setImmediate(resolve));
        }
      },
      mark,
    );
  });

  it("closes every WebSocket client that stops reading when a broadcast storm in one tick shares each frame among them: each frame's bytes count for each client", async function () {
    await burst('websocket', 2, ({ slows, good, held, expected }) => {
      // One tick: every broadcast is one string sent to both, so both are written one frame.
      for (let n = 0; n < COUNT; n++) {
        const text = message(n);
        for (const slow of slows) slow.conn.send(text);
        held.sample();
      }
      expected.push('after the storm');
      good.conn.send('after the storm');
    });
  });
});
