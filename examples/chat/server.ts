/**
 * The demo chat: a web page and its Socket.IO handlers, using only the public
 * API and the client bundle the server serves at /socket.io/socket.io.min.js.
 * `npm start` serves app.ts (which exports the instance) on http://127.0.0.1:5000.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { SocketIO, emit, joinRoom, leaveRoom, rooms, session } from '../../lib/index.js';

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/examples/chat/; the page lives in examples/chat/public/.
const publicDir =
  [join(here, 'public'), join(here, '../../../examples/chat/public')].find((d) => existsSync(d)) ??
  here;

const FILES: Record<string, [string, string]> = {
  '/': [join(publicDir, 'index.html'), 'text/html; charset=utf-8'],
  '/app.js': [join(publicDir, 'app.js'), 'text/javascript; charset=utf-8'],
  '/style.css': [join(publicDir, 'style.css'), 'text/css; charset=utf-8'],
  '/favicon.svg': [join(publicDir, 'favicon.svg'), 'image/svg+xml'],
  // Browsers ask for /favicon.ico when a page names no icon (or before reading its <head>).
  '/favicon.ico': [join(publicDir, 'favicon.svg'), 'image/svg+xml'],
};

/** Serves the page's static files; everything else is a 404. */
async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const file = FILES[(req.url ?? '/').split('?')[0] ?? '/'];
  if (file === undefined) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
    return;
  }
  const body = await readFile(file[0]);
  res.writeHead(200, { 'Content-Type': file[1], 'Content-Length': body.length }).end(body);
}

const ROOM = /^[\w -]{1,32}$/;
const NICK = /^[\w -]{1,24}$/;

/** Creates the chat server (exported for the browser spec). */
export function createChat(): SocketIO {
  const io = new SocketIO((req, res) => void app(req, res));
  const roomList = (): string[] => [...new Set(['lobby', ...knownRooms])].sort();
  const knownRooms = new Set<string>();
  const nick = (): string => String(session().nick);

  io.on('connect', (auth: { nick?: unknown } | undefined) => {
    const wanted = typeof auth?.nick === 'string' && NICK.test(auth.nick) ? auth.nick : null;
    session().nick = wanted ?? `guest-${Math.floor(Math.random() * 9000 + 1000)}`;
    joinRoom('lobby');
    emit('welcome', { nick: nick(), rooms: roomList() });
  });

  io.on('join', (room: unknown) => {
    if (typeof room !== 'string' || !ROOM.test(room))
      return { ok: false, error: 'room names are 1-32 letters, digits, spaces or -' };
    joinRoom(room);
    knownRooms.add(room);
    emit('rooms', roomList(), { broadcast: true });
    emit('notice', { room, text: `${nick()} joined` }, { to: room });
    return { ok: true, joined: rooms().filter((r) => r === 'lobby' || knownRooms.has(r)) };
  });

  io.on('leave', (room: unknown) => {
    if (typeof room !== 'string') return { ok: false };
    emit('notice', { room, text: `${nick()} left` }, { to: room });
    leaveRoom(room);
    return { ok: true };
  });

  io.on('say', (msg: { room?: unknown; text?: unknown } | undefined) => {
    const room = msg?.room;
    const text = msg?.text;
    if (
      typeof room !== 'string' ||
      typeof text !== 'string' ||
      text.length === 0 ||
      text.length > 2000
    )
      return { ok: false };
    if (!rooms().includes(room)) return { ok: false, error: `join ${room} first` };
    const at = Date.now();
    emit('chat', { room, nick: nick(), text, at }, { to: room });
    return { ok: true, at };
  });

  io.on('shout', (text: unknown) => {
    if (typeof text !== 'string' || text.length === 0 || text.length > 2000) return { ok: false };
    const at = Date.now();
    emit('chat', { room: '*', nick: nick(), text, at }, { broadcast: true });
    return { ok: true, at };
  });

  io.on('typing', (room: unknown) => {
    if (typeof room === 'string' && rooms().includes(room))
      emit('typing', { room, nick: nick() }, { to: room, includeSelf: false });
  });

  return io;
}
