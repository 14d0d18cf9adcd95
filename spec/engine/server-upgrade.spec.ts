/**
 * The polling -> WebSocket upgrade driven by hand, so each server send can be
 * placed before, inside (between `2probe` and `5`) or after the upgrade.
 *
 * ```
 *  client                          server
 *  GET  (handshake)  ------------>  0{sid, upgrades:["websocket"]}
 *  WS ?sid=...       ------------>
 *  WS 2probe         ------------>  phase: upgrading
 *                    <------------  WS 3probe ; pending GET <- 6
 *  WS 5              ------------>  phase: connected, transport websocket
 *                    <------------  WS queued messages, in order
 * ```
 */
import { expect } from 'chai';
import { closeOf, withEngine } from '../helpers/engine.js';
import type { EngineHarness } from '../helpers/engine.js';
import {
  jsonBody,
  parseOpenPacket,
  rawRequest,
  refusedUpgrade,
  waitFor,
} from '../helpers/raw-engine.js';
import type { RawPolling, RawWs } from '../helpers/raw-engine.js';
import type { EngineConnection } from '../../lib/index.js';

interface Session {
  readonly polling: RawPolling;
  readonly conn: EngineConnection;
}

async function pollingSession(h: EngineHarness): Promise<Session> {
  const polling = await h.rawPolling();
  const conn = await h.connections.next('a connection');
  expect(conn.id).to.equal(polling.sid);
  return { polling, conn };
}

/** Opens the probe WebSocket and exchanges 2probe/3probe; the server is then upgrading. */
async function probe(h: EngineHarness, { polling, conn }: Session): Promise<RawWs> {
  const ws = h.rawWs(h.wsUrl(`&sid=${encodeURIComponent(polling.sid)}`));
  await ws.opened;
  ws.send('2probe');
  expect(await ws.messages.next('3probe')).to.equal('3probe');
  expect(conn.phase).to.equal('upgrading');
  return ws;
}

/** Sends `5` and waits until the server has switched transports. */
async function finishUpgrade(ws: RawWs, conn: EngineConnection): Promise<void> {
  ws.send('5');
  expect(await waitFor(() => conn.transportName === 'websocket')).to.be.true;
  expect(conn.phase).to.equal('connected');
}

async function takeFrames(ws: RawWs, count: number): Promise<(string | Buffer)[]> {
  const frames: (string | Buffer)[] = [];
  while (frames.length < count) frames.push(await ws.messages.next(`frame ${frames.length}`));
  return frames;
}

