/**
 * An external emitter (a SocketIO with a queue and no app, in this process)
 * that emits a burst and then at once flushes or stops: everything emitted
 * before `flush()` / `stop()` reaches the clients of two server processes, on
 * Redis and on RabbitMQ. With no broker (a closed port) or a broker that never
 * answers (a silent TCP listener), both reject with the count of undelivered
 * messages (`MQ_ERR_NOT_DELIVERED`) within their bound instead of hanging.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { expect } from 'chai';
import { NotDeliveredError, SocketIO } from '../../lib/index.js';
import type { Logger } from '../../lib/index.js';
import { BROKERS, Cluster, eventually, freePort, portOpen, received } from '../helpers/queues.js';
import type { SioPeer } from '../helpers/socketio.js';

/** How many messages a burst has. */
const BURST = 200;

/**
 * The bounds the README gives: flush() 5 s; stop() flushes, then closes the broker connection
 * within 1 s more. And the slack a loaded machine needs on top.
 */
const FLUSH_BOUND_MS = 5000;
const STOP_BOUND_MS = 6000;
const SLACK_MS = 1000;

/** A logger that keeps what it is given, to check what the emitter said. */
function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const keep =
    (level: string) =>
    (...values: unknown[]): void => {
      lines.push(`${level}: ${values.map(String).join(' ')}`);
    };
  return {
    lines,
    debug: () => undefined,
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
  };
}

/** The first argument of every `event` each peer received. */
function firstArgs(peers: readonly SioPeer[], event: string): unknown[][] {
  return peers.map((p) => received(p, event).map(([n]) => n));
}

/** Waits until every peer has `count` `event`s (or 5 s pass), then a short quiet window. */
async function arrived(peers: readonly SioPeer[], event: string, count: number): Promise<void> {
  await eventually(() => peers.every((p) => received(p, event).length >= count), 5000);
  await new Promise((resolve) => setTimeout(resolve, 200));
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i);

/** Settles `promise` into its rejection (fails when it resolves) and how long it took. */
async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error('expected a rejection');
}

function expectNotDelivered(error: unknown, count: number): void {
  expect(error).to.be.instanceOf(NotDeliveredError);
  const notDelivered = error as NotDeliveredError;
  expect(notDelivered.code).to.equal('MQ_ERR_NOT_DELIVERED');
  expect(notDelivered.undelivered).to.equal(count);
  expect(notDelivered.message).to.include(`${count} message`);
}

for (const broker of BROKERS) {
  describe(`external emitter on ${broker.name}: flush() and stop() deliver what came before`, function () {
    let cluster: Cluster;

    before(async function () {
      if (!(await portOpen(broker.port)))
        throw new Error(
          `${broker.name} is not listening on 127.0.0.1:${broker.port}; run scripts/services.sh`,
        );
      cluster = await Cluster.start(broker.url, 2, `ext-${broker.name.toLowerCase()}`);
    });

    after(async function () {
      await cluster?.kill();
    });

    beforeEach(async function () {
      await cluster.restart(`ext-${broker.name.toLowerCase()}`);
    });

    afterEach(function () {
      cluster.disconnectPeers();
    });

    it(`delivers all ${BURST} messages emitted right before stop() to every client`, async function () {
      const peers = (await cluster.spread(2)).flat();
      const logger = recordingLogger();
      const ext = new SocketIO({ messageQueue: cluster.url, channel: cluster.channel, logger });
      for (let n = 0; n < BURST; n++) ext.emit('burst', n);
      await ext.stop();

      await arrived(peers, 'burst', BURST);
      expect(
        peers.map((p) => received(p, 'burst').length),
        'messages each client received',
      ).to.deep.equal(peers.map(() => BURST));
      for (const got of firstArgs(peers, 'burst')) expect(got).to.deep.equal(range(0, BURST));
      expect(ext.queueStats()).to.include({ published: BURST, lost: 0 });
      expect(logger.lines, 'what the emitter logged').to.deep.equal([]);
    });

    it('delivers what came before flush(), keeps publishing after it, and stop() delivers the rest', async function () {
      const peers = (await cluster.spread(2)).flat();
      const logger = recordingLogger();
      const ext = new SocketIO({ messageQueue: cluster.url, channel: cluster.channel, logger });
      const half = BURST / 2;
      for (let n = 0; n < half; n++) ext.emit('burst', n);
      ext.send('plain');
      ext.closeRoom('nobody-here');
      await ext.flush();
      expect(ext.queueStats(), 'counters once flush() resolved').to.include({
        published: half + 2,
        lost: 0,
      });

      for (let n = half; n < BURST; n++) ext.emit('burst', n);
      await ext.stop();
      await arrived(peers, 'burst', BURST);
      for (const got of firstArgs(peers, 'burst')) expect(got).to.deep.equal(range(0, BURST));
      for (const p of peers) expect(received(p, 'message')).to.deep.equal([['plain']]);
      expect(ext.queueStats()).to.include({ published: BURST + 2, lost: 0 });
      expect(logger.lines, 'what the emitter logged').to.deep.equal([]);
    });
  });
}

