/**
 * The opt-in live status page (`statusPage: { path, auth }`) in headless
 * Chromium: with the auth check satisfied it goes live and shows the connection
 * actors per phase, the clients per namespace and the rooms with their sizes
 * for the clients really connected, and follows them as they change; without
 * it the page answers 401 and its namespace refuses the connection; without an
 * auth check it refuses to run beyond loopback. A screenshot goes to
 * spec/artifacts/status.png.
 */
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { io as connect } from 'socket.io-client';
import { SocketIO, joinRoom } from '../../lib/index.js';
import {
  PNG_SIGNATURE,
  eventually,
  isolatedPage,
  launchChromium,
  screenshot,
  tableRows,
} from '../helpers/browser.js';
import type { IsolatedPage } from '../helpers/browser.js';
import { rawRequest } from '../helpers/raw-engine.js';
import { SioPeer, recordingLogger, within } from '../helpers/socketio.js';
import type { ClientOptions } from '../helpers/socketio.js';

const STATUS_NAMESPACE = '/socketio-status';

/** The part of a status update this spec reads. */
interface StatusSnapshot {
  readonly at: number;
  readonly asyncMode: string;
  readonly phases: { readonly closedLastMinute: number };
  readonly namespaces: Readonly<Record<string, number>>;
  readonly rooms: readonly { namespace: string; room: string; size: number }[];
  readonly load: { readonly queued: number; readonly busy: number };
}

function statusServer(): SocketIO {
  const io = new SocketIO({
    logger: recordingLogger(),
    statusPage: { path: '/status', auth: (req) => req.headers['x-status'] === 'ok' },
  });
  io.on('join', (room: string) => {
    joinRoom(room);
    return room;
  });
  io.on('ping me', () => 'pong');
  io.on('connect', () => undefined, { namespace: '/chat' });
  return io;
}

