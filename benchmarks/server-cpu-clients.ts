/**
 * The client side of server-cpu.ts, forked by each measuring process so that no client work
 * lands in the server's CPU time: raw `ws` clients speaking Engine.IO v4 / Socket.IO v5 (the
 * open packet answered with a CONNECT to `/`, pings with pongs), no client library.
 *
 * `server-cpu-clients.js fanout <port> <n>` holds n connected clients, counts the `42` packets
 * they get and answers `expect` when the count reaches it. `server-cpu-clients.js connect
 * <port>` runs `connect` jobs: that many connect, CONNECT, close cycles, `batch` at a time.
 */
import WebSocket from 'ws';

/** What the measuring process sends. */
export type ClientJob =
  | { readonly type: 'expect'; readonly total: number }
  | { readonly type: 'connect'; readonly count: number; readonly batch: number };

/** What this process answers. */
export type ClientReply =
  | { readonly type: 'ready'; readonly clients: number }
  | { readonly type: 'reached'; readonly count: number }
  | { readonly type: 'done'; readonly count: number }
  | { readonly type: 'error'; readonly message: string };

/** How many fan-out clients open their connections at once. */
const OPEN_BATCH = 50;

function reply(message: ClientReply): void {
  process.send?.(message);
}

function fail(error: unknown): never {
  reply({ type: 'error', message: String(error) });
  process.exit(1);
}

function text(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString();
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  return Buffer.from(data).toString();
}

function open(port: number): WebSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, {
    perMessageDeflate: false,
  });
  ws.on('error', fail);
  return ws;
}

/** Connects `n` clients to `/` that count the events they get, then reports `ready`. */
async function fanout(port: number, n: number): Promise<void> {
  let count = 0;
  let expected = Infinity;
  const check = (): void => {
    if (count < expected) return;
    expected = Infinity;
    reply({ type: 'reached', count });
  };
  process.on('message', (job: ClientJob) => {
    if (job.type !== 'expect') return;
    expected = job.total;
    check();
  });
  for (let i = 0; i < n; i += OPEN_BATCH) {
    const size = Math.min(OPEN_BATCH, n - i);
    await Promise.all(
      Array.from(
        { length: size },
        () =>
          new Promise<void>((joined) => {
            const ws = open(port);
            ws.on('message', (data) => {
              const packet = text(data);
              if (packet.startsWith('42')) {
                count++;
                check();
              } else if (packet === '2') ws.send('3');
              else if (packet.startsWith('40')) joined();
              else if (packet.startsWith('0')) ws.send('40');
            });
          }),
      ),
    );
  }
  reply({ type: 'ready', clients: n });
}

/** One connect, namespace CONNECT to `/` and close; settles when the socket has closed. */
function cycle(port: number): Promise<void> {
  return new Promise((closed) => {
    const ws = open(port);
    ws.on('message', (data) => {
      const packet = text(data);
      if (packet.startsWith('40')) ws.close();
      else if (packet.startsWith('0')) ws.send('40');
    });
    ws.on('close', () => closed());
  });
}

function connects(port: number): void {
  process.on('message', (job: ClientJob) => {
    if (job.type !== 'connect') return;
    void (async () => {
      for (let i = 0; i < job.count; i += job.batch) {
        const size = Math.min(job.batch, job.count - i);
        await Promise.all(Array.from({ length: size }, () => cycle(port)));
      }
      reply({ type: 'done', count: job.count });
    })().catch(fail);
  });
  reply({ type: 'ready', clients: 0 });
}

const [mode, portArg, countArg] = process.argv.slice(2);
const port = Number(portArg);
if (mode === 'fanout') fanout(port, Number(countArg)).catch(fail);
else if (mode === 'connect') connects(port);
else fail(`server-cpu-clients: unknown mode ${String(mode)}`);
