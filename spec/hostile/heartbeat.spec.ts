/**
 * Clients that go quiet. Half-open connections (a WebSocket and a polling
 * session, connected to '/' and in a room, that stop answering pings) are
 * reaped by the heartbeat with 'ping timeout': disconnect handlers see it,
 * rooms and timers go. A probe that answers `3probe` but never sends `5` is
 * closed after upgradeTimeout and the session carries on over polling with
 * nothing lost. Time: a hand-driven VirtualClock (event-loop), the
 * cooperative scheduler's virtual clock, or short real timings (worker-pool).
 */
import { expect } from 'chai';
import { EventLoopScheduler, rooms, VirtualClock } from '../../lib/index.js';
import type { AsyncMode, SocketIO, SocketIOOptions } from '../../lib/index.js';
import { closeOf } from '../helpers/engine.js';
import { RawSioPolling, trapProcessErrors, Witness } from '../helpers/hostile.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { startProtocolServer } from '../helpers/protocol-server.js';
import type { ProtocolServer } from '../helpers/protocol-server.js';
import { RawWs, waitFor } from '../helpers/raw-engine.js';
import { RawSio } from '../helpers/socketio.js';

/** How time passes for a mode. */
interface Time {
  readonly options: SocketIOOptions;
  /** The hand-driven clock (event-loop only). */
  readonly clock?: VirtualClock;
  /** Seconds of protocol time the specs wait for, at most. */
  readonly pingInterval: number;
  readonly pingTimeout: number;
  readonly upgradeTimeout: number;
}

function timeFor(mode: AsyncMode): Time {
  if (mode === 'event-loop') {
    const clock = new VirtualClock();
    return {
      options: { scheduler: new EventLoopScheduler({ clock }) },
      clock,
      pingInterval: 25,
      pingTimeout: 20,
      upgradeTimeout: 10,
    };
  }
  if (mode === 'cooperative')
    return {
      options: { clock: 'virtual' },
      pingInterval: 25,
      pingTimeout: 20,
      upgradeTimeout: 10,
    };
  // worker-pool runs on real time: short timings.
  return { options: {}, pingInterval: 0.3, pingTimeout: 0.3, upgradeTimeout: 0.3 };
}