describe('live status page in Chromium', function () {
  this.timeout(30_000);
  let browser: Browser;
  let io: SocketIO;
  let origin: string;
  const peers: SioPeer[] = [];
  let viewer: IsolatedPage | undefined;
  /** Three clients on '/' (two in alpha, one in beta) and one on /chat, connected in `before`. */
  let a1: SioPeer;
  let a2: SioPeer;
  let b1: SioPeer;

  async function peer(nsp = '/', options: ClientOptions = {}): Promise<SioPeer> {
    const p = new SioPeer(
      connect(`${origin}${nsp}`, {
        forceNew: true,
        reconnection: false,
        transports: ['websocket'],
        ...options,
      }),
    );
    peers.push(p);
    await within(p.opened, `a client of ${nsp}`);
    return p;
  }

  before(async function () {
    io = statusServer();
    const [launched, address] = await Promise.all([
      launchChromium(),
      io.run(undefined, { host: '127.0.0.1', port: 0 }),
    ]);
    browser = launched;
    origin = `http://127.0.0.1:${address.port}`;
    [a1, a2, b1] = [await peer(), await peer(), await peer()];
    await peer('/chat');
    expect(await a1.emitAck('join', 'alpha')).to.deep.equal(['alpha']);
    expect(await a2.emitAck('join', 'alpha')).to.deep.equal(['alpha']);
    expect(await b1.emitAck('join', 'beta')).to.deep.equal(['beta']);
  });

  after(async function () {
    for (const p of peers) p.socket.disconnect();
    await viewer?.context.close();
    await browser?.close();
    await io?.stop();
  });

  it('feeds snapshots of the connected clients over its namespace to an authorised client', async function () {
    const watcher = await peer(STATUS_NAMESPACE, {
      transports: ['polling', 'websocket'],
      extraHeaders: { 'x-status': 'ok' },
    });
    try {
      const [snapshot] = (await watcher.next('status', 3000)) as [StatusSnapshot];
      expect(snapshot.asyncMode).to.equal('event-loop');
      expect(snapshot.namespaces).to.deep.equal({ '/': 3, '/chat': 1, [STATUS_NAMESPACE]: 1 });
      expect(snapshot.rooms).to.deep.equal([
        { namespace: '/', room: 'alpha', size: 2 },
        { namespace: '/', room: 'beta', size: 1 },
      ]);
      expect(snapshot.phases.closedLastMinute).to.equal(0);
      expect(snapshot.load).to.deep.equal({ queued: 0, busy: 0 });
      // Every second, another one.
      const [next] = (await watcher.next('status', 3000)) as [StatusSnapshot];
      expect(next.at).to.be.greaterThan(snapshot.at);
    } finally {
      watcher.socket.disconnect();
    }
  });

  it('shows the phases, namespaces and rooms of the connected clients, live', async function () {
    viewer = await isolatedPage(browser, { extraHTTPHeaders: { 'x-status': 'ok' } });
    const { page } = viewer;
    const response = await page.goto(`${origin}/status`);
    expect(response?.status()).to.equal(200);
    expect(response?.headers()['content-type']).to.equal('text/html; charset=utf-8');

    await eventually(
      'the page to go live',
      async () => ({
        text: await page.locator('#live').textContent(),
        className: await page.locator('#live').getAttribute('class'),
      }),
      (live) => live.text === 'live' && live.className === 'ok',
    );

    // Four engine connections for the clients, one for the page itself (over WebSocket once upgraded).
    const phases = await eventually(
      'the phase counts',
      () => tableRows(page, '#phases'),
      (rows) =>
        JSON.stringify(rows.slice(0, 3)) ===
        JSON.stringify([
          ['handshake', '0'],
          ['connected', '5'],
          ['upgrading', '0'],
        ]),
    );
    expect(phases.map(([name]) => name)).to.deep.equal([
      'handshake',
      'connected',
      'upgrading',
      'closed (last minute)',
    ]);
    const closedBefore = Number(new Map(phases).get('closed (last minute)'));

    const namespaces = await eventually(
      'the clients per namespace',
      async () => new Map(await tableRows(page, '#namespaces')),
      (rows) => rows.get('/') === '3' && rows.get(STATUS_NAMESPACE) === '1',
    );
    expect(namespaces.get('/chat')).to.equal('1');
    // The page's own socket, on the status namespace, is the only other one.
    expect([...namespaces.keys()].sort()).to.deep.equal(['/', '/chat', STATUS_NAMESPACE]);

    expect(await tableRows(page, '#rooms')).to.deep.equal([
      ['/ alpha', '2'],
      ['/ beta', '1'],
    ]);
    const scheduler = new Map(await tableRows(page, '#scheduler'));
    expect(scheduler.get('async mode')).to.equal('event-loop');
    expect(scheduler.get('queued')).to.match(/^\d+$/);
    expect(scheduler.get('busy workers')).to.match(/^\d+$/);
    expect(await page.locator('#rates').textContent()).to.match(/^in \d+\/s, out \d+\/s$/);

    // It follows changes: a fourth client joins beta, then an alpha client leaves.
    const b2 = await peer();
    expect(await b2.emitAck('join', 'beta')).to.deep.equal(['beta']);
    await eventually(
      'beta to grow to 2',
      () => tableRows(page, '#rooms'),
      (rows) =>
        JSON.stringify(rows) ===
        JSON.stringify([
          ['/ alpha', '2'],
          ['/ beta', '2'],
        ]),
    );
    a2.socket.disconnect();
    const after = await eventually(
      'alpha to shrink to 1 and the closed connection to be counted',
      async () => ({
        rooms: await tableRows(page, '#rooms'),
        phases: new Map(await tableRows(page, '#phases')),
        namespaces: new Map(await tableRows(page, '#namespaces')),
      }),
      (seen) =>
        seen.rooms.some(([r, n]) => r === '/ alpha' && n === '1') &&
        seen.phases.get('closed (last minute)') === String(closedBefore + 1),
    );
    expect(after.rooms).to.deep.equal([
      ['/ beta', '2'],
      ['/ alpha', '1'],
    ]);
    expect(after.phases.get('connected')).to.equal('5');
    expect(after.namespaces.get('/')).to.equal('3');

    // The chart has drawn points.
    const points = (await page.locator('#in').getAttribute('points')) ?? '';
    expect(points.split(' ').length).to.be.greaterThan(1);
  });

  it('writes a screenshot of the status page to spec/artifacts/status.png', async function () {
    const startedAt = Date.now();
    if (viewer === undefined) throw new Error('the status page was not opened');
    const shot = await screenshot(viewer.page, 'status.png');
    expect(shot.path.endsWith('spec/artifacts/status.png')).to.equal(true);
    expect(shot.bytes.subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
    expect(shot.bytes.length).to.be.greaterThan(5000);
    expect(shot.mtimeMs).to.be.at.least(startedAt - 1000);
  });

  it('answers 401 without the auth check satisfied, in the browser and over HTTP', async function () {
    const raw = await rawRequest(`${origin}/status`);
    expect(raw.status).to.equal(401);
    expect(raw.headers['www-authenticate']).to.equal('Basic realm="status"');
    expect(raw.text).to.not.include('socketio-actors status');

    const wrong = await rawRequest(`${origin}/status`, { headers: { 'x-status': 'nope' } });
    expect(wrong.status).to.equal(401);

    // Chromium gets the 401 with its Basic challenge; headless, it cannot prompt, so it
    // stops the navigation (ERR_INVALID_AUTH_CREDENTIALS) and shows nothing of the page.
    const stranger = await isolatedPage(browser);
    try {
      const statuses: number[] = [];
      stranger.page.on('response', (response) => statuses.push(response.status()));
      const navigation = await stranger.page.goto(`${origin}/status`).then(
        (response) => response?.status() ?? 0,
        (error: unknown) => String(error),
      );
      expect(statuses).to.deep.equal([401]);
      expect(String(navigation)).to.match(/^401$|ERR_INVALID_AUTH_CREDENTIALS/);
      expect(await stranger.page.locator('#live').count()).to.equal(0);
    } finally {
      await stranger.context.close();
    }
  });

  it('refuses its namespace to a client without the auth check satisfied', async function () {
    const intruder = new SioPeer(
      connect(`${origin}${STATUS_NAMESPACE}`, { forceNew: true, reconnection: false }),
    );
    peers.push(intruder);
    const error = await within(
      intruder.opened.then(
        () => undefined,
        (e: unknown) => e,
      ),
      'the refusal',
    );
    expect(error).to.be.instanceOf(Error);
    expect(intruder.socket.connected).to.equal(false);
    expect(intruder.inbox('status').items).to.deep.equal([]);
  });
});

describe('live status page beyond loopback', function () {
  it('refuses to run on 0.0.0.0 without an auth check, naming auth', async function () {
    const io = new SocketIO({ statusPage: { path: '/status' } });
    try {
      let failure: unknown;
      try {
        await io.run(undefined, { host: '0.0.0.0', port: 0 });
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(Error);
      expect((failure as Error).message).to.match(/auth/);
      expect((failure as Error).message).to.include('0.0.0.0');
      expect(() => io.address()).to.throw(/not running/);
    } finally {
      await io.stop();
    }
  });

  it('runs on loopback without an auth check', async function () {
    const open = new SocketIO({ statusPage: { path: '/status' } });
    try {
      const { port } = await open.run(undefined, { host: '127.0.0.1', port: 0 });
      const page = await rawRequest(`http://127.0.0.1:${port}/status`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include('socketio-actors status');
    } finally {
      await open.stop();
    }
  });
});
