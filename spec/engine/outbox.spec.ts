import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { expect } from 'chai';
import { EngineServer, VirtualClock } from '../../lib/index.js';
import type { EngineConnection } from '../../lib/index.js';
import { closeOf, EngineHarness } from '../helpers/engine.js';
import { RawPolling } from '../helpers/raw-engine.js';

/** Opens a WebSocket by hand and then never reads from it (a client that stopped reading). */
async function stalledWebSocket(port: number, path: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(
    `GET ${path}?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  return socket;
}

describe('bounded outbox', function () {
  const HIGH_WATER = 64 * 1024;

  it('closes a polling client that stops collecting with "outbox overflow", with the outbox never past the mark', async function () {
    const h = await EngineHarness.start({ outboxHighWaterMark: HIGH_WATER }, { echo: false });
    try {
      const client = await RawPolling.open(h.base);
      const conn = await h.connections.next('the connection');
      const closed = closeOf(conn);
      const message = 'x'.repeat(1000);
      let peak = 0;
      for (let i = 0; i < 1000 && conn.phase !== 'closed'; i++) {
        conn.send(message);
        peak = Math.max(peak, conn.outboxBytes);
      }
      expect(await closed).to.equal('outbox overflow');
      expect(peak).to.be.at.most(HIGH_WATER);
      expect(conn.outboxBytes).to.equal(0);
      expect(client.sid).to.equal(conn.id);
      // Nothing lingers for a client that stopped collecting: the session is gone at once.
      expect(h.engine.clientsCount).to.equal(0);
      expect((await client.get()).status).to.equal(400);
    } finally {
      await h.stop();
    }
  });

  it('closes a WebSocket client that stops reading, before its buffers grow without end', async function () {
    this.timeout(20000);
    const h = await EngineHarness.start({ outboxHighWaterMark: 1024 * 1024 }, { echo: false });
    const socket = await stalledWebSocket(h.port, `/${h.engine.options.path}/`);
    try {
      const conn: EngineConnection = await h.connections.next('the connection');
      const closed = closeOf(conn);
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      // Send at most 256 MiB; a server without a bound would buffer all of it.
      while (conn.phase !== 'closed' && sent < 256 * 1024 * 1024) {
        conn.send(chunk);
        sent += chunk.length;
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await closed).to.equal('outbox overflow');
      expect(sent).to.be.below(256 * 1024 * 1024);
    } finally {
      socket.destroy();
      await h.stop();
    }
  });
});

describe('heartbeat on a virtual clock', function () {
  it('closes a silent polling client with "ping timeout" after 25 s + 20 s of virtual time, in well under a second', async function () {
    const clock = new VirtualClock();
    const h = await EngineHarness.start({ clock }, { echo: false });
    const engine: EngineServer = h.engine;
    try {
      await RawPolling.open(h.base);
      const conn = await h.connections.next('the connection');
      const closed = closeOf(conn);
      const started = performance.now();
      clock.advance(25_000);
      expect(conn.phase).to.equal('connected');
      clock.advance(20_000);
      expect(await closed).to.equal('ping timeout');
      expect(performance.now() - started).to.be.below(1000);
      expect(clock.now()).to.equal(45_000);
      expect(clock.pending, 'timers left after close').to.equal(0);
      expect(engine.clientsCount).to.equal(0);
    } finally {
      await h.stop();
    }
  });

  it('drives every connection from the server clock, across the actor systems they share (150 clients)', async function () {
    this.timeout(20000);
    const clock = new VirtualClock();
    const h = await EngineHarness.start({ clock }, { echo: false });
    try {
      // More than two systems' worth (64 actors each): every one must run on this clock.
      const count = 150;
      const clients = await Promise.all(
        Array.from({ length: count }, () => RawPolling.open(h.base)),
      );
      const conns = await Promise.all(clients.map(() => h.connections.next('a connection')));
      const closes = conns.map((c) => closeOf(c));
      clock.advance(25_000 + 20_000);
      expect(await Promise.all(closes)).to.deep.equal(Array(count).fill('ping timeout'));
      expect(clock.pending, 'timers left after close').to.equal(0);
      expect(h.engine.clientsCount).to.equal(0);
    } finally {
      await h.stop();
    }
  });
});
