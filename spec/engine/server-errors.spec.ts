/**
 * Misbehaving Engine.IO clients over raw HTTP and raw WebSocket: every protocol
 * error code, oversize bodies and frames, overlapping GETs, malformed payloads.
 * After each bad client, a well-behaved one on the same server still works.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { closeOf, withEngine } from '../helpers/engine.js';
import type { EngineHarness } from '../helpers/engine.js';
import {
  delay,
  jsonBody,
  parseOpenPacket,
  rawRequest,
  refusedUpgrade,
  waitFor,
} from '../helpers/raw-engine.js';
import type { RawWs } from '../helpers/raw-engine.js';
import type { EngineConnection } from '../../lib/index.js';

const ERRORS = {
  transport: { code: 0, message: 'Transport unknown' },
  sid: { code: 1, message: 'Session ID unknown' },
  handshake: { code: 2, message: 'Bad handshake method' },
  request: { code: 3, message: 'Bad request' },
  forbidden: { code: 4, message: 'Forbidden' },
  version: { code: 5, message: 'Unsupported protocol version' },
} as const;

interface HttpCase {
  readonly title: string;
  readonly query: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly status: number;
  readonly error: { code: number; message: string };
}

const HTTP_CASES: readonly HttpCase[] = [
  {
    title: 'an unknown transport',
    query: 'EIO=4&transport=flash',
    status: 400,
    error: ERRORS.transport,
  },
  { title: 'a missing transport', query: 'EIO=4', status: 400, error: ERRORS.transport },
  {
    title: 'an unknown sid',
    query: 'EIO=4&transport=polling&sid=nope',
    status: 400,
    error: ERRORS.sid,
  },
  {
    title: 'a POST without sid',
    query: 'EIO=4&transport=polling',
    method: 'POST',
    body: '4hi',
    status: 400,
    error: ERRORS.handshake,
  },
  {
    title: 'a PUT without sid',
    query: 'EIO=4&transport=polling',
    method: 'PUT',
    body: '4hi',
    status: 400,
    error: ERRORS.handshake,
  },
  {
    title: 'a WebSocket transport on a plain GET',
    query: 'EIO=4&transport=websocket',
    status: 400,
    error: ERRORS.request,
  },
  {
    title: 'a cross-origin GET (same-origin CORS)',
    query: 'EIO=4&transport=polling',
    headers: { Origin: 'http://evil.example' },
    status: 403,
    error: ERRORS.forbidden,
  },
  { title: 'EIO=3', query: 'EIO=3&transport=polling', status: 400, error: ERRORS.version },
  { title: 'a missing EIO', query: 'transport=polling', status: 400, error: ERRORS.version },
];

interface UpgradeCase {
  readonly title: string;
  readonly query: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly error: { code: number; message: string };
}

const UPGRADE_CASES: readonly UpgradeCase[] = [
  {
    title: 'an unknown transport',
    query: 'EIO=4&transport=flash',
    status: 400,
    error: ERRORS.transport,
  },
  {
    title: 'an unknown sid',
    query: 'EIO=4&transport=websocket&sid=nope',
    status: 400,
    error: ERRORS.sid,
  },
  {
    title: 'a polling transport',
    query: 'EIO=4&transport=polling',
    status: 400,
    error: ERRORS.request,
  },
  {
    title: 'a cross-origin request (same-origin CORS)',
    query: 'EIO=4&transport=websocket',
    headers: { Origin: 'http://evil.example' },
    status: 403,
    error: ERRORS.forbidden,
  },
  { title: 'EIO=3', query: 'EIO=3&transport=websocket', status: 400, error: ERRORS.version },
];

/** A WebSocket session opened by hand, with its open packet read. */
async function wsSession(h: EngineHarness): Promise<{ ws: RawWs; conn: EngineConnection }> {
  const ws = h.rawWs(h.wsUrl());
  parseOpenPacket(String(await ws.messages.next('the open packet')));
  return { ws, conn: await h.connections.next('a connection') };
}

