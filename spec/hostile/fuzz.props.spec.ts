/**
 * Fuzzed bytes and strings against a running SocketIO server, on both
 * transports and at both layers: HTTP requests and raw TCP bytes, Engine.IO
 * POST bodies and WebSocket frames, Socket.IO packet sequences (text and
 * binary attachments) over WebSocket and polling. The server may only answer
 * with the protocol's answers (HTTP 200/400/403/404/413 with the JSON error
 * bodies, well-formed Engine.IO and Socket.IO packets, a closed connection);
 * nothing escapes to the process, nothing is logged as an internal error, and
 * witness clients on the same server lose none of their traffic.
 *
 * Replay a failure with the seed and path fast-check prints:
 *   FC_SEED=<seed> FC_PATH=<path> make test-props
 */
import { connect } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import { Decoder, PacketType } from 'socket.io-parser';
import type { Packet } from 'socket.io-parser';
import { RESERVED_EVENTS } from '../../lib/socketio/packets.js';
import { fullLogger, RawSioPolling, trapProcessErrors, Witness } from '../helpers/hostile.js';
import type { ProcessErrorTrap } from '../helpers/hostile.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { runParameters } from '../helpers/props.js';
import { startProtocolServer } from '../helpers/protocol-server.js';
import type { ProtocolServer } from '../helpers/protocol-server.js';
import { delay, jsonBody, rawRequest, RawWs } from '../helpers/raw-engine.js';

const RUNS = 25;
const BUDGET_MS = 2_500;
/** Short heartbeats: a GET on a fuzzed session comes back within a ping interval. */
const SERVER_OPTIONS = { pingInterval: 0.1, pingTimeout: 5, maxHttpBufferSize: 64 * 1024 };
const JSON_ERRORS = [
  { code: 0, message: 'Transport unknown' },
  { code: 1, message: 'Session ID unknown' },
  { code: 2, message: 'Bad handshake method' },
  { code: 3, message: 'Bad request' },
  { code: 4, message: 'Forbidden' },
  { code: 5, message: 'Unsupported protocol version' },
];

/** Reads what a server sends as Socket.IO packets; throws on anything that is not one. */
class PacketChecker {
  readonly #decoder = new Decoder();
  readonly packets: Packet[] = [];

  constructor() {
    this.#decoder.on('decoded', (packet: Packet) => {
      expect([0, 1, 2, 3, 4, 5, 6], 'a Socket.IO packet type').to.include(packet.type);
      if (packet.type === PacketType.CONNECT_ERROR) {
        const data = packet.data as { message?: unknown };
        expect(data.message, 'CONNECT_ERROR {message}').to.be.a('string');
      }
      this.packets.push(packet);
    });
  }

  /** One Engine.IO packet from the server (text) or a binary WebSocket frame. */
  engine(packet: string | Buffer): void {
    if (Buffer.isBuffer(packet)) return this.#decoder.add(packet);
    if (packet.startsWith('4')) return this.#decoder.add(packet.slice(1));
    if (packet.startsWith('b')) return this.#decoder.add(Buffer.from(packet.slice(1), 'base64'));
    expect(['0', '1', '2', '6'], `an Engine.IO packet ${JSON.stringify(packet)}`).to.include(
      packet.charAt(0),
    );
  }
}

/** Anything at all, and strings that look almost right. */
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const anyBytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));
/** Event names that reach only harmless handlers, or none, or are reserved. */
const eventName = fc.oneof(
  fc.constantFrom('echo', '__sync', 'rooms', 'role', 'argRole', 'inherited', ...RESERVED_EVENTS),
  fc.string({ maxLength: 8 }),
);
const json = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc
    .tuple(eventName, fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }))
    .map(([name, rest]) => JSON.stringify([name, ...rest])),
  fc.constantFrom(
    '[',
    '["echo",',
    '{"_placeholder":true,"num":0}',
    '["echo",{"_placeholder":true,"num":3}]',
  ),
);
/** `<type>[<attachments>-][<nsp>,][<id>][<json>]`, each part present, absent or wrong. */
const plausiblePacket = fc
  .tuple(
    fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '9', 'x'),
    fc.option(
      fc.oneof(
        fc.nat(12).map((n) => `${n}-`),
        fc.constantFrom('-', 'a-', '99999999999-'),
      ),
      {
        nil: '',
      },
    ),
    fc.constantFrom('', '', '/,', '/a,', '/nope,', '/a', ',', '/__proto__,'),
    fc.option(
      fc.oneof(fc.nat().map(String), fc.constantFrom(' 1', '1e3', '-1', '9007199254740993')),
      {
        nil: '',
      },
    ),
    fc.option(json, { nil: '' }),
  )
  .map((parts) => parts.join(''));
