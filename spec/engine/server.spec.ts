/**
 * The Engine.IO server against the official `engine.io-client` over real
 * sockets: both transports, the upgrade, binary, large messages, both ways of
 * closing, the heartbeat and the open packet.
 */
import { expect } from 'chai';
import type { TransportName } from '../../lib/index.js';
import { closeOf, tracePhases, withEngine } from '../helpers/engine.js';
import {
  RawPolling,
  RawWs,
  delay,
  parseOpenPacket,
  rawRequest,
  waitFor,
} from '../helpers/raw-engine.js';

const TRANSPORTS: readonly TransportName[] = ['polling', 'websocket'];

describe('EngineServer with engine.io-client', function () {
  it(
    'serves a polling-only client',
    withEngine({}, async (h) => {
      const client = await h.openClient({ transports: ['polling'] });
      const conn = await h.connections.next('a connection');
      expect(conn.transportName).to.equal('polling');
      expect(conn.phase).to.equal('connected');
      client.socket.send('hello over polling');
      expect(await client.messages.next('the echo')).to.equal('hello over polling');
      conn.send('from the server');
      expect(await client.messages.next('a server message')).to.equal('from the server');
      expect(conn.transportName).to.equal('polling');
    }),
  );

  it(
    'serves a WebSocket-only client',
    withEngine({}, async (h) => {
      const client = await h.openClient({ transports: ['websocket'] });
      const conn = await h.connections.next('a connection');
      expect(conn.transportName).to.equal('websocket');
      client.socket.send('hello over websocket');
      expect(await client.messages.next('the echo')).to.equal('hello over websocket');
      conn.send('from the server');
      expect(await client.messages.next('a server message')).to.equal('from the server');
    }),
  );

  it(
    'upgrades polling to WebSocket: handshake -> connected -> upgrading -> connected',
    withEngine({}, (h) =>
      tracePhases(async (phases) => {
        const client = h.client({ transports: ['polling', 'websocket'] });
        const conn = await h.connections.next('a connection');
        const seen: string[] = [conn.phase];
        client.socket.on('upgrading', () => seen.push(conn.phase));
        const upgraded = new Promise<string>((resolve) =>
          client.socket.once('upgrade', (transport) => resolve(transport.name)),
        );
        expect(await upgraded).to.equal('websocket');
        expect(await waitFor(() => conn.transportName === 'websocket')).to.be.true;
        seen.push(conn.phase);
        expect(seen).to.deep.equal(['connected', 'upgrading', 'connected']);
        expect(phases(conn.id)).to.deep.equal(['handshake', 'connected', 'upgrading', 'connected']);
        client.socket.send('after the upgrade');
        expect(await client.messages.next('the echo')).to.equal('after the upgrade');
        expect(h.engine.phaseCounts()).to.include({ connected: 1, upgrading: 0 });
      }),
    ),
  );

  it(
    'delivers a stream of server messages exactly once, in order, across the upgrade',
    withEngine({}, async (h) => {
      const client = h.client({ transports: ['polling', 'websocket'] });
      const conn = await h.connections.next('a connection');
      let sent = 0;
      const timer = setInterval(() => conn.send(`m${sent++}`), 1);
      await new Promise<void>((resolve) => client.socket.once('upgrade', () => resolve()));
      expect(await waitFor(() => conn.transportName === 'websocket')).to.be.true;
      await delay(20);
      clearInterval(timer);
      const received: unknown[] = [];
      while (received.length < sent) received.push(await client.messages.next('a message'));
      expect(received).to.deep.equal(Array.from({ length: sent }, (_, i) => `m${i}`));
      await delay(20);
      expect(client.messages.unread).to.deep.equal([]);
    }),
  );

  for (const transport of TRANSPORTS) {
    it(
      `carries binary both ways over ${transport}, as a Buffer on the server`,
      withEngine({}, async (h) => {
        const client = await h.openClient({ transports: [transport] });
        const conn = await h.connections.next('a connection');
        const received = new Promise<string | Buffer>((resolve) => conn.once('message', resolve));
        const bytes = Buffer.from([0, 1, 2, 250, 255, 0x1e, 0x34]);
        client.socket.send(bytes);
        const atServer = await received;
        expect(Buffer.isBuffer(atServer)).to.be.true;
        expect(Buffer.compare(atServer as Buffer, bytes)).to.equal(0);
        // The harness echoes the Buffer back as a binary message.
        const echoed = await client.messages.next('the binary echo');
        expect(Buffer.isBuffer(echoed)).to.be.true;
        expect(Buffer.compare(echoed as Buffer, bytes)).to.equal(0);
        conn.send('text still works');
        expect(await client.messages.next('a text message')).to.equal('text still works');
      }),
    );

    it(
      `carries messages near maxHttpBufferSize both ways over ${transport}`,
      withEngine({ maxHttpBufferSize: 100_000 }, async (h) => {
        const client = await h.openClient({ transports: [transport] });
        const conn = await h.connections.next('a connection');
        // '4' + data is exactly maxHttpBufferSize bytes on the wire.
        const big = 'x'.repeat(99_998) + 'y';
        const received = new Promise<string | Buffer>((resolve) => conn.once('message', resolve));
        client.socket.send(big);
        expect(await received).to.equal(big);
        expect(await client.messages.next('the echo')).to.equal(big);
        const binary = Buffer.alloc(70_000, 7);
        conn.send(binary);
        const atClient = await client.messages.next('a large binary message');
        expect(Buffer.isBuffer(atClient) && atClient.equals(binary)).to.be.true;
        expect(conn.phase).to.equal('connected');
      }),
    );

    it(
      `closes from the server over ${transport}: queued messages first, reason 'forced close'`,
      withEngine({}, async (h) => {
        const client = await h.openClient({ transports: [transport] });
        const conn = await h.connections.next('a connection');
        const serverReason = closeOf(conn);
        conn.send('last words');
        conn.close();
        expect(await serverReason).to.equal('forced close');
        expect(conn.closeReason).to.equal('forced close');
        expect(await client.messages.next('the last message')).to.equal('last words');
        expect(await client.closed).to.equal('transport close');
        expect(conn.send('too late')).to.be.false;
        expect(await h.drained()).to.be.true;
      }),
    );

    it(
      `closes from the client over ${transport} with reason 'transport close'`,
      withEngine({}, async (h) => {
        const client = await h.openClient({ transports: [transport] });
        const conn = await h.connections.next('a connection');
        const serverReason = closeOf(conn);
        client.socket.close();
        expect(await serverReason).to.equal('transport close');
        expect(conn.phase).to.equal('closed');
        expect(await h.drained()).to.be.true;
      }),
    );
  }

  it(
    'keeps clients that answer pings connected past several ping intervals',
    withEngine({ pingInterval: 0.2, pingTimeout: 0.2 }, async (h) => {
      const polling = await h.openClient({ transports: ['polling'] });
      const websocket = await h.openClient({ transports: ['websocket'] });
      const conns = [await h.connections.next('one'), await h.connections.next('two')];
      await delay(1100);
      expect(polling.isClosed || websocket.isClosed).to.be.false;
      expect(conns.map((c) => c.phase)).to.deep.equal(['connected', 'connected']);
      expect(polling.pings).to.be.at.least(4);
      expect(websocket.pings).to.be.at.least(4);
      polling.socket.send('still here');
      expect(await polling.messages.next('the echo')).to.equal('still here');
    }),
  );

  it(
    "closes a polling client that never answers pings with reason 'ping timeout'",
    withEngine({ pingInterval: 0.1, pingTimeout: 0.1 }, async (h) => {
      const polling = await h.rawPolling();
      const conn = await h.connections.next('a connection');
      const started = Date.now();
      expect(await closeOf(conn)).to.equal('ping timeout');
      // Not before interval + timeout (with timer slack); the upper bound only catches a hang
      // (exact timing is the engine property's, on a virtual clock).
      expect(Date.now() - started).to.be.within(150, 5000);
      // A client presumed dead is not waited for (as in the reference engine.io): the session
      // is gone at once and its next GET is told so.
      expect(h.engine.clientsCount).to.equal(0);
      const late = await polling.get();
      expect(late.status).to.equal(400);
      expect(JSON.parse(late.text)).to.deep.equal({ code: 1, message: 'Session ID unknown' });
      await h.expectHealthy();
    }),
  );

  it(
    "closes a WebSocket client that never answers pings with reason 'ping timeout'",
    withEngine({ pingInterval: 0.1, pingTimeout: 0.1 }, async (h) => {
      const ws = h.rawWs(h.wsUrl());
      parseOpenPacket(String(await ws.messages.next('the open packet')));
      const conn = await h.connections.next('a connection');
      expect(await ws.messages.next('a ping')).to.equal('2');
      expect(await closeOf(conn)).to.equal('ping timeout');
      expect(await ws.messages.next('the close packet')).to.equal('1');
      await ws.closed;
      expect(await h.drained()).to.be.true;
    }),
  );

  it(
    'answers the pending GET with a noop when a polling client sends close',
    withEngine({}, async (h) => {
      const polling = await h.rawPolling();
      const conn = await h.connections.next('a connection');
      const pending = polling.packets();
      expect(await waitFor(() => conn.transport.writable)).to.be.true;
      const reason = closeOf(conn);
      expect((await polling.post('1')).text).to.equal('ok');
      expect(await pending).to.deep.equal(['6']);
      expect(await reason).to.equal('transport close');
      expect(await h.drained()).to.be.true;
      const after = await polling.get();
      expect(after.status).to.equal(400);
      expect(JSON.parse(after.text)).to.deep.equal({ code: 1, message: 'Session ID unknown' });
    }),
  );

  it(
    'ignores unknown query parameters',
    withEngine({}, async (h) => {
      const res = await rawRequest(`${h.base}?EIO=4&transport=polling&t=Nx1&foo=bar&foo=baz`);
      expect(res.status).to.equal(200);
      const { sid } = parseOpenPacket(res.text);
      const conn = await h.connections.next('a connection');
      expect(conn.id).to.equal(sid);
      const post = await rawRequest(`${h.base}?EIO=4&transport=polling&sid=${sid}&t=Nx2&j=0`, {
        method: 'POST',
        body: '4with extras\x1e4second',
      });
      expect(post.text).to.equal('ok');
      const get = await rawRequest(`${h.base}?t=Nx3&sid=${sid}&EIO=4&transport=polling`);
      expect(get.text).to.equal('4with extras\x1e4second');
      conn.close();
      expect((await rawRequest(`${h.base}?EIO=4&transport=polling&sid=${sid}`)).text).to.equal('1');
    }),
  );

  it(
    'sends an open packet with exactly sid, upgrades, pingInterval, pingTimeout, maxPayload',
    withEngine({ pingInterval: 0.3, pingTimeout: 0.4, maxHttpBufferSize: 5000 }, async (h) => {
      const polling = await RawPolling.open(h.base);
      const open = polling.handshake;
      expect(Object.keys(open).sort()).to.deep.equal([
        'maxPayload',
        'pingInterval',
        'pingTimeout',
        'sid',
        'upgrades',
      ]);
      expect(open).to.deep.include({
        upgrades: ['websocket'],
        pingInterval: 300,
        pingTimeout: 400,
        maxPayload: 5000,
      });
      expect(open.sid).to.match(/^[A-Za-z0-9_-]{20,}$/);
      expect(polling.handshakeResponse.text).to.equal(`0${JSON.stringify(open)}`);
      expect((await polling.post('1')).status).to.equal(200);

      const ws = new RawWs(h.wsUrl());
      const wsOpen = parseOpenPacket(String(await ws.messages.next('the open packet')));
      expect(Object.keys(wsOpen).sort()).to.deep.equal(Object.keys(open).sort());
      expect(wsOpen).to.deep.include({
        upgrades: [],
        pingInterval: 300,
        pingTimeout: 400,
        maxPayload: 5000,
      });
      expect(wsOpen.sid).to.match(/^[A-Za-z0-9_-]{20,}$/);
      expect(wsOpen.sid).not.to.equal(open.sid);
      await ws.close();
    }),
  );

  it(
    'counts phases and closes every connection on engine.close()',
    withEngine({}, async (h) => {
      const clients = [
        await h.openClient({ transports: ['polling'] }),
        await h.openClient({ transports: ['websocket'] }),
      ];
      expect(h.engine.clientsCount).to.equal(2);
      expect(h.engine.phaseCounts()).to.deep.equal({
        handshake: 0,
        connected: 2,
        upgrading: 0,
        closed: 0,
      });
      const reasons = [await h.connections.next('one'), await h.connections.next('two')].map(
        closeOf,
      );
      h.engine.close();
      expect(await Promise.all(reasons)).to.deep.equal(['server shutdown', 'server shutdown']);
      for (const client of clients) expect(await client.closed).to.equal('transport close');
      expect(await h.drained()).to.be.true;
      expect(h.engine.phaseCounts()).to.deep.include({ connected: 0, closed: 2 });
    }),
  );
});
