/**
 * A raw `ws` server in its own process: no protocol at all, the practical
 * limit for any Socket.IO server. What it does with a frame depends on the
 * path the client connected to:
 *
 * - `/echo`: sends the frame back (an "acked echo" is a round trip);
 * - `/cpu?ms=N`: busy-waits N ms, then sends the frame back;
 * - `/broadcast`: sends the frame to every client (fan-out), framed once;
 * - anything else: ignores frames (idle clients, connects).
 *
 * Like this project's server (lib/engine/websocket.ts), it holds each client's
 * writes until the end of the tick, so the replies to the frames one read
 * brought (or a burst of broadcasts) leave in one writev, not one write each.
 *
 * Reports `{ port }` over IPC, answers `rss`, stops on `stop` (the protocol of
 * harness.ts `startServer`).
 */
import type { Duplex } from 'node:stream';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawData } from 'ws';
import { answerHarness } from './server-ipc.js';

/**
 * What `ws` has but @types/ws does not declare: framing a message once and
 * writing those bytes to many sockets. The npm socket.io server broadcasts
 * this way (ws issue #617), so the raw limit must too.
 */
interface Framing {
  readonly Sender: {
    frame(
      data: Buffer,
      options: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean },
    ): Buffer[];
  };
}
interface FramedSocket {
  readonly _sender: { sendFrame(list: Buffer[]): void };
}
const { Sender } = wsModule as unknown as Framing;
const TEXT = 0x1;

/**
 * `ws` has no cork of its own; its maintainers point to the TCP socket under
 * it, `_socket` (websockets/ws#1999).
 */
interface CorkableSocket {
  readonly _socket: Duplex;
}

function uncork(socket: Duplex): void {
  socket.uncork();
}

/**
 * Corks `ws`'s socket until the end of this tick, once per tick: `ws` corks
 * around each frame it writes, and uncorks in the same call, so a cork still
 * held is this function's.
 */
function holdForTick(ws: WebSocket): void {
  const socket = (ws as unknown as CorkableSocket)._socket;
  if (socket.writableCorked > 0) return;
  socket.cork();
  process.nextTick(uncork, socket);
}

/** Frames `data` once and writes the frame to every open client. */
function broadcast(data: RawData, binary: boolean): void {
  const bytes = Buffer.isBuffer(data)
    ? data
    : Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.from(data);
  const frame = Sender.frame(bytes, {
    fin: true,
    rsv1: false,
    opcode: binary ? 0x2 : TEXT,
    mask: false,
    readOnly: false,
  });
  for (const client of wss.clients)
    if (client.readyState === WebSocket.OPEN) {
      holdForTick(client);
      (client as unknown as FramedSocket)._sender.sendFrame(frame);
    }
}

/** Busy-waits `ms` milliseconds (the CPU-bound handler's work). */
function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });

function handlerFor(ws: WebSocket, url: string): ((data: RawData, binary: boolean) => void) | null {
  const path = url.split('?', 1)[0];
  const reply = (data: RawData, binary: boolean): void => {
    holdForTick(ws);
    ws.send(data, { binary });
  };
  if (path === '/echo') return reply;
  if (path === '/cpu') {
    const ms = Number(new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('ms') ?? 1);
    return (data, binary) => {
      burn(ms);
      reply(data, binary);
    };
  }
  if (path === '/broadcast') return broadcast;
  return null;
}

wss.on('connection', (ws, req) => {
  ws.on('error', () => ws.terminate());
  const handler = handlerFor(ws, req.url ?? '/');
  if (handler !== null) ws.on('message', handler);
});

wss.on('listening', () => {
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.send?.({ port, mode: 'ws' });
});
answerHarness(() => {
  for (const client of wss.clients) client.terminate();
  return new Promise((resolve) => wss.close(resolve));
});
