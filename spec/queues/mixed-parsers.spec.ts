/**
 * Servers with different parsers on one Redis channel: a msgpack server's broadcast reaches
 * the clients of a JSON server and of another msgpack server (and the other way round),
 * binary included; acks come back across them; the queue messages keep python-socketio's
 * JSON format (a JSON server's are unchanged, a msgpack server's only add `parser`); and a
 * python-socketio RedisManager reaches msgpack clients.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { emit } from '../../lib/index.js';
import { MSGPACK } from '../helpers/msgpack.js';
import { REDIS_URL, eventually, runPython, uniqueChannel } from '../helpers/queues.js';
import { SioHarness, bytesOf, deferred, within } from '../helpers/socketio.js';
import type { SioPeer } from '../helpers/socketio.js';

/** A write-only python-socketio RedisManager that emits `greet` to everyone on '/'. */
const PY_EMITTER = `
import sys, socketio
m = socketio.RedisManager(sys.argv[1], channel=sys.argv[2], write_only=True)
m.emit('greet', {'from': 'python', 'n': [1, 2]}, namespace='/')
`;

/** The queue messages on `channel` whose method is `emit`, as parsed JSON. */
async function watchEmits(channel: string): Promise<{ redis: Redis; seen: unknown[] }> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  const seen: unknown[] = [];
  redis.on('messageBuffer', (_channel: Buffer, payload: Buffer) => {
    // python-socketio publishes pickles (they start with the PROTO opcode 0x80).
    if (payload[0] === 0x80) return;
    const message = JSON.parse(payload.toString('utf8')) as { method?: unknown };
    if (message.method === 'emit') seen.push(message);
  });
  await redis.subscribe(channel);
  return { redis, seen };
}

describe('servers with different parsers on one message queue [Redis]', function () {
  this.timeout(30_000);
  const servers: SioHarness[] = [];
  let channel: string;
  let watcher: { redis: Redis; seen: unknown[] };
  let msgpackA: SioHarness;
  let json: SioHarness;
  let msgpackC: SioHarness;
  let a: SioPeer;
  let b: SioPeer;
  let c: SioPeer;

  beforeEach(async function () {
    channel = uniqueChannel('parsers');
    watcher = await watchEmits(channel);
    const start = async (parser: 'json' | 'msgpack'): Promise<SioHarness> => {
      const h = await SioHarness.start({
        asyncMode: 'event-loop',
        parser,
        messageQueue: REDIS_URL,
        channel,
      });
      servers.push(h);
      h.io.on('plain', (text: string) => emit('plain', { text }, { broadcast: true }));
      h.io.on('shout', (text: string) =>
        emit('shouted', { text, bytes: Buffer.from(text) }, { broadcast: true }),
      );
      return h;
    };
    msgpackA = await start('msgpack');
    json = await start('json');
    msgpackC = await start('msgpack');
    a = await msgpackA.connect('/', MSGPACK);
    b = await json.connect('/');
    c = await msgpackC.connect('/', MSGPACK);
    // Every server subscribed, and the watcher.
    const admin = new Redis(REDIS_URL);
    try {
      const subscribed = await eventually(async () => {
        const reply = (await admin.call('PUBSUB', 'NUMSUB', channel)) as [string, string];
        return Number(reply[1]) >= 4;
      }, 5000);
      expect(subscribed, 'three servers and the watcher subscribed').to.equal(true);
    } finally {
      admin.disconnect();
    }
  });

  afterEach(async function () {
    await Promise.all(servers.splice(0).map((h) => h.stop()));
    watcher.redis.disconnect();
  });

  async function everyoneGets(text: string): Promise<void> {
    for (const peer of [a, b, c]) {
      const [shouted] = await peer.next('shouted');
      const { text: got, bytes } = shouted as { text: string; bytes: unknown };
      expect(got).to.equal(text);
      expect(bytesOf(bytes)).to.deep.equal([...Buffer.from(text)]);
    }
  }

  it("a msgpack server's broadcast reaches JSON and msgpack clients of the others", async function () {
    a.socket.emit('shout', 'from msgpack');
    await everyoneGets('from msgpack');
  });

  it("a JSON server's broadcast reaches the msgpack clients of the others", async function () {
    b.socket.emit('shout', 'from json');
    await everyoneGets('from json');
  });

  it('keeps the queue messages in python-socketio format; msgpack ones only add parser', async function () {
    for (const [peer, text] of [
      [b, 'j'],
      [a, 'm'],
    ] as const) {
      peer.socket.emit('plain', text);
      for (const other of [a, b, c]) expect(await other.next('plain')).to.deep.equal([{ text }]);
      peer.socket.emit('shout', text);
      await everyoneGets(text);
    }
    await eventually(() => watcher.seen.length >= 4, 5000);
    const [plainJson, shoutJson, plainMsgpack, shoutMsgpack] = watcher.seen as Record<
      string,
      unknown
    >[];
    // What a python-socketio process reads: `data`, the one argument as is.
    expect(plainJson).to.deep.include({ method: 'emit', event: 'plain', data: { text: 'j' } });
    expect(plainMsgpack).to.deep.include({ method: 'emit', event: 'plain', data: { text: 'm' } });
    // Binary arguments are not python data: `data` is null and only the parts carry them.
    expect(shoutJson).to.include({ method: 'emit', event: 'shouted', data: null });
    expect(shoutMsgpack).to.include({ method: 'emit', event: 'shouted', data: null });
    for (const json of [plainJson, shoutJson]) expect(json).to.not.have.property('parser');
    for (const msgpack of [plainMsgpack, shoutMsgpack])
      expect(msgpack).to.have.property('parser', 'msgpack');
    expect(shoutJson?.parts, 'the text, then one attachment').to.be.an('array').with.length(2);
    expect(shoutMsgpack?.parts, 'one binary packet').to.be.an('array').with.length(1);
  });

  it("acks come back from a client of the other parser's server", async function () {
    b.socket.on('quiz', (q: unknown, reply: (...v: unknown[]) => void) =>
      reply(Buffer.concat([Buffer.from(bytesOf(q)), Buffer.from([8])])),
    );
    const asked = deferred<unknown[]>();
    msgpackA.io.on('ask b', async () => {
      asked.resolve(await msgpackA.io.call('quiz', Buffer.from([7]), { to: b.id, timeout: 5 }));
    });
    a.socket.emit('ask b');
    const [answer] = await within(asked.promise, 'the ack from the JSON server');
    expect(bytesOf(answer)).to.deep.equal([7, 8]);
  });

  it('a python-socketio RedisManager reaches msgpack clients', async function () {
    const result = await runPython(['-c', PY_EMITTER, REDIS_URL, channel]);
    expect(result.code, result.stderr).to.equal(0);
    for (const peer of [a, b, c])
      expect(await peer.next('greet')).to.deep.equal([{ from: 'python', n: [1, 2] }]);
  });
});
