/**
 * An Express app with logins, as a team would write it: express-session (its
 * MemoryStore), passport with a local strategy, a login form, a logout route and
 * a preferences route that reads and writes the web session; Socket.IO on the
 * same server with the same session and passport middlewares on `io.engine`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { RequestHandler } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { SocketIO } from '../../lib/index.js';
import type { AsyncMode, SocketIOOptions } from '../../lib/index.js';
import { registerLoginHandlers } from '../fixtures/login-handlers.js';
import type { User } from '../fixtures/login-handlers.js';

declare module 'express-session' {
  interface SessionData {
    theme?: string;
    visits?: number;
  }
}

const USERS: readonly (User & { password: string })[] = [
  { id: 1, username: 'alice', name: 'Alice', password: 'wonderland' },
  { id: 2, username: 'bob', name: 'Bob', password: 'builder' },
];

const LOGIN_PAGE = `<!doctype html><title>Log in</title>
<form method="post" action="/login">
  <input name="username" id="username"><input name="password" id="password" type="password">
  <button id="login">Log in</button>
</form>`;

const CHAT_PAGE = `<!doctype html><title>Chat</title>
<p id="status">connecting</p>
<script src="/socket.io/socket.io.min.js"></script>
<script>
  const socket = io();
  socket.on('hello', (name) => { document.getElementById('status').textContent = 'hello ' + name; });
  socket.on('connect_error', (err) => { document.getElementById('status').textContent = 'refused: ' + err.message; });
</script>`;

/** A running app. */
export interface LoginServer {
  readonly io: SocketIO;
  readonly origin: string;
  /** How many sessions the session store holds. */
  storedSessions(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts the app on 127.0.0.1 (port 0) in `asyncMode`; in worker-pool mode the
 * pool threads load spec/fixtures/login-app.ts.
 *
 * @example
 * ```ts
 * const app = await startLoginServer('event-loop', { manageSession: false });
 * ```
 */
export async function startLoginServer(
  asyncMode: AsyncMode,
  options: SocketIOOptions = {},
): Promise<LoginServer> {
  const passport = new Passport();
  passport.use(
    new LocalStrategy((username, password, done) => {
      const user = USERS.find((u) => u.username === username && u.password === password);
      done(null, user === undefined ? false : { id: user.id, username, name: user.name });
    }),
  );
  passport.serializeUser((user, done) => done(null, (user as User).id));
  passport.deserializeUser((id: number, done) => {
    const user = USERS.find((u) => u.id === id);
    done(null, user === undefined ? false : { id, username: user.username, name: user.name });
  });
  const store = new session.MemoryStore();
  const sessions = session({
    secret: 'spec secret',
    resave: false,
    saveUninitialized: false,
    store,
  });
  // @types/passport types these two as any.
  const passportSession = passport.session() as RequestHandler;
  const logInForm = passport.authenticate('local', {
    failureRedirect: '/login?failed',
  }) as RequestHandler;

  const app = express();
  app.use(express.urlencoded({ extended: false }), express.json());
  app.use(sessions, passportSession);
  app.get('/login', (_req, res) => void res.type('html').send(LOGIN_PAGE));
  app.post('/login', logInForm, (_req, res) => res.redirect('/chat'));
  app.get('/chat', (_req, res) => void res.type('html').send(CHAT_PAGE));
  app.post('/logout', (req, res, next) =>
    req.logout((error) => (error ? next(error) : req.session.destroy(() => res.end('bye')))),
  );
  app.get('/prefs', (req, res) => {
    res.json({
      theme: req.session.theme ?? null,
      visits: req.session.visits ?? null,
      user: (req.user as User | undefined)?.username ?? null,
    });
  });
  app.post('/prefs', (req, res) => {
    req.session.theme = (req.body as { theme?: string }).theme;
    res.json({ ok: true });
  });

  const server = createServer(app);
  const pool =
    asyncMode === 'worker-pool'
      ? { appModule: new URL('../fixtures/login-app.js', import.meta.url).href, workers: 1 }
      : {};
  const io = new SocketIO(server, { asyncMode, ...pool, ...options });
  io.engine.use(sessions);
  io.engine.use(passportSession);
  registerLoginHandlers(io);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    io,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    storedSessions: () =>
      new Promise((resolve, reject) =>
        store.length((error, length) => (error ? reject(error as Error) : resolve(length ?? 0))),
      ),
    stop: () => io.stop(),
  };
}