/** One client message: a Socket.IO packet, raw text, or a binary attachment. */
const sioMessage: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 4, arbitrary: plausiblePacket },
  { weight: 1, arbitrary: anyText },
  { weight: 1, arbitrary: anyBytes },
);
const sioSequence = fc.array(sioMessage, { minLength: 1, maxLength: 6 });

/** Connected to '/' over a raw WebSocket; returns the socket and the checker of what it got. */
async function rawWsConnected(
  server: ProtocolServer,
): Promise<{ ws: RawWs; check: PacketChecker }> {
  const ws = new RawWs(server.wsUrl);
  await ws.opened;
  const check = new PacketChecker();
  check.engine(String(await ws.messages.next('the open packet')));
  ws.send('40');
  check.engine(await ws.messages.next('the CONNECT answer'));
  return { ws, check };
}

/** Waits briefly for the server's reaction, reads everything, and closes our side. */
async function finishWs(ws: RawWs, check: PacketChecker): Promise<void> {
  await Promise.race([ws.closed, delay(40)]);
  for (const item of ws.messages.items.slice(2)) check.engine(item);
  await ws.close();
}

function describeFuzz(mode: (typeof ASYNC_MODES_UNDER_TEST)[number], engineLayer: boolean): void {
  describe(`fuzzed input (${mode})`, function () {
    this.timeout(60_000);
    let server: ProtocolServer;
    let trap: ProcessErrorTrap;
    let witnesses: Witness[];
    const logger = fullLogger();

    before(async function () {
      trap = trapProcessErrors();
      server = await startProtocolServer(mode, { ...SERVER_OPTIONS, logger });
      witnesses = [
        await Witness.connect(server.origin, 'websocket'),
        await Witness.connect(server.origin, 'polling'),
      ];
    });

    after(async function () {
      try {
        for (const witness of witnesses) await witness.verify();
        expect(trap.errors, 'errors that escaped to the process').to.deep.equal([]);
        const internal = logger.lines.filter((l) => l.level === 'error');
        expect(internal, 'errors logged').to.deep.equal([]);
      } finally {
        for (const witness of witnesses) witness.close();
        trap.dispose();
        await server.io.stop();
      }
    });

    /** Runs a property, with the witnesses sending alongside every case. */
    async function fuzz<T>(arb: fc.Arbitrary<T>, body: (value: T) => Promise<void>): Promise<void> {
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(arb, async (value) => {
          cases++;
          await Promise.all([body(value), ...witnesses.map((w) => w.burst(2))]);
        }),
        runParameters(RUNS, BUDGET_MS),
      );
      expect(cases, 'cases run').to.be.greaterThan(0);
    }

    it('Socket.IO packet sequences over WebSocket get protocol answers only', async function () {
      await fuzz(sioSequence, async (messages) => {
        const { ws, check } = await rawWsConnected(server);
        for (const message of messages) {
          if (!ws.isOpen) break;
          ws.send(typeof message === 'string' ? `4${message}` : message);
        }
        await finishWs(ws, check);
      });
    });

    it('Socket.IO packet sequences over polling get protocol answers only', async function () {
      await fuzz(sioSequence, async (messages) => {
        const peer = await RawSioPolling.open(`${server.origin}/socket.io/`);
        await peer.connect();
        const body = messages
          .map((m) =>
            typeof m === 'string' ? `4${m.replaceAll('\x1e', '')}` : `b${m.toString('base64')}`,
          )
          .join('\x1e');
        const res = await peer.post(body);
        expect([200, 400], 'the POST status').to.include(res.status);
        if (res.status === 400) expect(jsonBody(res)).to.deep.equal(JSON_ERRORS[3]);
        const check = new PacketChecker();
        const { status, packets } = await peer.get();
        if (status === 200) for (const packet of packets) check.engine(packet);
        else expect(JSON.parse(packets[0] ?? '')).to.deep.equal(JSON_ERRORS[1]);
        await peer.post('1');
      });
    });

    if (!engineLayer) return;

    it('random handshake queries and methods get 200, or a 400/403 with the JSON error body', async function () {
      const query = fc.dictionary(
        fc.constantFrom('EIO', 'transport', 'sid', 't', 'b64', ''),
        fc.oneof(
          fc.constantFrom('4', '3', 'polling', 'websocket', 'x'),
          fc.string({ maxLength: 6 }),
        ),
        { maxKeys: 4 },
      );
      const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH');
      await fuzz(fc.tuple(query, method, anyBytes), async ([params, verb, body]) => {
        const search = new URLSearchParams(params).toString();
        const res = await rawRequest(`${server.origin}/socket.io/?${search}`, {
          method: verb,
          body: verb === 'GET' ? undefined : body,
        });
        expect([200, 400, 403], `${verb} ?${search}`).to.include(res.status);
        if (res.status !== 200) expect(JSON_ERRORS).to.deep.include(jsonBody(res));
        else if (res.text.startsWith('0')) {
          // A handshake: leave the session cleanly.
          const { sid } = JSON.parse(res.text.slice(1)) as { sid: string };
          await rawRequest(`${server.pollingUrl}&sid=${sid}`, { method: 'POST', body: '1' });
        }
      });
    });

    it('random POST bodies on a live session get 200, 400 code 3 or 413; the session then works or is gone', async function () {
      const body = fc.oneof(
        anyBytes,
        anyText.map((t) => Buffer.from(t)),
      );
      await fuzz(body, async (bytes) => {
        const peer = await RawSioPolling.open(`${server.origin}/socket.io/`);
        const res = await peer.post(bytes);
        expect([200, 400, 413], 'the POST status').to.include(res.status);
        if (res.status === 400) expect(jsonBody(res)).to.deep.equal(JSON_ERRORS[3]);
        const check = new PacketChecker();
        const { status, packets } = await peer.get();
        if (status === 200) for (const packet of packets) check.engine(packet);
        else expect(JSON.parse(packets[0] ?? '')).to.deep.equal(JSON_ERRORS[1]);
        if (status === 200) await peer.post('1');
      });
    });

    it('random WebSocket frames, text or binary, get protocol answers only', async function () {
      const frames = fc.array(fc.oneof(anyText, anyBytes), { minLength: 1, maxLength: 5 });
      await fuzz(frames, async (sequence) => {
        const ws = new RawWs(server.wsUrl);
        await ws.opened;
        const check = new PacketChecker();
        check.engine(String(await ws.messages.next('the open packet')));
        for (const frame of sequence) if (ws.isOpen) ws.send(frame);
        await Promise.race([ws.closed, delay(40)]);
        for (const item of ws.messages.items.slice(1)) check.engine(item);
        await ws.close();
      });
    });

    it('random bytes on the TCP port get an HTTP 4xx, or nothing, never a 5xx', async function () {
      const prefix = fc.constantFrom(
        '',
        'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n',
        'POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nContent-Length: 9\r\n',
        'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\n',
      );
      await fuzz(fc.tuple(prefix, anyBytes), async ([head, tail]) => {
        const socket = connect(server.port, '127.0.0.1');
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', () => undefined);
        await new Promise<void>((resolve) => socket.once('connect', resolve));
        socket.write(Buffer.concat([Buffer.from(head), tail, Buffer.from('\r\n\r\n')]));
        await Promise.race([new Promise((resolve) => socket.once('close', resolve)), delay(60)]);
        socket.destroy();
        const answer = Buffer.concat(chunks).toString('latin1');
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1];
        if (status !== undefined) expect(Number(status), answer.slice(0, 80)).to.be.below(500);
      });
    });
  });
}

for (const mode of ASYNC_MODES_UNDER_TEST) describeFuzz(mode, mode === 'event-loop');
