/**
 * CORS and Origin at the SocketIO level: by default cross-origin polling and
 * WebSocket requests are refused (403, code 4) before any session or handler
 * exists, including requests that name an existing session; configured origins
 * are allowed, with the CORS headers, end to end through a Socket.IO CONNECT.
 * And the Engine.IO session id, a bearer credential for polling, never appears
 * in info or warn log lines, whatever happens to the connection.
 */
import { expect } from 'chai';
import { io as connectClient } from 'socket.io-client';
import { EventLoopScheduler, VirtualClock } from '../../lib/index.js';
import type { AsyncMode, SocketIO, SocketIOOptions } from '../../lib/index.js';
import { fullLogger, RawSioPolling, Witness } from '../helpers/hostile.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { startProtocolServer } from '../helpers/protocol-server.js';
import type { ProtocolServer } from '../helpers/protocol-server.js';
import {
  jsonBody,
  parseOpenPacket,
  rawRequest,
  refusedUpgrade,
  RawWs,
  splitPayload,
  waitFor,
} from '../helpers/raw-engine.js';
import { RawSio, within } from '../helpers/socketio.js';

const FOREIGN = 'http://evil.example';
const FRIEND = 'http://good.example';
const FORBIDDEN = { code: 4, message: 'Forbidden' };

/** Counts connect handler runs on '/' (a main-thread handler next to the protocol ones). */
function countConnects(io: SocketIO, counter: { connects: number }): void {
  io.on('connect', () => void counter.connects++, { namespace: '/cors' });
}

