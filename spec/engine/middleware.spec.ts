/**
 * `engine.use()` middlewares (socket.io 4.6+'s `io.engine.use` contract), with raw
 * HTTP and raw WebSockets: they run in order on every polling request and every
 * upgrade, not on CORS preflights; `next(error)` refuses with the error's message
 * and status; a middleware may answer itself; headers it sets reach the answer
 * (the 101 of an upgrade too); `handshakeOnly` skips requests that carry a sid;
 * the connection keeps the handshake request as the middlewares left it.
 */
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import session from 'express-session';
import { WebSocket } from 'ws';
import { handshakeOnly } from '../../lib/index.js';
import type { EngineMiddleware, EngineRequest } from '../../lib/index.js';
import { EngineHarness, withEngine } from '../helpers/engine.js';
import {
  RawPolling,
  delay,
  jsonBody,
  parseOpenPacket,
  rawRequest,
  refusedUpgrade,
} from '../helpers/raw-engine.js';

/** Records `label` and the request's sid for every request it sees. */
function recorder(seen: string[], label: string): EngineMiddleware {
  return (req: EngineRequest, _res, next) => {
    seen.push(
      `${label}:${req.method ?? ''}:${req._query?.sid === undefined ? 'handshake' : 'sid'}`,
    );
    next();
  };
}

/** Opens a raw WebSocket; resolves with the 101 answer's headers and the open packet. */
function openWs(url: string): Promise<{ headers: Record<string, unknown>; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let headers: Record<string, unknown> = {};
    ws.once('upgrade', (res) => (headers = res.headers));
    ws.once('message', (data: Buffer) => {
      parseOpenPacket(data.toString());
      resolve({ headers, ws });
    });
    ws.once('error', reject);
  });
}

