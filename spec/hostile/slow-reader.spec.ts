/**
 * Slow readers at the Socket.IO level: clients connected to '/' that stop
 * reading (a WebSocket whose TCP socket is paused, a polling client that stops
 * sending GETs) while the server broadcasts to the namespace. Each is closed
 * with 'outbox overflow' once what is queued for it passes
 * outboxHighWaterMark; what it holds never grows past the mark plus one
 * message (measured on the connection, not timed); a witness that reads keeps
 * receiving every broadcast, in order. The same holds when a handler emits it
 * all in one synchronous loop (spec/engine/outbox-bursts.spec.ts measures the
 * server's sockets under such bursts). (spec/engine/outbox.spec.ts covers a
 * single engine connection fed with conn.send.)
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { expect } from 'chai';
import { args, emit } from '../../lib/index.js';
import type { EngineConnection, SocketIO } from '../../lib/index.js';
import { closeOf } from '../helpers/engine.js';
import { RawSioPolling, trapProcessErrors, Witness } from '../helpers/hostile.js';
import type { ProcessErrorTrap } from '../helpers/hostile.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { startProtocolServer } from '../helpers/protocol-server.js';
import { Inbox, waitFor } from '../helpers/raw-engine.js';

const HIGH_WATER = 128 * 1024;
const CHUNK = 'x'.repeat(16 * 1024);
/** Bytes one broadcast adds to a connection's queue: `4` + `2["big",<n>,"xxx…"]`. */
const MESSAGE_BYTES = CHUNK.length + 64;
/** At most this many broadcasts (64 MiB): a server without a bound would queue all of it. */
const MAX_BROADCASTS = 4096;

/** A client-to-server WebSocket text frame (masked, as RFC 6455 requires of clients). */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length > 125) throw new Error('short frames only');
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/**
 * A WebSocket client on raw TCP: upgrades, connects to '/', then stops reading.
 * Resolves with the socket and the Engine.IO sid.
 */