describe('CORS and Origin (SocketIO)', function () {
  this.timeout(20_000);
  let server: ProtocolServer | undefined;

  afterEach(async function () {
    await server?.io.stop();
    server = undefined;
  });

  it('refuses cross-origin polling and WebSocket requests by default, before any session exists', async function () {
    const counter = { connects: 0 };
    server = await startProtocolServer('event-loop', {}, (io) => countConnects(io, counter));
    const { origin, pollingUrl, wsUrl, io } = server;
    const polling = await rawRequest(pollingUrl, { headers: { Origin: FOREIGN } });
    expect([polling.status, jsonBody(polling)]).to.deep.equal([403, FORBIDDEN]);
    expect(polling.headers['access-control-allow-origin']).to.equal(undefined);
    const preflight = await rawRequest(pollingUrl, {
      method: 'OPTIONS',
      headers: { Origin: FOREIGN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status, 'the preflight').to.equal(403);
    expect(await refusedUpgrade(wsUrl, { Origin: FOREIGN })).to.deep.equal({
      status: 403,
      body: FORBIDDEN,
    });
    expect([io.engine.clientsCount, counter.connects]).to.deep.equal([0, 0]);
    // Same origin and no Origin at all (a non-browser client) are served.
    const same = await rawRequest(pollingUrl, { headers: { Origin: origin } });
    expect(same.status).to.equal(200);
    const none = await rawRequest(pollingUrl);
    expect(none.status).to.equal(200);
  });

  it('refuses a cross-origin request that names an existing session: nothing reaches the session', async function () {
    server = await startProtocolServer('event-loop');
    const peer = await RawSioPolling.open(`${server.origin}/socket.io/`);
    await peer.connect();
    const url = `${server.pollingUrl}&sid=${encodeURIComponent(peer.sid)}`;
    const forged = await rawRequest(url, {
      method: 'POST',
      headers: { Origin: FOREIGN, 'Content-Type': 'text/plain' },
      body: '421["echo","forged"]',
    });
    expect([forged.status, jsonBody(forged)]).to.deep.equal([403, FORBIDDEN]);
    const stolen = await rawRequest(url, { headers: { Origin: FOREIGN } });
    expect(stolen.status, 'a cross-origin GET on the session').to.equal(403);
    expect(
      await refusedUpgrade(`${server.wsUrl}&sid=${peer.sid}`, { Origin: FOREIGN }),
    ).to.deep.equal({ status: 403, body: FORBIDDEN });
    // The session itself is untouched: its own next event is acked, the forged one never was.
    await peer.send('22["echo","mine"]');
    expect((await peer.get()).packets).to.deep.equal(['432["mine"]']);
    await peer.post('1');
  });

  it('allows configured origins, with CORS headers, through a full Socket.IO connect over polling and WebSocket', async function () {
    const counter = { connects: 0 };
    server = await startProtocolServer('event-loop', { corsAllowedOrigins: [FRIEND] }, (io) =>
      countConnects(io, counter),
    );
    const headers = { Origin: FRIEND };
    const open = await rawRequest(server.pollingUrl, { headers });
    expect(open.status).to.equal(200);
    expect(open.headers['access-control-allow-origin']).to.equal(FRIEND);
    expect(open.headers['access-control-allow-credentials']).to.equal('true');
    const { sid } = parseOpenPacket(open.text);
    const url = `${server.pollingUrl}&sid=${encodeURIComponent(sid)}`;
    const post = await rawRequest(url, { method: 'POST', headers, body: '40/cors,' });
    expect(post.status).to.equal(200);
    const answer = await rawRequest(url, { headers });
    expect(splitPayload(answer.text)[0]).to.match(/^40\/cors,\{"sid":"/);
    expect(answer.headers['access-control-allow-origin']).to.equal(FRIEND);
    const ws = new RawWs(`${server.wsUrl}`, headers);
    await ws.opened;
    await ws.close();
    expect(await refusedUpgrade(server.wsUrl, { Origin: FOREIGN })).to.deep.equal({
      status: 403,
      body: FORBIDDEN,
    });
    expect(counter.connects).to.equal(1);
    await rawRequest(url, { method: 'POST', headers, body: '1' });
  });
});

/** How connect timeouts and ping timeouts are brought about in a mode. */
function timeFor(mode: AsyncMode): { options: SocketIOOptions; clock?: VirtualClock } {
  if (mode === 'event-loop') {
    const clock = new VirtualClock();
    return { options: { scheduler: new EventLoopScheduler({ clock }) }, clock };
  }
  if (mode === 'cooperative') return { options: { clock: 'virtual' } };
  return { options: { connectTimeout: 1, pingInterval: 0.2, pingTimeout: 0.2 } };
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  describe(`session ids and logs (${mode})`, function () {
    this.timeout(30_000);

    it('never writes an Engine.IO session id in an info or warn line', async function () {
      const logger = fullLogger();
      const { options, clock } = timeFor(mode);
      const server = await startProtocolServer(
        mode,
        { ...options, logger, engineioLogger: logger },
        (io) =>
          void io.on('fail', () => {
            throw new Error('a handler failed');
          }),
      );
      const { io } = server;
      const sids: string[] = [];
      const engineOf = (socket: { io: { engine: { id: string } } }): void =>
        void sids.push(socket.io.engine.id);
      try {
        // Official clients: WebSocket, polling, and polling upgraded to WebSocket.
        for (const transports of [['websocket'], ['polling'], ['polling', 'websocket']]) {
          const client = connectClient(server.origin, {
            forceNew: true,
            reconnection: false,
            transports,
          });
          await within(
            new Promise((resolve) => client.once('connect', () => resolve(null))),
            'connect',
          );
          engineOf(client);
          client.emit('fail');
          await client.timeout(3000).emitWithAck('echo', 1);
          client.disconnect();
        }
        const witness = await Witness.connect(server.origin, 'polling');
        engineOf(witness.socket);
        // Refused, invalid namespace, kicked, protocol error, transport close.
        const raw = await RawSio.open(server.wsUrl);
        sids.push(raw.handshake.sid);
        raw.send('0{"refuse":true}');
        expect(await raw.nextText('the refusal')).to.match(/^4\{"message"/);
        raw.send('0/nope,');
        expect(await raw.nextText('invalid namespace')).to.match(/^4\/nope,/);
        await raw.connect('/a');
        raw.send('2/a,["kick"]');
        expect(await raw.nextText('the kick')).to.equal('1/a,');
        await raw.connect('/');
        raw.send('2["x"'); // broken JSON: a protocol error
        expect(await raw.closedWithin(), 'closed for a protocol error').to.be.true;
        const polling = await RawSioPolling.open(`${server.origin}/socket.io/`);
        sids.push(polling.sid);
        await polling.connect();
        await polling.post('1');
        // A client that never joins a namespace, and one that stops answering pings.
        const idle = new RawWs(server.wsUrl);
        const silent = await RawSio.open(server.wsUrl);
        sids.push(parseOpenPacket(String(await idle.messages.next('the open packet'))).sid);
        sids.push(silent.handshake.sid);
        await silent.connect('/');
        silent.ws.socket.pause();
        if (clock !== undefined) {
          const pinged = new Promise<void>((resolve) =>
            witness.socket.io.once('ping', () => resolve()),
          );
          clock.advance(25_000);
          await pinged;
          await witness.burst(1);
          clock.advance(20_000);
        }
        expect(
          await waitFor(() => idle.socket.readyState === idle.socket.CLOSED, 10_000),
          'connect timeout',
        ).to.be.true;
        expect(
          await waitFor(() => io.engine.connection(silent.handshake.sid) === undefined, 10_000),
          'ping timeout',
        ).to.be.true;
        await witness.verify();
        witness.close();
        silent.ws.socket.terminate();
        expect(await waitFor(() => io.engine.clientsCount === 0, 5000)).to.be.true;

        expect(new Set(sids).size, 'distinct sessions observed').to.equal(8);
        const leaks = logger.lines.filter(
          (line) =>
            (line.level === 'info' || line.level === 'warn') &&
            sids.some((sid) => line.text.includes(sid)),
        );
        expect(leaks, 'info/warn lines with an Engine.IO session id').to.deep.equal([]);
        expect(
          logger.lines.filter((l) => l.level === 'info').length,
          'the server did log at info level',
        ).to.be.greaterThan(5);
      } finally {
        await io.stop();
      }
    });
  });
}
