/**
 * The benchmark server app: the same handlers for every async mode. The mode
 * comes from BENCH_MODE, so pool threads (which load this module again) agree.
 */
import { joinRoom, SocketIO } from '../lib/index.js';
import type { AsyncMode } from '../lib/index.js';

const mode = (process.env.BENCH_MODE ?? 'event-loop') as AsyncMode;
// BENCH_ROUTING picks the queue's routing ('channel' or 'rooms'); unset, the default.
const routing = process.env.BENCH_ROUTING;

export const io = new SocketIO({
  asyncMode: mode,
  appModule: mode === 'worker-pool' ? import.meta.url : undefined,
  pingInterval: Number(process.env.BENCH_PING_INTERVAL ?? 25),
  pingTimeout: 20,
  messageQueue: process.env.BENCH_QUEUE,
  channel: process.env.BENCH_CHANNEL,
  messageQueueOptions: routing === 'channel' || routing === 'rooms' ? { routing } : undefined,
});

/** Busy-waits `ms` milliseconds (the CPU-bound handler's work). */
export function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** A trivial background task, exported so worker-pool runs it in the pool. */
export function noop(): number {
  return 1;
}

io.on('echo', (data: unknown) => data);
io.on('cpu', (ms: number) => {
  burn(ms);
  return ms;
});
io.on('broadcast', (data: unknown) => {
  io.emit('news', data);
});
io.on('join', (room: string) => {
  joinRoom(room);
  return room;
});
io.on('to-room', (data: { readonly to: string }) => {
  io.emit('news', data, { to: data.to });
});
