/**
 * The served client bundle (`serveClient`, default true): the installed
 * socket.io-client's browser files beside the endpoint, byte for byte, with
 * their content types and ETag revalidation (304); none with
 * `serveClient: false`; under a custom `path` when one is set.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SocketIO } from '../../lib/index.js';
import type { SocketIOOptions } from '../../lib/index.js';
import { REPO_ROOT } from '../helpers/browser.js';
import { rawRequest } from '../helpers/raw-engine.js';

const CLIENT_DIST = join(REPO_ROOT, 'node_modules', 'socket.io-client', 'dist');

const FILES = [
  { name: 'socket.io.js', type: 'application/javascript; charset=utf-8' },
  { name: 'socket.io.min.js', type: 'application/javascript; charset=utf-8' },
  { name: 'socket.io.min.js.map', type: 'application/json; charset=utf-8' },
] as const;

describe('served client bundle (serveClient)', function () {
  const servers: SocketIO[] = [];

  async function serve(options: SocketIOOptions = {}): Promise<string> {
    const io = new SocketIO(options);
    servers.push(io);
    const { port } = await io.run(undefined, { host: '127.0.0.1', port: 0 });
    return `http://127.0.0.1:${port}`;
  }

  afterEach(async function () {
    await Promise.all(servers.splice(0).map((io) => io.stop()));
  });

  for (const file of FILES) {
    it(`serves /socket.io/${file.name}: the installed file, ${file.type}, with an ETag`, async function () {
      const origin = await serve();
      const expected = await readFile(join(CLIENT_DIST, file.name));
      const res = await rawRequest(`${origin}/socket.io/${file.name}`);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal(file.type);
      expect(res.body.equals(expected), 'the body is the installed file').to.equal(true);
      expect(res.headers['content-length']).to.equal(String(expected.length));
      expect(res.headers.etag).to.match(/^"[^"]+"$/);
      expect(res.headers['cache-control']).to.equal('public, max-age=3600');
    });

    it(`answers 304 for /socket.io/${file.name} when If-None-Match holds its ETag`, async function () {
      const origin = await serve();
      const first = await rawRequest(`${origin}/socket.io/${file.name}`);
      const etag = first.headers.etag;
      expect(etag).to.be.a('string');
      const again = await rawRequest(`${origin}/socket.io/${file.name}`, {
        headers: { 'If-None-Match': String(etag) },
      });
      expect(again.status).to.equal(304);
      expect(again.body.length).to.equal(0);
      expect(again.headers.etag).to.equal(etag);
      // A stale ETag gets the file again.
      const stale = await rawRequest(`${origin}/socket.io/${file.name}`, {
        headers: { 'If-None-Match': '"stale"' },
      });
      expect(stale.status).to.equal(200);
      expect(stale.body.equals(first.body)).to.equal(true);
    });
  }

  it('gives each file its own ETag, the same on every server', async function () {
    const [a, b] = [await serve(), await serve()];
    const tags = await Promise.all(
      FILES.map(async ({ name }) => {
        const [x, y] = await Promise.all([
          rawRequest(`${a}/socket.io/${name}`),
          rawRequest(`${b}/socket.io/${name}`),
        ]);
        expect(x.headers.etag).to.equal(y.headers.etag);
        return x.headers.etag;
      }),
    );
    expect(new Set(tags).size).to.equal(FILES.length);
  });

  it('answers 404 for the bundle with serveClient: false, and still serves Socket.IO', async function () {
    const origin = await serve({ serveClient: false });
    for (const { name } of FILES) {
      const res = await rawRequest(`${origin}/socket.io/${name}`);
      expect(res.status, name).to.equal(404);
    }
    const handshake = await rawRequest(`${origin}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).to.equal(200);
    expect(handshake.text.startsWith('0{"sid":')).to.equal(true);
  });

  it('serves the bundle under a custom path', async function () {
    const origin = await serve({ path: 'custom' });
    const expected = await readFile(join(CLIENT_DIST, 'socket.io.js'));
    const res = await rawRequest(`${origin}/custom/socket.io.js`);
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/javascript; charset=utf-8');
    expect(res.body.equals(expected)).to.equal(true);
    const min = await rawRequest(`${origin}/custom/socket.io.min.js`);
    expect(min.status).to.equal(200);
    const old = await rawRequest(`${origin}/socket.io/socket.io.js`);
    expect(old.status).to.equal(404);
  });

  it('answers 404 for a file next to the bundle that it does not serve', async function () {
    const origin = await serve();
    const res = await rawRequest(`${origin}/socket.io/package.json`);
    expect(res.status).to.equal(404);
    expect(res.text).to.not.include('socket.io-client');
  });
});