describe('EngineServer upgrade', function () {
  it(
    'delivers messages sent before, during and after the upgrade exactly once, in order',
    withEngine({}, async (h) => {
      const session = await pollingSession(h);
      const { polling, conn } = session;
      conn.send('before-1');
      conn.send('before-2');
      expect(await polling.packets()).to.deep.equal(['4before-1', '4before-2']);

      const pending = polling.packets();
      expect(await waitFor(() => conn.transport.writable)).to.be.true;
      const ws = await probe(h, session);
      expect(await pending).to.deep.equal(['6']);
      expect(h.engine.phaseCounts()).to.include({ connected: 0, upgrading: 1 });

      conn.send('during-1');
      conn.send('during-2');
      // A GET inside the upgrade is released with a noop; the data waits for the WebSocket.
      expect(await polling.packets()).to.deep.equal(['6']);
      conn.send('during-3');
      await finishUpgrade(ws, conn);
      conn.send('after-1');
      conn.send('after-2');

      expect(await takeFrames(ws, 5)).to.deep.equal([
        '4during-1',
        '4during-2',
        '4during-3',
        '4after-1',
        '4after-2',
      ]);
      ws.send('4from the client');
      expect(await ws.messages.next('the echo')).to.equal('4from the client');
      expect(ws.messages.unread).to.deep.equal([]);
    }),
  );

  it(
    'moves data queued while no GET was pending over to the WebSocket, in order',
    withEngine({}, async (h) => {
      const session = await pollingSession(h);
      const { conn } = session;
      conn.send('queued-1');
      conn.send(Buffer.from([1, 2, 3]));
      await waitFor(() => conn.outboxBytes > 0);
      const ws = await probe(h, session);
      conn.send('during');
      await finishUpgrade(ws, conn);
      conn.send('after');
      const frames = await takeFrames(ws, 4);
      expect(frames[0]).to.equal('4queued-1');
      expect(Buffer.isBuffer(frames[1]) && frames[1].equals(Buffer.from([1, 2, 3]))).to.be.true;
      expect(frames.slice(2)).to.deep.equal(['4during', '4after']);
    }),
  );

  it(
    'answers a GET made during the upgrade with a noop even when nothing is queued',
    withEngine({}, async (h) => {
      const session = await pollingSession(h);
      const ws = await probe(h, session);
      const started = Date.now();
      const res = await Promise.race([
        session.polling.get(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000)),
      ]);
      expect(res, 'the GET was still pending after 1 s').not.to.equal(null);
      expect(res?.status).to.equal(200);
      expect(res?.text).to.equal('6');
      expect(Date.now() - started).to.be.below(1000);
      await finishUpgrade(ws, session.conn);
    }),
  );

  it(
    'refuses polling on an upgraded session with 400 code 3 and keeps the WebSocket',
    withEngine({}, async (h) => {
      const session = await pollingSession(h);
      const { polling, conn } = session;
      const ws = await probe(h, session);
      await finishUpgrade(ws, conn);
      for (const res of [await polling.get(), await polling.post('4late')]) {
        expect(res.status).to.equal(400);
        expect(jsonBody(res)).to.deep.equal({ code: 3, message: 'Bad request' });
      }
      expect(conn.phase).to.equal('connected');
      ws.send('4still here');
      expect(await ws.messages.next('the echo')).to.equal('4still here');
    }),
  );

  it(
    'closes a second WebSocket for an upgraded sid and keeps the first',
    withEngine({}, async (h) => {
      const session = await pollingSession(h);
      const { polling, conn } = session;
      const ws = await probe(h, session);
      await finishUpgrade(ws, conn);
      const second = h.rawWs(h.wsUrl(`&sid=${encodeURIComponent(polling.sid)}`));
      await second.opened;
      await second.closed;
      expect(conn.phase).to.equal('connected');
      ws.send('4first still works');
      expect(await ws.messages.next('the echo')).to.equal('4first still works');
    }),
  );

  it(
    'closes a second WebSocket for a WebSocket session and keeps the first',
    withEngine({}, async (h) => {
      const first = h.rawWs(h.wsUrl());
      const open = parseOpenPacket(String(await first.messages.next('the open packet')));
      const conn = await h.connections.next('a connection');
      const second = h.rawWs(h.wsUrl(`&sid=${encodeURIComponent(open.sid)}`));
      await second.opened;
      second.send('2probe');
      await second.closed;
      expect(conn.phase).to.equal('connected');
      first.send('4first still works');
      expect(await first.messages.next('the echo')).to.equal('4first still works');
    }),
  );

  it(
    'falls back to polling when the probe WebSocket closes mid-upgrade',
    withEngine({}, async (h) => {
      const session = await pollingSession(h);
      const { polling, conn } = session;
      const ws = await probe(h, session);
      conn.send('kept');
      await ws.close();
      expect(await waitFor(() => conn.phase === 'connected')).to.be.true;
      expect(conn.transportName).to.equal('polling');
      expect(await polling.packets()).to.deep.equal(['4kept']);
      const reason = closeOf(conn);
      expect((await polling.post('1')).status).to.equal(200);
      expect(await reason).to.equal('transport close');
    }),
  );

  it(
    'offers no upgrade and refuses a probe when allowUpgrades is false',
    withEngine({ allowUpgrades: false }, async (h) => {
      const session = await pollingSession(h);
      const { polling, conn } = session;
      expect(polling.handshake.upgrades).to.deep.equal([]);
      const ws = h.rawWs(h.wsUrl(`&sid=${encodeURIComponent(polling.sid)}`));
      await ws.opened;
      ws.send('2probe');
      await ws.closed;
      expect(ws.messages.items).not.to.include('3probe');
      expect(conn.phase).to.equal('connected');
      expect(conn.transportName).to.equal('polling');
      conn.send('still polling');
      expect(await polling.packets()).to.deep.equal(['4still polling']);
    }),
  );

  it(
    'serves only the configured transports',
    withEngine({ transports: ['polling'] }, async (h) => {
      const polling = await h.rawPolling();
      expect(polling.handshake.upgrades).to.deep.equal([]);
      const refusal = await refusedUpgrade(h.wsUrl());
      expect(refusal).to.deep.equal({
        status: 400,
        body: { code: 0, message: 'Transport unknown' },
      });
      const probeRefusal = await refusedUpgrade(h.wsUrl(`&sid=${polling.sid}`));
      expect(probeRefusal.status).to.equal(400);
    }),
  );

  it(
    'refuses polling when only WebSocket is configured',
    withEngine({ transports: ['websocket'] }, async (h) => {
      const res = await rawRequest(`${h.base}?EIO=4&transport=polling`);
      expect(res.status).to.equal(400);
      expect(jsonBody(res)).to.deep.equal({ code: 0, message: 'Transport unknown' });
      const client = await h.openClient({ transports: ['websocket'] });
      client.socket.send('websocket only');
      expect(await client.messages.next('the echo')).to.equal('websocket only');
    }),
  );
});
