/**
 * The HTTP side of the Engine.IO server: CORS (including WebSocket origins),
 * the session cookie, compressed polling responses, attach() and the path.
 */
import { createServer } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import { expect } from 'chai';
import { withEngine } from '../helpers/engine.js';
import {
  jsonBody,
  parseOpenPacket,
  rawRequest,
  refusedUpgrade,
  splitPayload,
} from '../helpers/raw-engine.js';

const FOREIGN = 'http://app.example';

describe('EngineServer over HTTP', function () {
  describe('CORS', function () {
    it(
      "answers any origin with Access-Control-Allow-Origin when corsAllowedOrigins is '*'",
      withEngine({ corsAllowedOrigins: '*' }, async (h) => {
        const polling = await h.rawPolling({ Origin: FOREIGN });
        const headers = polling.handshakeResponse.headers;
        expect(headers['access-control-allow-origin']).to.equal(FOREIGN);
        expect(headers['access-control-allow-credentials']).to.equal('true');
        const post = await rawRequest(polling.url, {
          method: 'POST',
          headers: { Origin: 'http://other.example' },
          body: '4hi',
        });
        expect(post.status).to.equal(200);
        expect(post.headers['access-control-allow-origin']).to.equal('http://other.example');
      }),
    );

    it(
      'answers listed origins and refuses others with 403 code 4',
      withEngine({ corsAllowedOrigins: [FOREIGN, 'http://b.example'] }, async (h) => {
        const polling = await h.rawPolling({ Origin: 'http://b.example' });
        expect(polling.handshakeResponse.headers['access-control-allow-origin']).to.equal(
          'http://b.example',
        );
        const refused = await rawRequest(`${h.base}?EIO=4&transport=polling`, {
          headers: { Origin: 'http://evil.example' },
        });
        expect(refused.status).to.equal(403);
        expect(jsonBody(refused)).to.deep.equal({ code: 4, message: 'Forbidden' });
      }),
    );

    for (const [title, options] of [
      ['a list', { corsAllowedOrigins: [FOREIGN] }],
      ['same-origin CORS', {}],
    ] as const) {
      it(
        `sends no Access-Control-Allow-* headers to a refused origin (${title})`,
        withEngine(options, async (h) => {
          const evil = { Origin: 'http://evil.example' };
          const get = await rawRequest(`${h.base}?EIO=4&transport=polling`, { headers: evil });
          const preflight = await rawRequest(`${h.base}?EIO=4&transport=polling`, {
            method: 'OPTIONS',
            headers: { ...evil, 'Access-Control-Request-Method': 'POST' },
          });
          for (const res of [get, preflight]) {
            expect(res.status).to.equal(403);
            expect(jsonBody(res)).to.deep.equal({ code: 4, message: 'Forbidden' });
            expect(res.headers).not.to.have.property('access-control-allow-origin');
            expect(res.headers).not.to.have.property('access-control-allow-credentials');
          }
        }),
      );
    }

    it(
      'turns CORS handling off with an empty list: any origin, no CORS headers',
      withEngine({ corsAllowedOrigins: [] }, async (h) => {
        const polling = await h.rawPolling({ Origin: FOREIGN });
        expect(polling.handshakeResponse.headers['access-control-allow-origin']).to.equal(
          undefined,
        );
        const ws = h.rawWs(h.wsUrl(), { Origin: FOREIGN });
        expect(String(await ws.messages.next('the open packet'))).to.match(/^0\{/);
      }),
    );

    it(
      'answers an OPTIONS preflight with 204 and the CORS headers',
      withEngine({ corsAllowedOrigins: [FOREIGN] }, async (h) => {
        const res = await rawRequest(`${h.base}?EIO=4&transport=polling`, {
          method: 'OPTIONS',
          headers: {
            Origin: FOREIGN,
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type',
          },
        });
        expect(res.status).to.equal(204);
        expect(res.headers['access-control-allow-origin']).to.equal(FOREIGN);
        expect(res.headers['access-control-allow-methods']).to.include('POST');
        expect(res.headers['access-control-allow-headers']).to.include('content-type');
        expect(res.body.length).to.equal(0);
      }),
    );

    it(
      'allows requests without an Origin and same-origin requests by default',
      withEngine({}, async (h) => {
        const bare = await h.rawPolling();
        expect(bare.handshakeResponse.headers['access-control-allow-origin']).to.equal(undefined);
        const same = await h.rawPolling({ Origin: h.origin });
        expect(same.handshake.sid).to.be.a('string');
        const foreign = await rawRequest(`${h.base}?EIO=4&transport=polling`, {
          headers: { Origin: FOREIGN },
        });
        expect(foreign.status).to.equal(403);
      }),
    );

    it(
      'refuses a cross-origin WebSocket by default',
      withEngine({}, async (h) => {
        const refusal = await refusedUpgrade(h.wsUrl(), { Origin: FOREIGN });
        expect(refusal).to.deep.equal({ status: 403, body: { code: 4, message: 'Forbidden' } });
        expect(h.engine.clientsCount).to.equal(0);
        const same = h.rawWs(h.wsUrl(), { Origin: h.origin });
        expect(String(await same.messages.next('the open packet'))).to.match(/^0\{/);
      }),
    );

    it(
      'accepts a cross-origin WebSocket when its origin is allowed',
      withEngine({ corsAllowedOrigins: [FOREIGN] }, async (h) => {
        const ws = h.rawWs(h.wsUrl(), { Origin: FOREIGN });
        const open = parseOpenPacket(String(await ws.messages.next('the open packet')));
        expect(open.upgrades).to.deep.equal([]);
        ws.send('4cross-origin');
        expect(await ws.messages.next('the echo')).to.equal('4cross-origin');
        const refusal = await refusedUpgrade(h.wsUrl(), { Origin: 'http://evil.example' });
        expect(refusal.status).to.equal(403);
      }),
    );
  });

  describe('cookie', function () {
    it(
      'sets the session cookie on the handshake',
      withEngine({ cookie: 'io' }, async (h) => {
        const polling = await h.rawPolling();
        expect(polling.handshakeResponse.headers['set-cookie']).to.deep.equal([
          `io=${polling.sid}; Path=/; HttpOnly; SameSite=Lax`,
        ]);
        const next = polling.packets();
        const conn = await h.connections.next('a connection');
        conn.send('no cookie here');
        expect(await next).to.deep.equal(['4no cookie here']);
      }),
    );

    it(
      'sets no cookie by default',
      withEngine({}, async (h) => {
        const polling = await h.rawPolling();
        expect(polling.handshakeResponse.headers['set-cookie']).to.equal(undefined);
      }),
    );
  });

  describe('compression', function () {
    const big = 'z'.repeat(3000);

    it(
      'gzips a polling response above compressionThreshold when the client accepts gzip',
      withEngine({ compressionThreshold: 1024 }, async (h) => {
        const polling = await h.rawPolling();
        const conn = await h.connections.next('a connection');
        conn.send(big);
        const res = await polling.get({ 'Accept-Encoding': 'gzip' });
        expect(res.status).to.equal(200);
        expect(res.headers['content-encoding']).to.equal('gzip');
        expect(Number(res.headers['content-length'])).to.equal(res.body.length);
        expect(res.body.length).to.be.below(big.length);
        expect(splitPayload(gunzipSync(res.body).toString('utf8'))).to.deep.equal(['4' + big]);

        conn.send(big);
        const deflated = await polling.get({ 'Accept-Encoding': 'deflate' });
        expect(deflated.headers['content-encoding']).to.equal('deflate');
        expect(inflateSync(deflated.body).toString('utf8')).to.equal('4' + big);

        conn.send('tiny');
        const small = await polling.get({ 'Accept-Encoding': 'gzip' });
        expect(small.headers['content-encoding']).to.equal(undefined);
        expect(small.text).to.equal('4tiny');

        conn.send(big);
        const plain = await polling.get();
        expect(plain.headers['content-encoding']).to.equal(undefined);
        expect(plain.text).to.equal('4' + big);
      }),
    );

    it(
      'leaves a response plain when every message in it was sent with compress: false, as engine.io does',
      withEngine({}, async (h) => {
        const polling = await h.rawPolling();
        const conn = await h.connections.next('a connection');
        conn.send(big, { compress: false });
        conn.send(big, { compress: false });
        const plain = await polling.get({ 'Accept-Encoding': 'gzip' });
        expect(plain.headers['content-encoding']).to.equal(undefined);
        expect(splitPayload(plain.text)).to.deep.equal(['4' + big, '4' + big]);

        // One message sent with the default is enough to compress the whole response.
        conn.send(big, { compress: false });
        conn.send('tiny');
        const mixed = await polling.get({ 'Accept-Encoding': 'gzip' });
        expect(mixed.headers['content-encoding']).to.equal('gzip');
        expect(splitPayload(gunzipSync(mixed.body).toString('utf8'))).to.deep.equal([
          '4' + big,
          '4tiny',
        ]);
      }),
    );

    it(
      "takes socket.io's httpCompression: { threshold, ...zlib options }",
      withEngine({ httpCompression: { threshold: 4000, level: 9 } }, async (h) => {
        const polling = await h.rawPolling();
        const conn = await h.connections.next('a connection');
        conn.send(big); // 3001 bytes: under this threshold
        const under = await polling.get({ 'Accept-Encoding': 'gzip' });
        expect(under.headers['content-encoding']).to.equal(undefined);
        conn.send(big + big);
        const over = await polling.get({ 'Accept-Encoding': 'deflate, gzip' });
        expect(over.headers['content-encoding']).to.equal('gzip');
        expect(gunzipSync(over.body).toString('utf8')).to.equal('4' + big + big);
      }),
    );

    it(
      'does not compress when httpCompression is false',
      withEngine({ httpCompression: false, compressionThreshold: 0 }, async (h) => {
        const polling = await h.rawPolling();
        const conn = await h.connections.next('a connection');
        conn.send(big);
        const res = await polling.get({ 'Accept-Encoding': 'gzip, deflate' });
        expect(res.headers['content-encoding']).to.equal(undefined);
        expect(res.text).to.equal('4' + big);
      }),
    );
  });

  describe('attach()', function () {
    it(
      'sends requests outside the path to the fallback listener',
      withEngine(
        {},
        async (h) => {
          const other = await rawRequest(`${h.origin}/hello?EIO=4&transport=polling`);
          expect(other.status).to.equal(200);
          expect(other.text).to.equal('fallback /hello?EIO=4&transport=polling');
          const prefixed = await rawRequest(`${h.origin}/socket.iox/?EIO=4&transport=polling`);
          expect(prefixed.text).to.match(/^fallback /);
          const client = await h.openClient({ transports: ['polling'] });
          client.socket.send('through the engine');
          expect(await client.messages.next('the echo')).to.equal('through the engine');
        },
        {
          fallback: (req, res) => {
            res.writeHead(200, { 'Content-Type': 'text/plain' });
            res.end(`fallback ${req.url ?? ''}`);
          },
        },
      ),
    );

    it(
      "keeps the server's existing request listeners for other paths",
      withEngine(
        {},
        async (h) => {
          const other = await rawRequest(`${h.origin}/status`);
          expect(other.text).to.equal('existing /status');
          const polling = await h.rawPolling();
          expect(polling.handshake.upgrades).to.deep.equal(['websocket']);
        },
        {
          server: createServer((req, res) => {
            res.writeHead(200, { 'Content-Type': 'text/plain' });
            res.end(`existing ${req.url ?? ''}`);
          }),
        },
      ),
    );

    it(
      'answers 404 outside the path when there is no other listener',
      withEngine({}, async (h) => {
        const res = await rawRequest(`${h.origin}/elsewhere`);
        expect(res.status).to.equal(404);
      }),
    );

    it(
      "serves on another path: path 'engine.io'",
      withEngine({ path: 'engine.io' }, async (h) => {
        expect(h.base).to.equal(`${h.origin}/engine.io/`);
        const polling = await h.rawPolling();
        expect(polling.sid).to.be.a('string');
        const client = await h.openClient({ transports: ['polling', 'websocket'] });
        await new Promise<void>((resolve) => client.socket.once('upgrade', () => resolve()));
        client.socket.send('on engine.io');
        expect(await client.messages.next('the echo')).to.equal('on engine.io');
        const old = await rawRequest(`${h.origin}/socket.io/?EIO=4&transport=polling`);
        expect(old.status).to.equal(404);
      }),
    );
  });
});
