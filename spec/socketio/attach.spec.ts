/**
 * Where a server attaches: `new SocketIO(server)` (http and https) serves from the
 * constructor on, `io.attach(server)` after it, `io.listen(port)` on a server of its
 * own, `io.run()` on the server given to the constructor; the status page is served
 * wherever the server is attached; `stop()` closes what it serves on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import type { ManagerOptions, SocketOptions } from 'socket.io-client';
import { SocketIO } from '../../lib/index.js';
import { within } from '../helpers/socketio.js';

/** Connects the official client and returns the ack of an `echo`. */
async function echo(
  url: string,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<unknown> {
  const socket = connect(url, { forceNew: true, reconnection: false, ...options });
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      }),
      `a connection to ${url}`,
    );
    return await within(socket.emitWithAck('echo', 'ok'), 'the echo ack');
  } finally {
    socket.disconnect();
  }
}

function listenOn(server: { listen: HttpServer['listen']; address(): unknown }): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** A throwaway self-signed certificate for 127.0.0.1, made with openssl. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'sio-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('attaching to the app’s server', function () {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async function () {
    for (const stop of stops.splice(0)) await stop();
  });

  function track(io: SocketIO): SocketIO {
    io.on('echo', (value: unknown) => value);
    stops.push(() => io.stop());
    return io;
  }

  it('serves /socket.io/ on an http.Server from the constructor on (no run())', async function () {
    const server = createServer((_req, res) => res.end('app page'));
    track(new SocketIO(server));
    const port = await listenOn(server);
    expect(await echo(`http://127.0.0.1:${port}`)).to.equal('ok');
    expect(await echo(`http://127.0.0.1:${port}`, { transports: ['websocket'] })).to.equal('ok');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).to.equal('app page');
  });

  it('serves /socket.io/ on an https.Server, WebSocket and polling', async function () {
    const server = createHttpsServer(selfSigned(), (_req, res) => res.end('secure page'));
    track(new SocketIO(server, { corsAllowedOrigins: '*' }));
    const port = await listenOn(server);
    const url = `https://127.0.0.1:${port}`;
    expect(await echo(url, { rejectUnauthorized: false })).to.equal('ok');
    expect(await echo(url, { rejectUnauthorized: false, transports: ['websocket'] })).to.equal(
      'ok',
    );
  });

  it('attaches after construction with io.attach(server)', async function () {
    const server = createServer((_req, res) => res.end('app page'));
    const io = track(new SocketIO({ pingInterval: 5 }));
    expect(io.attach(server)).to.equal(io);
    const port = await listenOn(server);
    expect(await echo(`http://127.0.0.1:${port}`)).to.equal('ok');
  });

  it('listens on a server of its own with io.listen(port, host)', async function () {
    const io = track(new SocketIO());
    const { port, host } = await io.listen(0, '127.0.0.1');
    expect(host).to.equal('127.0.0.1');
    expect(io.address().port).to.equal(port);
    expect(await echo(`http://127.0.0.1:${port}`)).to.equal('ok');
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).to.equal(404);
  });

  it('listens on the constructor’s server when run() gets no app', async function () {
    const server = createServer((_req, res) => res.end('app page'));
    const io = track(new SocketIO(server));
    const { port } = await io.run(undefined, { port: 0 });
    expect((server.address() as AddressInfo).port).to.equal(port);
    expect(await echo(`http://127.0.0.1:${port}`)).to.equal('ok');
  });

  it('closes and releases the server it was attached to on stop(), and attaches again', async function () {
    const server = createServer((_req, res) => res.end('app page'));
    const io = new SocketIO(server);
    io.on('echo', (value: unknown) => value);
    await listenOn(server);
    await io.stop();
    expect(server.listening).to.be.false;
    expect(server.listeners('upgrade')).to.have.length(0);
    io.attach(server);
    stops.push(() => io.stop());
    const port = await listenOn(server);
    expect(await echo(`http://127.0.0.1:${port}`)).to.equal('ok');
  });

  it('takes the app with initApp (Flask-SocketIO init_app): a server at once, a listener for run()', async function () {
    const server = createServer((_req, res) => res.end('app page'));
    track(new SocketIO()).initApp(server);
    const port = await listenOn(server);
    expect(await echo(`http://127.0.0.1:${port}`)).to.equal('ok');
    const listener = track(new SocketIO());
    listener.initApp((_req, res) => res.end('listener page'));
    const { port: second } = await listener.run(undefined, { port: 0 });
    expect(await echo(`http://127.0.0.1:${second}`)).to.equal('ok');
    expect(await (await fetch(`http://127.0.0.1:${second}/`)).text()).to.equal('listener page');
  });

  it('serves the status page on a server it was attached to', async function () {
    const server = createServer((_req, res) => res.end('app page'));
    track(new SocketIO(server, { statusPage: { path: '/status' } }));
    const port = await listenOn(server);
    const page = await fetch(`http://127.0.0.1:${port}/status`);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.match(/<html/i);
    expect(await (await fetch(`http://127.0.0.1:${port}/other`)).text()).to.equal('app page');
  });
});
