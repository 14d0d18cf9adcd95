/**
 * The server's limits on what one client may send, each at its boundary: the
 * value at the limit is served, one past it is refused with a clear error (an
 * HTTP status and body, a WebSocket close code, CONNECT_ERROR, or a log line
 * that names the limit), and a witness client on the same server loses nothing.
 */
import { expect } from 'chai';
import { fullLogger, RawSioPolling, trapProcessErrors, Witness } from '../helpers/hostile.js';
import type { ProcessErrorTrap } from '../helpers/hostile.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { startProtocolServer } from '../helpers/protocol-server.js';
import type { ProtocolServer } from '../helpers/protocol-server.js';
import { jsonBody, waitFor } from '../helpers/raw-engine.js';
import { RawSio } from '../helpers/socketio.js';

const LIMITS = {
  maxHttpBufferSize: 2000,
  maxPacketsPerPayload: 5,
  maxAttachments: 2,
  maxArgumentDepth: 4,
  maxNamespacesPerConnection: 3,
  maxEventNameLength: 16,
} as const;

/** `depth` arrays, one inside the other. */
function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

function placeholders(n: number): string {
  return Array.from({ length: n }, (_, num) => `{"_placeholder":true,"num":${num}}`).join(',');
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  describe(`limits on what a client sends (${mode})`, function () {
    this.timeout(20_000);
    let server: ProtocolServer;
    let witness: Witness;
    let trap: ProcessErrorTrap;
    const logger = fullLogger();

    before(async function () {
      trap = trapProcessErrors();
      server = await startProtocolServer(mode, { ...LIMITS, logger, engineioLogger: logger });
      witness = await Witness.connect(server.origin, 'websocket');
    });

    afterEach(async function () {
      await witness.verify();
    });

    after(async function () {
      witness.close();
      trap.dispose();
      await server.io.stop();
      expect(trap.errors, 'errors that escaped to the process').to.deep.equal([]);
    });

    /** A raw WebSocket peer connected to '/'. */
    async function raw(): Promise<RawSio> {
      const peer = await RawSio.open(server.wsUrl);
      await peer.connect('/');
      return peer;
    }

    /** Whether some log line (any level) says `pattern`. */
    function logged(pattern: RegExp): boolean {
      return logger.lines.some((line) => pattern.test(line.text));
    }

    it('maxHttpBufferSize: a POST at the limit is served, one byte more is a 413 naming the limit', async function () {
      const peer = await RawSioPolling.open(`${server.origin}/socket.io/`);
      await peer.connect();
      // The body is `4` + the Socket.IO packet.
      const frame = (fill: number): string => `2["echo","${'x'.repeat(fill)}"]`;
      const atLimit = frame(LIMITS.maxHttpBufferSize - frame(0).length - 1);
      expect((await peer.send(atLimit)).status, 'a POST of exactly maxHttpBufferSize').to.equal(
        200,
      );
      const over = await peer.send(`${atLimit} `);
      expect(over.status).to.equal(413);
      const body = jsonBody(over) as { code: unknown; message: string };
      expect(body.code).to.equal('EIO_ERR_PAYLOAD_TOO_LARGE');
      expect(body.message).to.include(`maxHttpBufferSize (${LIMITS.maxHttpBufferSize} bytes)`);
      witness.socket.emit('echo', 'alongside');
    });

    it('maxHttpBufferSize: a WebSocket message over the limit closes with 1009 (message too big)', async function () {
      const peer = await raw();
      const fill = 'y'.repeat(LIMITS.maxHttpBufferSize - 20);
      peer.send(`21["echo","${fill}"]`);
      expect(await peer.nextText('the echo ack')).to.equal(`31["${fill}"]`);
      peer.send(`22["echo","${'z'.repeat(LIMITS.maxHttpBufferSize)}"]`);
      expect((await peer.ws.closed).code, 'the close code').to.equal(1009);
    });

    it('maxPacketsPerPayload: a POST of exactly that many packets is served; one more is a 400 that closes the session, and a log line names the limit', async function () {
      const peer = await RawSioPolling.open(`${server.origin}/socket.io/`);
      await peer.connect();
      const events = (n: number, from: number): string[] =>
        Array.from({ length: n }, (_, i) => `2${from + i}["echo",${from + i}]`);
      expect((await peer.send(...events(LIMITS.maxPacketsPerPayload, 0))).status).to.equal(200);
      const acks: string[] = [];
      while (acks.length < LIMITS.maxPacketsPerPayload) {
        const { status, packets } = await peer.get();
        expect(status).to.equal(200);
        acks.push(...packets.filter((p) => p.startsWith('43')));
      }
      expect(acks, 'one ack per packet, in order').to.deep.equal(
        events(LIMITS.maxPacketsPerPayload, 0).map((_, i) => `43${i}[${i}]`),
      );
      const over = await peer.send(...events(LIMITS.maxPacketsPerPayload + 1, 100));
      expect(over.status).to.equal(400);
      expect(jsonBody(over)).to.deep.equal({ code: 3, message: 'Bad request' });
      expect((await peer.get()).status, 'the session is closed').to.equal(400);
      expect(
        logged(new RegExp(`more than ${LIMITS.maxPacketsPerPayload}`)),
        `a log line names maxPacketsPerPayload; lines: ${JSON.stringify(logger.lines.slice(-5))}`,
      ).to.be.true;
    });

    it('maxAttachments: a binary event with that many attachments is served; one more closes with a logged reason', async function () {
      const peer = await raw();
      peer.send(`5${LIMITS.maxAttachments}-7["echo",${placeholders(LIMITS.maxAttachments)}]`);
      for (let i = 0; i < LIMITS.maxAttachments; i++) peer.sendBinary(Buffer.from([i]));
      expect(await peer.nextText('the binary ack')).to.match(/^61-7\[\{"_placeholder":true/);
      expect(await peer.next('the attachment')).to.deep.equal(Buffer.from([0]));
      const over = LIMITS.maxAttachments + 1;
      peer.send(`5${over}-8["echo",${placeholders(over)}]`);
      expect(await peer.closedWithin(), 'closed for too many attachments').to.be.true;
      expect(logged(/too many attachments/), 'the reason is logged').to.be.true;
    });

    it('maxArgumentDepth: arguments nested to the limit are served; one level deeper closes with a logged reason', async function () {
      const peer = await raw();
      peer.send(`21["echo",${nested(LIMITS.maxArgumentDepth)}]`);
      expect(await peer.nextText('the ack')).to.equal(`31[${nested(LIMITS.maxArgumentDepth)}]`);
      peer.send(`22["echo",${nested(LIMITS.maxArgumentDepth + 1)}]`);
      expect(await peer.closedWithin(), 'closed for nesting too deep').to.be.true;
      expect(logged(new RegExp(`nested deeper than ${LIMITS.maxArgumentDepth}`))).to.be.true;
    });

    it('maxEventNameLength: a name of that length is served; one character more closes with a logged reason', async function () {
      const peer = await raw();
      const name = 'e'.repeat(LIMITS.maxEventNameLength);
      peer.send(`21["${name}"]`);
      peer.send('22["echo","after"]');
      expect(await peer.nextText('the next ack'), 'an unhandled name is ignored').to.equal(
        '32["after"]',
      );
      peer.send(`23["${name}e"]`);
      expect(await peer.closedWithin(), 'closed for a name too long').to.be.true;
      expect(logged(new RegExp(`longer than ${LIMITS.maxEventNameLength} characters`))).to.be.true;
    });

    it("maxNamespacesPerConnection: one namespace more gets CONNECT_ERROR 'Too many namespaces' and the connection stays", async function () {
      const peer = await raw();
      await peer.connect('/a');
      await peer.connect('/n1');
      peer.send('0/n2,');
      expect(await peer.nextText('the CONNECT answer')).to.equal(
        '4/n2,{"message":"Too many namespaces"}',
      );
      peer.send('21["echo","still here"]');
      expect(await peer.nextText('the ack on /')).to.equal('31["still here"]');
      // Leaving a namespace frees a place.
      peer.send('1/a,');
      expect(await peer.connect('/n2')).to.be.a('string');
      expect(await waitFor(() => peer.ws.isOpen, 50), 'the connection is still open').to.be.true;
      await peer.ws.close();
    });
  });
}
