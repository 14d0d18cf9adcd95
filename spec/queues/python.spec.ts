/**
 * Interop with python-socketio (Debian's python3-socketio for /usr/bin/python3)
 * through Redis, in both directions:
 *
 * - a Python script with `socketio.RedisManager(url, channel=..., write_only=True)`
 *   (pickled messages) reaches clients of our three server processes;
 * - our external emitter (JSON messages) reaches clients of a python-socketio
 *   server (threading mode, served by wsgiref), and our server processes share
 *   a channel with it: broadcasts, acks and disconnects both ways.
 *
 * Where python-socketio cannot be imported, every test is skipped with a loud
 * warning (never silently).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { SocketIO } from '../../lib/index.js';
import { within } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';
import {
  Cluster,
  PYTHON,
  REDIS_URL,
  ackOf,
  eventually,
  killChild,
  openPeer,
  portOpen,
  pythonOptedOut,
  pythonSocketioMissing,
  received,
  runPython,
  settle,
  uniqueChannel,
  warnSkip,
} from '../helpers/queues.js';

/** A write-only RedisManager runs `code` with `m` bound to it. */
const EMITTER = `
import sys, socketio
m = socketio.RedisManager(sys.argv[1], channel=sys.argv[2], write_only=True)
exec(sys.argv[3])
`;

/** A python-socketio server on a free port of 127.0.0.1; prints the port, then serves. */
const PY_SERVER = `
import sys, socketio
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer, WSGIRequestHandler, make_server

sio = socketio.Server(async_mode='threading', cors_allowed_origins='*',
                      client_manager=socketio.RedisManager(sys.argv[1], channel=sys.argv[2]))

@sio.on('join')
def join(sid, room):
    sio.enter_room(sid, room)
    return 'joined'

@sio.on('relay')
def relay(sid, text):
    sio.emit('relayed', (text, 'from-python'))
    return True

class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

httpd = make_server('127.0.0.1', 0, socketio.WSGIApp(sio), server_class=Server, handler_class=Quiet)
print(httpd.server_port, flush=True)
httpd.serve_forever()
`;

/** Runs Python `code` against a write-only RedisManager on `channel`. */
async function pythonEmits(channel: string, code: string): Promise<void> {
  const result = await runPython(['-c', EMITTER, REDIS_URL, channel, code]);
  if (result.code !== 0) throw new Error(`the Python emitter failed: ${result.stderr}`);
}

/** A Python string literal (JSON's string syntax is valid Python for these values). */
const py = (value: string): string => JSON.stringify(value);

/** How many subscribers a Redis channel has. */
async function subscribers(redis: Redis, channel: string): Promise<number> {
  const reply = (await redis.call('PUBSUB', 'NUMSUB', channel)) as [string, number | string];
  return Number(reply[1]);
}

/** A running python-socketio server. */
interface PyServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly stderr: string[];
}

async function startPyServer(channel: string): Promise<PyServer> {
  const child = spawn(PYTHON, ['-c', PY_SERVER, REDIS_URL, channel], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const firstLine = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', resolve);
    child.once('exit', (code) =>
      reject(new Error(`the Python server exited with ${code}: ${stderr.join('')}`)),
    );
  });
  try {
    const port = Number(await within(firstLine, 'the Python server to listen', 15_000));
    return { child, port, stderr };
  } catch (error) {
    await killChild(child);
    throw error;
  }
}