/** A TCP listener that accepts connections and never says a word (a hung broker). */
class SilentBroker {
  readonly #sockets = new Set<Socket>();
  private constructor(
    readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<SilentBroker> {
    const port = await freePort();
    const server = createServer();
    const broker = new SilentBroker(server, port);
    server.on('connection', (socket) => {
      broker.#sockets.add(socket);
      socket.on('error', () => undefined).on('close', () => broker.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return broker;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const UNREACHABLE = [
  { name: 'Redis', url: (port: number) => `redis://127.0.0.1:${port}/0` },
  { name: 'RabbitMQ', url: (port: number) => `amqp://guest:guest@127.0.0.1:${port}/` },
] as const;

describe('external emitter without a working broker: flush() and stop() reject with the count', function () {
  for (const broker of UNREACHABLE) {
    it(`${broker.name} on a closed port: both reject with how many were not delivered`, async function () {
      const logger = recordingLogger();
      const ext = new SocketIO({ messageQueue: broker.url(1), channel: 'nobody', logger });
      for (let n = 0; n < 20; n++) ext.emit('burst', n);
      const flushed = await rejection(ext.flush());
      expectNotDelivered(flushed.error, 20);
      expect(flushed.ms, 'flush() settled within its bound').to.be.below(FLUSH_BOUND_MS + SLACK_MS);

      // A later flush reports only what was emitted since.
      for (let n = 0; n < 5; n++) ext.emit('burst', n);
      const stopped = await rejection(ext.stop());
      expectNotDelivered(stopped.error, 5);
      expect(stopped.ms, 'stop() settled within its bound').to.be.below(STOP_BOUND_MS + SLACK_MS);
      expect(ext.queueStats()).to.include({ published: 0, lost: 25 });
    });

    it(`${broker.name} that never answers: stop() gives up within its bound with the count`, async function () {
      this.timeout(STOP_BOUND_MS * 3);
      const silent = await SilentBroker.start();
      try {
        const ext = new SocketIO({
          messageQueue: broker.url(silent.port),
          channel: 'nobody',
          logger: recordingLogger(),
        });
        for (let n = 0; n < 20; n++) ext.emit('burst', n);
        const stopped = await rejection(ext.stop());
        expectNotDelivered(stopped.error, 20);
        expect(stopped.ms, 'stop() settled within its bound').to.be.below(STOP_BOUND_MS + SLACK_MS);
      } finally {
        await silent.close();
      }
    });
  }

  it('flush() on a server without a queue resolves at once', async function () {
    const io = new SocketIO();
    io.emit('nobody-listens', 1);
    await io.flush();
    await io.stop();
  });
});