describe('EngineServer errors', function () {
  for (const c of HTTP_CASES) {
    it(
      `answers ${c.title} with ${c.status} code ${c.error.code}`,
      withEngine({}, async (h) => {
        const res = await rawRequest(`${h.base}?${c.query}`, {
          method: c.method ?? 'GET',
          headers: c.headers ?? {},
          body: c.body,
        });
        expect(res.status).to.equal(c.status);
        expect(res.headers['content-type']).to.match(/^application\/json/);
        expect(jsonBody(res)).to.deep.equal(c.error);
        expect(h.engine.clientsCount).to.equal(0);
        await h.expectHealthy();
      }),
    );
  }

  it(
    'answers a PUT on a live session with 400 code 3',
    withEngine({}, async (h) => {
      const polling = await h.rawPolling();
      const res = await rawRequest(polling.url, { method: 'PUT', body: '4hi' });
      expect(res.status).to.equal(400);
      expect(jsonBody(res)).to.deep.equal(ERRORS.request);
      await h.expectHealthy();
    }),
  );

  for (const c of UPGRADE_CASES) {
    it(
      `refuses a WebSocket upgrade with ${c.title}: HTTP ${c.status} code ${c.error.code}`,
      withEngine({}, async (h) => {
        let connections = 0;
        h.engine.on('connection', () => connections++);
        const refusal = await refusedUpgrade(
          `ws://127.0.0.1:${h.port}/socket.io/?${c.query}`,
          c.headers,
        );
        expect(refusal).to.deep.equal({ status: c.status, body: c.error });
        expect(connections).to.equal(0);
        expect(h.engine.clientsCount).to.equal(0);
        await h.expectHealthy();
      }),
    );
  }

  it(
    'refuses new sessions with 503 once close() has begun, keeps answering requests, and serves again once attached',
    withEngine({}, async (h) => {
      const polling = await h.rawPolling();
      const conn = await h.connections.next('a connection');
      const closed = closeOf(conn);
      const pending = polling.packets();
      expect(await waitFor(() => conn.transport.writable)).to.be.true;
      h.engine.close();
      expect(await closed).to.equal('server shutdown');
      // The pending GET of the closing session gets its close packet.
      expect(await pending).to.deep.equal(['1']);
      const shuttingDown = { code: 3, message: 'Server shutting down' };
      const handshake = await rawRequest(`${h.base}?EIO=4&transport=polling`);
      expect(handshake.status).to.equal(503);
      expect(jsonBody(handshake)).to.deep.equal(shuttingDown);
      expect(
        await refusedUpgrade(`ws://127.0.0.1:${h.port}/socket.io/?EIO=4&transport=websocket`),
      ).to.deep.equal({ status: 503, body: shuttingDown });
      expect(h.engine.clientsCount).to.equal(0);
      // Attached to a server again (io.run() after io.stop()), it takes new sessions.
      const again = h.engine.attach(createServer());
      await new Promise<void>((resolve) => again.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = again.address() as AddressInfo;
        const open = await rawRequest(
          `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`,
        );
        expect(open.status).to.equal(200);
        expect(h.engine.clientsCount).to.equal(1);
      } finally {
        h.engine.close();
        again.closeAllConnections();
        await new Promise((resolve) => again.close(resolve));
      }
    }),
  );

  it(
    'answers an oversize POST with 413 and closes the session',
    withEngine({ maxHttpBufferSize: 1000 }, async (h) => {
      const polling = await h.rawPolling();
      const conn = await h.connections.next('a connection');
      const atLimit = await polling.post('4' + 'a'.repeat(999));
      expect(atLimit.status).to.equal(200);
      expect(await polling.packets()).to.deep.equal(['4' + 'a'.repeat(999)]);
      const pending = polling.packets();
      expect(await waitFor(() => conn.transport.writable)).to.be.true;
      const reason = closeOf(conn);
      const res = await polling.post('4' + 'b'.repeat(1000));
      expect(res.status).to.equal(413);
      expect(await reason).to.equal('payload too large');
      expect(await pending).to.deep.equal(['1']);
      expect(await h.drained()).to.be.true;
      await h.expectHealthy();
    }),
  );

  it(
    'closes a WebSocket that sends a frame over maxHttpBufferSize',
    withEngine({ maxHttpBufferSize: 1000 }, async (h) => {
      const { ws, conn } = await wsSession(h);
      ws.send('4' + 'a'.repeat(999));
      expect(await ws.messages.next('the echo')).to.equal('4' + 'a'.repeat(999));
      const reason = closeOf(conn);
      ws.send('4' + 'b'.repeat(1000));
      expect((await ws.closed).code).to.equal(1009);
      expect(await reason).to.equal('payload too large');
      expect(await h.drained()).to.be.true;
      await h.expectHealthy();
    }),
  );

  it(
    'refuses an overlapping GET with 400 and closes the session, sending 1 to the first GET',
    withEngine({}, async (h) => {
      const polling = await h.rawPolling();
      const conn = await h.connections.next('a connection');
      const first = polling.get();
      expect(await waitFor(() => conn.transport.writable)).to.be.true;
      const reason = closeOf(conn);
      const second = await polling.get();
      expect(second.status).to.equal(400);
      expect(jsonBody(second)).to.deep.equal(ERRORS.request);
      const firstRes = await first;
      expect(firstRes.status).to.equal(200);
      expect(firstRes.text).to.equal('1');
      expect(await reason).to.equal('overlapping request');
      expect(await h.drained()).to.be.true;
      await h.expectHealthy();
    }),
  );

  it(
    'refuses an overlapping POST with 400 code 3 and closes the session',
    withEngine({}, async (h) => {
      const polling = await h.rawPolling();
      const conn = await h.connections.next('a connection');
      const held = httpRequest(polling.url, {
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': '10' },
      });
      held.on('error', () => undefined);
      held.on('response', (res) => res.resume());
      held.write('4hel');
      // Give the server time to take the first POST's headers.
      await delay(50);
      const reason = closeOf(conn);
      const second = await polling.post('4second');
      expect(second.status).to.equal(400);
      expect(jsonBody(second)).to.deep.equal(ERRORS.request);
      expect(await reason).to.equal('overlapping request');
      held.destroy();
      await h.expectHealthy();
    }),
  );

  it(
    'refuses a POST with more than maxPacketsPerPayload packets',
    withEngine({ maxPacketsPerPayload: 3 }, async (h) => {
      const polling = await h.rawPolling();
      const conn = await h.connections.next('a connection');
      const messages: unknown[] = [];
      conn.on('message', (m) => messages.push(m));
      expect((await polling.post(['4a', '4b', '4c'].join('\x1e'))).status).to.equal(200);
      expect(messages).to.deep.equal(['a', 'b', 'c']);
      expect(await polling.packets()).to.deep.equal(['4a', '4b', '4c']);
      const reason = closeOf(conn);
      const res = await polling.post(['4d', '4e', '4f', '4g'].join('\x1e'));
      expect(res.status).to.equal(400);
      expect(await reason).to.equal('parse error');
      expect(messages).to.have.length(3);
      await h.expectHealthy();
    }),
  );

  for (const [title, payload] of [
    ['an unknown packet type', '9garbage'],
    ['an empty body', ''],
    ['invalid base64', 'b@@@@'],
    ['an empty packet after a separator', '4ok\x1e'],
  ] as const) {
    it(
      `answers a POST with ${title} with 400 and closes the session with 'parse error'`,
      withEngine({}, async (h) => {
        const polling = await h.rawPolling();
        const conn = await h.connections.next('a connection');
        const pending = polling.packets();
        expect(await waitFor(() => conn.transport.writable)).to.be.true;
        const reason = closeOf(conn);
        const res = await polling.post(payload);
        expect(res.status).to.equal(400);
        expect(jsonBody(res)).to.deep.equal(ERRORS.request);
        expect(await reason).to.equal('parse error');
        expect(await pending).to.deep.equal(['1']);
        expect(await h.drained()).to.be.true;
        await h.expectHealthy();
      }),
    );
  }

  for (const [title, frame] of [
    ['an unknown packet type', 'x-garbage'],
    ['an empty text frame', ''],
    ['an open packet from the client', '0{}'],
  ] as const) {
    it(
      `closes a WebSocket that sends ${title} with 'parse error'`,
      withEngine({}, async (h) => {
        const { ws, conn } = await wsSession(h);
        const reason = closeOf(conn);
        ws.send(frame);
        await ws.closed;
        expect(await reason).to.equal('parse error');
        expect(await h.drained()).to.be.true;
        await h.expectHealthy();
      }),
    );
  }

  it(
    'keeps other sessions alive while one client misbehaves',
    withEngine({}, async (h) => {
      const good = await h.openClient({ transports: ['websocket'] });
      await h.connections.next('the good connection');
      const { ws } = await wsSession(h);
      ws.send('garbage');
      await ws.closed;
      const polling = await h.rawPolling();
      await polling.post('9garbage');
      good.socket.send('unaffected');
      expect(await good.messages.next('the echo')).to.equal('unaffected');
      expect(h.engine.clientsCount).to.be.at.least(1);
    }),
  );
});