describe('python-socketio interop through Redis', function () {
  let missing: string | undefined;
  let cluster: Cluster | undefined;
  let redis: Redis | undefined;

  /**
   * The cluster, or a failure where python-socketio is missing; only an explicit
   * `SKIP_PYTHON_INTEROP=1` turns that into a (loud) skip.
   */
  function needPython(ctx: Mocha.Context): Cluster {
    if (missing !== undefined || cluster === undefined) {
      const why = missing ?? 'the cluster did not start';
      if (!pythonOptedOut()) throw new Error(`${why} (SKIP_PYTHON_INTEROP=1 skips these specs)`);
      warnSkip(why);
      ctx.skip();
    }
    return cluster;
  }

  before(async function () {
    if (!(await portOpen(6379)))
      throw new Error('Redis is not listening on 127.0.0.1:6379; run scripts/services.sh');
    missing = await pythonSocketioMissing();
    if (missing !== undefined) return;
    redis = new Redis(REDIS_URL);
    cluster = await Cluster.start(REDIS_URL, 3, 'python');
  });

  after(async function () {
    await cluster?.kill();
    redis?.disconnect();
  });

  afterEach(function () {
    cluster?.disconnectPeers();
  });

  describe('a write-only RedisManager (Python) emitting to our processes', function () {
    let channel: string;

    beforeEach(async function () {
      channel = await needPython(this).restart('py-writer');
    });

    /** A test that also fails when a server process warned or logged an error during it. */
    function it(title: string, body: (this: Mocha.Context) => Promise<void>): void {
      globalThis.it(title, async function () {
        await body.call(this);
        for (const server of cluster?.servers ?? []) {
          const trouble = server.logs.filter((l) => l.level !== 'info');
          expect(trouble, `warnings and errors of server ${server.index}`).to.deep.equal([]);
        }
      });
    }

    it('delivers a tuple as several arguments to a room spread over processes', async function () {
      const [g0, g1, g2] = await needPython(this).spread(1);
      const a = g0?.[0] as SioPeer;
      const b = g1?.[0] as SioPeer;
      const c = g2?.[0] as SioPeer;
      await ackOf(a, 'join', 'pyroom');
      await ackOf(c, 'join', 'pyroom');
      await pythonEmits(
        channel,
        "m.emit('py', ('one', 2, {'x': 1, 'ü': [None, True, 1.5]}), room='pyroom')\n" +
          "m.emit('py-fence', 'done')",
      );
      await settle([a, b, c], 'py-fence', 1);
      const expected = [['one', 2, { x: 1, ü: [null, true, 1.5] }]];
      expect(received(a, 'py')).to.deep.equal(expected);
      expect(received(c, 'py')).to.deep.equal(expected);
      expect(received(b, 'py')).to.deep.equal([]);
      for (const p of [a, b, c]) expect(received(p, 'py-fence')).to.deep.equal([['done']]);
    });

    it('delivers single values, lists and None to every client of every process', async function () {
      const peers = (await needPython(this).spread(2)).flat();
      await pythonEmits(
        channel,
        "m.emit('py-one', {'n': 2**40, 's': 'émoji 🎉', 'f': -0.5})\n" +
          "m.emit('py-list', [1, 'two', [3]])\n" +
          "m.emit('py-none', None)\n" +
          "m.emit('py-fence', 0)",
      );
      await settle(peers, 'py-fence', 1);
      for (const p of peers) {
        expect(received(p, 'py-one')).to.deep.equal([[{ n: 2 ** 40, s: 'émoji 🎉', f: -0.5 }]]);
        expect(received(p, 'py-list')).to.deep.equal([[[1, 'two', [3]]]]);
        expect(received(p, 'py-none')).to.deep.equal([[]]);
      }
    });

    it('delivers an int beyond 2^53 the way a Python server would (a JSON number)', async function () {
      const peers = (await needPython(this).spread(1)).flat();
      await pythonEmits(channel, "m.emit('py-big', {'big': 2**60})\nm.emit('py-fence', 0)");
      await settle(peers, 'py-fence', 1);
      for (const p of peers) expect(received(p, 'py-big')).to.deep.equal([[{ big: 2 ** 60 }]]);
    });

    it('honours skip_sid', async function () {
      const [g0, g1, g2] = await needPython(this).spread(1);
      const peers = [g0?.[0], g1?.[0], g2?.[0]] as SioPeer[];
      const [a, b, c] = peers as [SioPeer, SioPeer, SioPeer];
      await pythonEmits(
        channel,
        `m.emit('py-skip', 'not b', skip_sid=${py(b.id)})\n` +
          `m.emit('py-skip', 'not a nor c', skip_sid=[${py(a.id)}, ${py(c.id)}])\n` +
          "m.emit('py-fence', 0)",
      );
      await settle(peers, 'py-fence', 1);
      expect(received(a, 'py-skip')).to.deep.equal([['not b']]);
      expect(received(b, 'py-skip')).to.deep.equal([['not a nor c']]);
      expect(received(c, 'py-skip')).to.deep.equal([['not b']]);
    });

    it('closes a room and disconnects a client from Python', async function () {
      const [g0, g1, g2] = await needPython(this).spread(1);
      const [a, b, c] = [g0?.[0], g1?.[0], g2?.[0]] as [SioPeer, SioPeer, SioPeer];
      for (const p of [a, b, c]) await ackOf(p, 'join', 'pyclose');
      await pythonEmits(channel, `m.close_room('pyclose')\nm.disconnect(${py(c.id)})`);
      expect(await within(c.disconnects.next(), 'the client Python disconnected', 3000)).to.equal(
        'io server disconnect',
      );
      for (const p of [a, b]) {
        let rooms: unknown[] = [];
        await eventually(async () => {
          rooms = (await ackOf(p, 'rooms'))[0] as unknown[];
          return !rooms.includes('pyclose');
        }, 3000);
        expect(rooms).to.deep.equal([p.id]);
      }
      expect(a.socket.connected && b.socket.connected).to.equal(true);
    });
  });

  describe('a python-socketio server on the same Redis', function () {
    let pyServer: PyServer | undefined;
    let channel: string;
    const pyPeers: SioPeer[] = [];

    beforeEach(async function () {
      needPython(this);
      channel = uniqueChannel('py-server');
      pyServer = await startPyServer(channel);
    });

    afterEach(async function () {
      for (const p of pyPeers.splice(0)) p.socket.disconnect();
      if (pyServer !== undefined) await killChild(pyServer.child);
      pyServer = undefined;
    });

    /** A polling client of the Python server that has connected. */
    async function pyPeer(): Promise<SioPeer> {
      const peer = openPeer(pyServer?.port ?? 0, { transports: ['polling'] });
      pyPeers.push(peer);
      await within(peer.opened, 'a client of the Python server to connect', 5000);
      return peer;
    }

    /** Waits until `count` processes subscribe to the channel (Python subscribes at its first client). */
    async function subscribed(count: number): Promise<void> {
      const ok = await eventually(
        async () => (await subscribers(redis as Redis, channel)) >= count,
        5000,
      );
      expect(ok, `${count} subscribers on ${channel}`).to.equal(true);
    }

    it("lets our external emitter reach the Python server's clients", async function () {
      const [x, y] = [await pyPeer(), await pyPeer()];
      expect(await ackOf(x, 'join', 'pyroom')).to.deep.equal(['joined']);
      await subscribed(1);
      const ext = new SocketIO({ messageQueue: REDIS_URL, channel });
      try {
        ext.emit('news', { from: 'node', list: [1, 'two', null], ok: true });
        ext.emit('roomy', 'room only', { to: 'pyroom' });
        ext.emit('skipping', 'not x', { skipSid: x.id });
        ext.send('plain');
        ext.emit('fence', 0);
        await settle([x, y], 'fence', 1);
        for (const p of [x, y]) {
          expect(received(p, 'news')).to.deep.equal([
            [{ from: 'node', list: [1, 'two', null], ok: true }],
          ]);
          expect(received(p, 'message')).to.deep.equal([['plain']]);
        }
        expect(received(x, 'roomy')).to.deep.equal([['room only']]);
        expect(received(y, 'roomy')).to.deep.equal([]);
        expect(received(x, 'skipping')).to.deep.equal([]);
        expect(received(y, 'skipping')).to.deep.equal([['not x']]);

        ext.closeRoom('pyroom');
        ext.emit('roomy', 'after close', { to: 'pyroom' });
        ext.emit('fence', 1);
        await settle([x, y], 'fence', 2);
        expect(received(x, 'roomy')).to.deep.equal([['room only']]);
        expect(ext.queueStats()?.lost).to.equal(0);
      } finally {
        await ext.stop();
      }
    });

    it('shares a channel with our processes: broadcasts both ways, acks and disconnects', async function () {
      const c = needPython(this);
      // Our three processes join the Python server's channel.
      await c.restart('py-shared', REDIS_URL, channel);
      const ours = (await c.spread(1)).flat();
      const theirs = await pyPeer();
      await subscribed(4);

      // Ours → Python's client (JSON).
      await c.server(0).emit('hello-python', [{ x: 1 }]);
      await settle([...ours, theirs], 'hello-python', 1);
      for (const p of [...ours, theirs])
        expect(received(p, 'hello-python')).to.deep.equal([[{ x: 1 }]]);

      // Python's server → our clients (a pickled tuple: two arguments).
      expect(await ackOf(theirs, 'relay', 'abc')).to.deep.equal([true]);
      await settle([...ours, theirs], 'relayed', 1);
      for (const p of [...ours, theirs])
        expect(received(p, 'relayed')).to.deep.equal([['abc', 'from-python']]);

      // Cluster queries: the Python process skips them (methods it does not know) and sends no
      // heartbeat, so none waits for it; they see our processes' clients.
      expect(
        await eventually(async () => (await c.server(0).request({ op: 'peers' })) === 2, 5000),
        'process 0 counts our two others, not the Python server',
      ).to.equal(true);
      const started = Date.now();
      const fetched = (await c.server(0).request({ op: 'fetchSockets' })) as { id: string }[];
      expect(fetched.map((s) => s.id).sort()).to.deep.equal(ours.map((p) => p.id).sort());
      const who = (await c
        .server(0)
        .request({ op: 'serverSideEmitWithAck', event: 'whoami?', values: [] })) as number[];
      expect([...who].sort()).to.deep.equal([1, 2]);
      expect(Date.now() - started, 'ms the queries took').to.be.below(2000);

      // An emit with a callback from our process 1 to Python's client: its ack comes back.
      theirs.socket.on('question', (q: string, respond: (...values: unknown[]) => void) =>
        respond('py-ack', q.length),
      );
      expect(
        await c.server(1).request({
          op: 'emitAck',
          event: 'question',
          values: ['four'],
          sid: theirs.id,
          timeoutMs: 5000,
        }),
      ).to.deep.equal(['py-ack', 4]);
      expect(
        await c
          .server(2)
          .request({ op: 'call', event: 'question', values: ['xy'], sid: theirs.id, timeout: 5 }),
      ).to.deep.equal(['py-ack', 2]);

      // Our handler disconnects Python's client.
      expect(await ackOf(ours[0] as SioPeer, 'kick', theirs.id)).to.deep.equal([true]);
      expect(
        await within(theirs.disconnects.next(), "the Python server's client to go", 5000),
      ).to.equal('io server disconnect');
      expect(pyServer?.stderr.join('')).to.not.match(/Traceback/);
    });
  });
});