async function stalledSioClient(port: number): Promise<{ socket: Socket; sid: string }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  let seen = '';
  const frames = new Inbox<string>();
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.toString('latin1');
    frames.push(seen);
  });
  socket.write(
    `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  const opened = await waitFor(() => /0\{"sid":"[^"]+"/.test(seen), 3000);
  if (!opened) throw new Error(`no open packet: ${seen.slice(0, 200)}`);
  const sid = /0\{"sid":"([^"]+)"/.exec(seen)?.[1] ?? '';
  socket.write(maskedTextFrame('40'));
  const connected = await waitFor(() => /40\{"sid":"/.test(seen), 3000);
  if (!connected) throw new Error('no CONNECT answer');
  socket.removeAllListeners('data');
  socket.pause();
  return { socket, sid };
}

/** Closes a spec's peers and its server, and stops trapping process errors. */
async function tearDown(
  io: SocketIO,
  witness: Witness,
  stalled: Socket,
  trap: ProcessErrorTrap,
): Promise<void> {
  witness.close();
  stalled.destroy();
  trap.dispose();
  await io.stop();
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  describe(`slow readers of broadcasts (${mode})`, function () {
    this.timeout(60_000);

    it("closes clients that stop reading with 'outbox overflow', their queue bounded, while a reader gets every broadcast", async function () {
      const trap = trapProcessErrors();
      const reasons = new Map<string, string>();
      const server = await startProtocolServer(
        mode,
        { outboxHighWaterMark: HIGH_WATER },
        (io) =>
          void io.on('disconnect', (reason: string) => {
            reasons.set(String(reasons.size), reason);
          }),
      );
      const { io } = server;
      const stalled = await stalledSioClient(server.port);
      const polling = await RawSioPolling.open(`${server.origin}/socket.io/`);
      await polling.connect();
      const witness = await Witness.connect(server.origin, 'websocket');
      const got: number[] = [];
      witness.socket.on('big', (n: number, chunk: string) => {
        if (chunk.length === CHUNK.length) got.push(n);
      });
      try {
        const slow = [stalled.sid, polling.sid].map((sid) => {
          const conn = io.engine.connection(sid);
          if (conn === undefined) throw new Error(`no connection ${sid}`);
          return conn;
        });
        const closed = slow.map((conn) => closeOf(conn));
        const held = (conn: EngineConnection): number =>
          conn.phase === 'closed' ? 0 : conn.outboxBytes + conn.transport.bufferedBytes();
        const peak = [0, 0];
        let sent = 0;
        while (slow.some((c) => c.phase !== 'closed') && sent < MAX_BROADCASTS) {
          io.emit('big', args(sent, CHUNK));
          sent++;
          slow.forEach((conn, i) => (peak[i] = Math.max(peak[i] ?? 0, held(conn))));
          // Let the witness read (and the stalled socket's kernel buffers fill) between broadcasts.
          await new Promise((resolve) => setImmediate(resolve));
        }
        expect(await Promise.all(closed), 'close reasons').to.deep.equal([
          'outbox overflow',
          'outbox overflow',
        ]);
        for (const [i, bytes] of peak.entries())
          expect(bytes, `peak queued for slow client ${i}`).to.be.at.most(
            HIGH_WATER + MESSAGE_BYTES,
          );
        expect(slow.map((c) => c.outboxBytes)).to.deep.equal([0, 0]);
        expect(await waitFor(() => got.length === sent, 10_000), 'the witness got them all').to.be
          .true;
        expect(got, 'every broadcast, once, in order').to.deep.equal(
          Array.from({ length: sent }, (_, i) => i),
        );
        await witness.verify();
        expect([...reasons.values()]).to.include.members(['outbox overflow']);
        expect(trap.errors).to.deep.equal([]);
      } finally {
        await tearDown(io, witness, stalled.socket, trap);
      }
    });

    it("closes a WebSocket client that stops reading with 'outbox overflow' when a handler emits 64 MiB to it in one synchronous loop", async function () {
      const trap = trapProcessErrors();
      const reasons: string[] = [];
      const flood = { peak: 0, conn: undefined as EngineConnection | undefined };
      const server = await startProtocolServer(mode, { outboxHighWaterMark: HIGH_WATER }, (io) => {
        io.on('disconnect', (reason: string) => void reasons.push(reason));
        // No await in the loop: every emit is queued in the tick of the client's `flood`.
        io.on('flood', () => {
          const conn = flood.conn;
          for (let n = 0; n < MAX_BROADCASTS; n++) {
            emit('big', args(n, CHUNK));
            if (conn === undefined || conn.phase === 'closed') continue;
            const held = conn.outboxBytes + conn.transport.bufferedBytes();
            flood.peak = Math.max(flood.peak, held);
          }
        });
      });
      const { io } = server;
      const stalled = await stalledSioClient(server.port);
      const witness = await Witness.connect(server.origin, 'websocket');
      try {
        flood.conn = io.engine.connection(stalled.sid);
        if (flood.conn === undefined) throw new Error(`no connection ${stalled.sid}`);
        const closed = closeOf(flood.conn);
        stalled.socket.write(maskedTextFrame('42["flood"]'));
        await waitFor(() => flood.conn?.phase === 'closed' && reasons.length > 0, 10_000);
        expect(
          { reason: flood.conn.closeReason, disconnect: [...reasons] },
          `how the client that stopped reading ended (held at most ${flood.peak} bytes)`,
        ).to.deep.equal({ reason: 'outbox overflow', disconnect: ['outbox overflow'] });
        expect(await closed).to.equal('outbox overflow');
        expect(flood.peak, 'peak queued for the slow client').to.be.at.most(
          HIGH_WATER + MESSAGE_BYTES,
        );
        await witness.verify();
        expect(trap.errors).to.deep.equal([]);
      } finally {
        await tearDown(io, witness, stalled.socket, trap);
      }
    });

    it('does not close a WebSocket client that reads when one tick broadcasts more than outboxHighWaterMark', async function () {
      const server = await startProtocolServer(mode, { outboxHighWaterMark: HIGH_WATER });
      const witness = await Witness.connect(server.origin, 'websocket');
      const got: number[] = [];
      witness.socket.on('big', (n: number) => void got.push(n));
      try {
        // Twice the mark in one synchronous burst: the client reads, it just has not had a
        // chance to yet. Bytes the server has not even handed to the socket are not a client
        // that stopped reading.
        const burst = Math.ceil((2 * HIGH_WATER) / CHUNK.length);
        const conn = server.io.engine.connection(witness.socket.io.engine.id);
        for (let n = 0; n < burst; n++) server.io.emit('big', args(n, CHUNK));
        await waitFor(() => got.length === burst, 3000);
        expect(
          { received: got.length, closed: conn?.closeReason ?? null },
          'what the reading client got, and why the server closed it',
        ).to.deep.equal({ received: burst, closed: null });
        await witness.verify();
      } finally {
        witness.close();
        await server.io.stop();
      }
    });
  });
}