/** Waits for the witness's next ping and a round trip after it: its pong has landed. */
async function witnessPonged(witness: Witness): Promise<void> {
  await new Promise<void>((resolve) => witness.socket.io.once('ping', () => resolve()));
  await witness.burst(1);
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  describe(`quiet clients (${mode})`, function () {
    this.timeout(30_000);
    let time: Time;
    let server: ProtocolServer;
    let io: SocketIO;
    let witness: Witness;
    const reasons: string[] = [];

    beforeEach(async function () {
      time = timeFor(mode);
      server = await startProtocolServer(
        mode,
        {
          ...time.options,
          pingInterval: time.pingInterval,
          pingTimeout: time.pingTimeout,
          upgradeTimeout: time.upgradeTimeout,
        },
        (app) => {
          app.on('disconnect', (reason: string) => void reasons.push(reason));
          app.on('roomsOf', (sid: string) => rooms({ sid }));
        },
      );
      io = server.io;
      reasons.length = 0;
      witness = await Witness.connect(server.origin, 'websocket');
    });

    afterEach(async function () {
      witness.close();
      await io.stop();
      if (time.clock !== undefined)
        expect(time.clock.pending, 'timers once every client is gone').to.equal(0);
    });

    it("reaps half-open WebSocket and polling clients with 'ping timeout': handlers, rooms and sessions go", async function () {
      const trap = trapProcessErrors();
      try {
        const ws = await RawSio.open(server.wsUrl);
        const wsSid = await ws.connect('/');
        const polling = await RawSioPolling.open(`${server.origin}/socket.io/`);
        const pollingSid = await polling.connect();
        for (const [peer, name] of [
          [ws, 'ws'],
          [polling, 'polling'],
        ] as const) {
          const join = '21["join","quiet"]';
          if (peer instanceof RawSio) {
            peer.send(join);
            expect(await peer.nextText(`${name} joined`)).to.equal('31[true]');
          } else {
            await peer.send(join);
            expect((await peer.get()).packets).to.deep.equal(['431[true]']);
          }
        }
        // From now on neither answers pings: the WebSocket reads nothing, the polling client is gone.
        ws.ws.socket.pause();
        const quiet = [ws.handshake.sid, polling.sid].map((sid) => {
          const conn = io.engine.connection(sid);
          if (conn === undefined) throw new Error(`no connection ${sid}`);
          return conn;
        });
        const closed = Promise.all(quiet.map((conn) => closeOf(conn)));
        if (time.clock !== undefined) {
          const pinged = witnessPonged(witness);
          time.clock.advance(time.pingInterval * 1000);
          await pinged;
          time.clock.advance(time.pingTimeout * 1000 - 1);
          expect(
            quiet.map((c) => c.phase),
            'one millisecond before the deadline',
          ).to.deep.equal(['connected', 'connected']);
          time.clock.advance(1);
        }
        expect(await waitFor(() => quiet.every((c) => c.phase === 'closed'), 5000), 'reaped').to.be
          .true;
        expect(await closed).to.deep.equal(['ping timeout', 'ping timeout']);
        expect(await waitFor(() => reasons.length === 2, 3000)).to.be.true;
        expect(reasons, 'what disconnect handlers saw').to.deep.equal([
          'ping timeout',
          'ping timeout',
        ]);
        expect(await waitFor(() => io.engine.clientsCount === 1, 3000), 'only the witness left').to
          .be.true;
        const probe = await io.testClient();
        for (const sid of [wsSid, pollingSid])
          expect(await probe.emit('roomsOf', sid, { callback: true })).to.deep.equal([[]]);
        await probe.disconnect();
        await witness.verify();
        ws.ws.socket.terminate();
        expect(trap.errors).to.deep.equal([]);
      } finally {
        trap.dispose();
      }
    });

    it('closes a probe that never completes the upgrade after upgradeTimeout; the session carries on over polling', async function () {
      const peer = await RawSioPolling.open(`${server.origin}/socket.io/`);
      const sid = await peer.connect();
      const conn = io.engine.connection(peer.sid);
      if (conn === undefined) throw new Error('no connection');
      const probe = new RawWs(`${server.wsUrl}&sid=${encodeURIComponent(peer.sid)}`);
      await probe.opened;
      probe.send('2probe');
      expect(await probe.messages.next('3probe')).to.equal('3probe');
      expect(conn.phase).to.equal('upgrading');
      io.emit('during', 'the upgrade', { to: sid });
      expect(conn.outboxBytes, 'held for the new transport').to.be.greaterThan(0);
      if (time.clock !== undefined) {
        time.clock.advance(time.upgradeTimeout * 1000 - 1);
        expect(conn.phase, 'one millisecond before upgradeTimeout').to.equal('upgrading');
        time.clock.advance(1);
      }
      expect(await waitFor(() => conn.phase === 'connected', 5000), 'back on polling').to.be.true;
      expect((await probe.closed).code, 'the probe is closed').to.be.a('number');
      expect(conn.transportName).to.equal('polling');
      // What waited during the upgrade comes over polling; then events flow both ways.
      const packets: string[] = [];
      while (!packets.includes('42["during","the upgrade"]')) {
        const got = await peer.get();
        expect(got.status).to.equal(200);
        packets.push(...got.packets);
        if (got.packets.includes('2')) await peer.post('3');
      }
      await peer.send('29["echo","after"]');
      let acked = false;
      while (!acked) {
        const got = await peer.get();
        acked = got.packets.includes('439["after"]');
        if (got.packets.includes('2')) await peer.post('3');
      }
      await peer.post('1');
      await witness.verify();
    });
  });
}
