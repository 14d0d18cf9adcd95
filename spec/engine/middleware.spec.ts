/**
 * `engine.use()` middlewares (socket.io 4.6+'s `io.engine.use` contract), with raw
 * HTTP and raw WebSockets: they run in order on every polling request and every
 * upgrade, not on CORS preflights; `next(error)` refuses with the error's message
 * and status; a middleware may answer itself; headers it sets reach the answer
 * (the 101 of an upgrade too); `handshakeOnly` skips requests that carry a sid;
 * the connection keeps the handshake request as the middlewares left it.
 */
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { handshakeOnly } from '../../lib/index.js';
import type { EngineMiddleware, EngineRequest } from '../../lib/index.js';
import { EngineHarness, withEngine } from '../helpers/engine.js';
import {
  RawPolling,
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
    'refuse a polling request with next(error): the error’s status (403 without one) and message',
    withEngine({}, async (h) => {
      h.engine.use((req, _res, next) => {
        const token = req.headers['x-token'];
        if (token === 'ok') return next();
        if (token === undefined) return next(new Error('who are you?'));
        next(Object.assign(new Error('token expired'), { status: 401 }));
      });
      const anonymous = await rawRequest(`${h.base}?EIO=4&transport=polling`);
      expect(anonymous.status).to.equal(403);
      expect(jsonBody(anonymous)).to.deep.equal({ code: 4, message: 'who are you?' });
      const expired = await rawRequest(`${h.base}?EIO=4&transport=polling`, {
        headers: { 'x-token': 'old' },
      });
      expect(expired.status).to.equal(401);
      expect(jsonBody(expired)).to.deep.equal({ code: 4, message: 'token expired' });
      const ok = await RawPolling.open(h.base, { 'x-token': 'ok' });
      expect(ok.sid).to.be.a('string');
      expect(h.engine.clientsCount).to.equal(1);
      await rawRequest(ok.url, { method: 'POST', headers: { 'x-token': 'ok' }, body: '1' });
    }),
  );

  it(
    'refuse an upgrade with next(error), a throw or a rejected promise, and keep serving',
    withEngine({}, async (h) => {
      const reasons: Record<string, () => unknown> = {
        next: () => Promise.resolve(),
        throw: () => {
          throw Object.assign(new Error('thrown'), { statusCode: 400 });
        },
        reject: () => Promise.reject(new Error('rejected')),
      };
      h.engine.use((req, _res, next) => {
        const how = req._query?.how;
        if (how === 'next') return next(new Error('no websockets for you'));
        if (how !== undefined) return (reasons[how] as () => unknown)();
        next();
      });
      expect(await refusedUpgrade(h.wsUrl('&how=next'))).to.deep.equal({
        status: 403,
        body: { code: 4, message: 'no websockets for you' },
      });
      expect(await refusedUpgrade(h.wsUrl('&how=throw'))).to.deep.equal({
        status: 400,
        body: { code: 4, message: 'thrown' },
      });
      expect(await refusedUpgrade(h.wsUrl('&how=reject'))).to.deep.equal({
        status: 403,
        body: { code: 4, message: 'rejected' },
      });
      const { ws } = await openWs(h.wsUrl());
      ws.close();
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
      expect(conn.request.http.url).to.match(/transport=polling/);
    } finally {
      await h.stop();
    }
  });
});