describe('engine middlewares (engine.use)', function () {
  it(
    'run in order on the polling handshake, POST and GET, and on the upgrade',
    withEngine({}, async (h) => {
      const seen: string[] = [];
      h.engine.use(recorder(seen, 'a')).use(recorder(seen, 'b'));
      const polling = await RawPolling.open(h.base);
      expect((await polling.post('4hello')).status).to.equal(200);
      expect(await polling.packets()).to.deep.equal(['4hello']);
      const { ws } = await openWs(h.wsUrl());
      ws.close();
      await polling.post('1');
      expect(seen).to.deep.equal([
        'a:GET:handshake',
        'b:GET:handshake',
        'a:POST:sid',
        'b:POST:sid',
        'a:GET:sid',
        'b:GET:sid',
        'a:GET:handshake',
        'b:GET:handshake',
        'a:POST:sid',
        'b:POST:sid',
      ]);
    }),
  );

  it(
    'do not run on CORS preflights (they carry no cookies)',
    withEngine({ corsAllowedOrigins: '*' }, async (h) => {
      const seen: string[] = [];
      h.engine.use(recorder(seen, 'm'));
      const preflight = await rawRequest(`${h.base}?EIO=4&transport=polling`, {
        method: 'OPTIONS',
        headers: { origin: 'http://elsewhere.test', 'access-control-request-method': 'GET' },
      });
      expect(preflight.status).to.equal(204);
      expect(seen).to.deep.equal([]);
    }),
  );

  it(
    'refuse a polling request with next(error): a 4xx status or expose shows its message, anything else is a plain 403 reported to middlewareError',
    withEngine({}, async (h) => {
      const reported: unknown[] = [];
      h.engine.on('middlewareError', (error) => reported.push(error));
      h.engine.use((req, _res, next) => {
        const token = req.headers['x-token'];
        if (token === 'ok') return next();
        if (token === 'old')
          return next(Object.assign(new Error('token expired'), { status: 401 }));
        if (token === 'told')
          return next(Object.assign(new Error('ask an admin'), { expose: true }));
        next(new Error('ECONNREFUSED redis://admin:secret@10.0.3.4:6379'));
      });
      const refused = async (token?: string): Promise<[number, unknown]> => {
        const res = await rawRequest(`${h.base}?EIO=4&transport=polling`, {
          headers: token === undefined ? {} : { 'x-token': token },
        });
        return [res.status, jsonBody(res)];
      };
      expect(await refused()).to.deep.equal([403, { code: 4, message: 'Forbidden' }]);
      expect(reported.map((e) => (e as Error).message)).to.deep.equal([
        'ECONNREFUSED redis://admin:secret@10.0.3.4:6379',
      ]);
      expect(await refused('old')).to.deep.equal([401, { code: 4, message: 'token expired' }]);
      expect(await refused('told')).to.deep.equal([403, { code: 4, message: 'ask an admin' }]);
      expect(reported).to.have.length(1);
      const ok = await RawPolling.open(h.base, { 'x-token': 'ok' });
      expect(h.engine.clientsCount).to.equal(1);
      await rawRequest(ok.url, { method: 'POST', headers: { 'x-token': 'ok' }, body: '1' });
    }),
  );

  it(
    'refuse an upgrade with next(error), a throw or a rejected promise, and keep serving',
    withEngine({}, async (h) => {
      h.engine.on('middlewareError', () => undefined);
      const reasons: Record<string, () => unknown> = {
        throw: () => {
          throw Object.assign(new Error('thrown'), { statusCode: 400 });
        },
        reject: () => Promise.reject(new Error('rejected')),
      };
      h.engine.use((req, _res, next) => {
        const how = req._query?.how;
        if (how === 'next') return next(Object.assign(new Error('no websockets'), { status: 403 }));
        if (how !== undefined) return (reasons[how] as () => unknown)();
        next();
      });
      expect(await refusedUpgrade(h.wsUrl('&how=next'))).to.deep.equal({
        status: 403,
        body: { code: 4, message: 'no websockets' },
      });
      expect(await refusedUpgrade(h.wsUrl('&how=throw'))).to.deep.equal({
        status: 400,
        body: { code: 4, message: 'thrown' },
      });
      expect(await refusedUpgrade(h.wsUrl('&how=reject'))).to.deep.equal({
        status: 403,
        body: { code: 4, message: 'Forbidden' },
      });
      const { ws } = await openWs(h.wsUrl());
      ws.close();
    }),
  );

  it(
    'drop a polling request whose client went away while an async middleware ran, and keep the session whole',
    withEngine({}, async (h) => {
      let slow = false;
      h.engine.use((_req, _res, next) => {
        if (slow) setTimeout(next, 150);
        else next();
      });
      const polling = await RawPolling.open(h.base);
      const conn = await h.connections.next('the connection');
      slow = true;
      for (const method of ['GET', 'POST']) {
        const aborted = httpRequest(polling.url, { method, agent: false });
        aborted.on('error', () => undefined);
        aborted.end(method === 'POST' ? '4lost' : undefined);
        await delay(30);
        aborted.destroy();
      }
      await delay(250);
      slow = false;
      conn.send('after the aborts');
      expect(await polling.packets()).to.deep.equal(['4after the aborts']);
      expect((await polling.post('4next')).status).to.equal(200);
      expect(conn.phase).to.equal('connected');
      await polling.post('1');
    }),
  );

  it(
    'put a session cookie express-session sets as the answer starts into the 101',
    withEngine({}, async (h) => {
      h.engine.use(session({ secret: 's', resave: false, saveUninitialized: true }));
      const { headers, ws } = await openWs(h.wsUrl());
      ws.close();
      expect(String(headers['set-cookie'])).to.match(/^connect\.sid=s%3A/);
    }),
  );

  it(
    'keep a middleware’s cookie beside the engine’s own session cookie',
    withEngine({ cookie: 'io' }, async (h) => {
      h.engine.use((_req, res, next) => {
        res.setHeader('Set-Cookie', 'session=abc; Path=/');
        next();
      });
      const polling = await RawPolling.open(h.base);
      const cookies = polling.handshakeResponse.headers['set-cookie'] ?? [];
      expect(cookies[0]).to.equal('session=abc; Path=/');
      expect(cookies[1]).to.match(/^io=/);
      await polling.post('1');
    }),
  );

  it(
    'upgrade only on the endpoint itself, not on the served files or routes beside it',
    withEngine({}, async (h) => {
      h.engine.route('/status', (_req, res) => res.end('page'));
      for (const path of ['/status', '/engine.io/elsewhere']) {
        const url = `ws://127.0.0.1:${h.port}${path}?EIO=4&transport=websocket`;
        const error = await new Promise<Error>((resolve) => {
          const ws = new WebSocket(url);
          ws.on('error', resolve);
          ws.on('open', () => resolve(new Error('opened')));
        });
        expect(error.message, path).to.not.equal('opened');
      }
      expect(h.engine.clientsCount).to.equal(0);
    }),
  );

  it(
    'let a middleware answer a polling request or an upgrade itself',
    withEngine({}, async (h) => {
      h.engine.use((req, res, next) => {
        if (req._query?.login === undefined) return next();
        res.writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Basic' });
        res.end('log in first');
      });
      const polling = await rawRequest(`${h.base}?EIO=4&transport=polling&login=1`);
      expect([polling.status, polling.text]).to.deep.equal([401, 'log in first']);
      expect(await refusedUpgrade(h.wsUrl('&login=1'))).to.deep.equal({
        status: 401,
        body: 'log in first',
      });
      expect(h.engine.clientsCount).to.equal(0);
    }),
  );

  it(
    'carry headers a middleware sets into the polling answer and the 101 answer',
    withEngine({}, async (h) => {
      h.engine.use((_req, res, next) => {
        res.setHeader('Set-Cookie', 'session=abc; Path=/; HttpOnly');
        res.setHeader('X-Served-By', 'middleware');
        next();
      });
      const polling = await RawPolling.open(h.base);
      expect(polling.handshakeResponse.headers['set-cookie']).to.deep.equal([
        'session=abc; Path=/; HttpOnly',
      ]);
      await polling.post('1');
      const { headers, ws } = await openWs(h.wsUrl());
      ws.close();
      expect(headers['set-cookie']).to.deep.equal(['session=abc; Path=/; HttpOnly']);
      expect(headers['x-served-by']).to.equal('middleware');
    }),
  );

  it(
    'run a handshakeOnly middleware on handshakes only',
    withEngine({}, async (h) => {
      const seen: string[] = [];
      h.engine.use(handshakeOnly(recorder(seen, 'h')));
      const polling = await RawPolling.open(h.base);
      await polling.post('4x');
      await polling.packets();
      await polling.post('1');
      expect(seen).to.deep.equal(['h:GET:handshake']);
    }),
  );

  it('keep the handshake request, as the middlewares left it, on the connection', async function () {
    const h = await EngineHarness.start();
    try {
      h.engine.use((req, _res, next) => {
        Object.assign(req, { user: { name: 'alice' } });
        next();
      });
      const polling = await RawPolling.open(h.base);
      const conn = await h.connections.next('the connection');
      expect(conn.id).to.equal(polling.sid);
      expect((conn.request.http as { user?: unknown }).user).to.deep.equal({ name: 'alice' });
      expect(conn.request.http?.url).to.match(/transport=polling/);
    } finally {
      await h.stop();
    }
  });
});
