/**
 * The npm `socket.io` 4.8 server in its own process, with bench-app.ts's
 * handlers: `echo` acks its argument, `cpu` burns that many ms then acks,
 * `broadcast` sends `news` to everyone. Reports `{ port }` over IPC, answers
 * `rss`, stops on `stop` (the protocol of harness.ts `startServer`).
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { answerHarness } from './server-ipc.js';

/** The events the benchmark clients send (socket.io's typed-events map). */
interface ClientEvents {
  echo: (data: unknown, ack: (data: unknown) => void) => void;
  cpu: (ms: number, ack: (ms: number) => void) => void;
  broadcast: (data: unknown) => void;
}

/** The events the server sends. */
interface ServerEvents {
  news: (data: unknown) => void;
}

/** Busy-waits `ms` milliseconds (the CPU-bound handler's work). */
function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const http = createServer();
// The same heartbeat as bench-app.ts (BENCH_PING_INTERVAL seconds, default 25 / 20 s);
// no client files served.
const io = new Server<ClientEvents, ServerEvents>(http, {
  pingInterval: Number(process.env.BENCH_PING_INTERVAL ?? 25) * 1000,
  pingTimeout: 20_000,
  serveClient: false,
});

io.on('connection', (socket) => {
  socket.on('echo', (data, ack) => {
    if (typeof ack === 'function') ack(data);
  });
  socket.on('cpu', (ms, ack) => {
    burn(ms);
    if (typeof ack === 'function') ack(ms);
  });
  socket.on('broadcast', (data) => {
    io.emit('news', data);
  });
});

http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.send?.({ port, mode: 'socket.io' });
});
answerHarness(() => new Promise((resolve) => void io.close(resolve)));
