/**
 * `parser: 'msgpack'` with the official client and socket.io-msgpack-parser over WebSocket,
 * polling and the upgrade, in every async mode: binary payloads inside the packets, acks
 * both ways, a second namespace, refusals with data, a server disconnect. Then, once: the
 * refusal of a client of the other parser (both ways), malformed msgpack and the decoder's
 * limits closing only that client, the test client, the option's checks, and
 * python-socketio's `serializer='msgpack'`.
 */
import { expect } from 'chai';
import {
  ConnectionRefusedError,
  OptionError,
  SocketIO,
  ack,
  args,
  call,
  disconnect,
  emit,
  joinRoom,
  request,
} from '../../lib/index.js';
import type { SocketIOOptions } from '../../lib/index.js';
import { fullLogger } from '../helpers/hostile.js';
import type { LogLine } from '../helpers/hostile.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { MSGPACK, RawMsgpack, TYPE, clientCodec } from '../helpers/msgpack.js';
import { runPython } from '../helpers/queues.js';
import {
  CLIENT_TRANSPORTS,
  SYNC_EVENT,
  SioHarness,
  bytesOf,
  deferred,
  within,
} from '../helpers/socketio.js';

/** The client side of an ack: the callback the official client passes to a handler. */
type AckCallback = (...values: unknown[]) => void;

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`the msgpack parser [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode, parser: 'msgpack' }, transport);
      });
      afterEach(() => h.stop());

      it('connects with auth and carries binary both ways inside the packets', async function () {
        const seen = deferred<unknown[]>();
        h.io.on('connect', (auth: unknown) => emit('welcome', auth));
        h.io.on('bytes', (...values: unknown[]) => {
          seen.resolve(values);
          emit('bytes back', args(Buffer.from([9, 8]), { nested: [new Uint8Array([7]).buffer] }));
        });
        const peer = await h.connect('/', { ...MSGPACK, auth: { token: 'x', n: [1.5, -2] } });
        expect(await peer.next('welcome')).to.deep.equal([{ token: 'x', n: [1.5, -2] }]);
        peer.socket.emit('bytes', Buffer.from([1, 2, 3]), {
          typed: new Uint8Array([4, 5]),
          one: new Uint8Array([0]),
          text: 'é',
        });
        const [buffer, wrapper] = await within(seen.promise, 'the bytes handler');
        expect(Buffer.isBuffer(buffer), 'a Buffer on the server').to.equal(true);
        expect(bytesOf(buffer)).to.deep.equal([1, 2, 3]);
        const { typed, one, text } = wrapper as Record<string, unknown>;
        expect(Buffer.isBuffer(typed) && bytesOf(typed)).to.deep.equal([4, 5]);
        expect(Buffer.isBuffer(one) && bytesOf(one)).to.deep.equal([0]);
        expect(text).to.equal('é');
        const [back, nested] = await peer.next('bytes back');
        expect(bytesOf(back)).to.deep.equal([9, 8]);
        expect(bytesOf((nested as { nested: unknown[] }).nested[0])).to.deep.equal([7]);
      });

      it("acks the client's emits with the handler's value, binary included", async function () {
        h.io.on('double', (data: Buffer, n: number) =>
          ack(Buffer.concat([data, data]), { n: n * 2 }),
        );
        h.io.on('nothing', () => undefined);
        const peer = await h.connect('/', MSGPACK);
        const [doubled, wrapper] = await peer.emitAck('double', Buffer.from([1, 2]), 21);
        expect(bytesOf(doubled)).to.deep.equal([1, 2, 1, 2]);
        expect(wrapper).to.deep.equal({ n: 42 });
        expect(await peer.emitAck('nothing')).to.deep.equal([]);
      });

      it("calls an emit's callback and resolves call() with the client's binary acks", async function () {
        const answered = deferred<unknown[]>();
        const called = deferred<unknown[]>();
        h.io.on('start', async () => {
          emit('question', Buffer.from([1]), {
            callback: (...values: unknown[]) => answered.resolve(values),
          });
          called.resolve(await call('quiz', { q: Buffer.from([2]) }, { timeout: 5 }));
        });
        const peer = await h.connect('/', MSGPACK);
        peer.socket.on('question', (q: Buffer, reply: AckCallback) => reply('because', q));
        peer.socket.on('quiz', (q: { q: Buffer }, reply: AckCallback) =>
          reply(Buffer.concat([q.q, Buffer.from([3])])),
        );
        peer.socket.emit('start');
        const [because, q] = await within(answered.promise, 'the callback');
        expect(because).to.equal('because');
        expect(Buffer.isBuffer(q) && bytesOf(q)).to.deep.equal([1]);
        const [quiz] = await within(called.promise, 'call()');
        expect(Buffer.isBuffer(quiz) && bytesOf(quiz)).to.deep.equal([2, 3]);
      });

      it('serves a second namespace on the same connection, with rooms', async function () {
        h.io.on('join', (room: string) => joinRoom(room), { namespace: '/chat' });
        h.io.on(
          'say',
          (room: string, text: string) => emit('said', args(text, Buffer.from(text)), { to: room }),
          { namespace: '/chat' },
        );
        h.io.on('where', () => request().namespace);
        const manager = h.manager(MSGPACK);
        const main = h.managedPeer(manager, '/');
        const chat = h.managedPeer(manager, '/chat');
        await within(Promise.all([main.opened, chat.opened]), 'both namespaces');
        expect(await main.emitAck('where')).to.deep.equal(['/']);
        expect(await chat.emitAck('join', 'lobby')).to.deep.equal([]);
        chat.socket.emit('say', 'lobby', 'hi');
        const [text, bytes] = await chat.next('said');
        expect(text).to.equal('hi');
        expect(bytesOf(bytes)).to.deep.equal([...Buffer.from('hi')]);
        await main.sync();
        expect(main.inbox('said').items).to.deep.equal([]);
      });

      it('refuses a connection with its message and data, and an unknown namespace', async function () {
        h.io.on(
          'connect',
          () => {
            throw new ConnectionRefusedError('not today', { retry: false, code: 42 });
          },
          { namespace: '/private' },
        );
        const refused = await h.peer('/private', MSGPACK).refusal();
        expect(refused.message).to.equal('not today');
        expect(refused.data).to.deep.equal({ retry: false, code: 42 });
        const unknown = await h.peer('/nowhere', MSGPACK).refusal();
        expect(unknown.message).to.equal('Invalid namespace');
      });

      it('disconnects a client from the server side', async function () {
        h.io.on('leave', () => disconnect());
        const peer = await h.connect('/', MSGPACK);
        peer.socket.emit('leave');
        expect(await within(peer.disconnects.next('disconnect'), 'disconnect')).to.equal(
          'io server disconnect',
        );
      });
    });
  }
}

describe('a client of the other parser', function () {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`[${transport.name}]`, function () {
      let h: SioHarness | undefined;
      afterEach(() => h?.stop());

      async function start(options: SocketIOOptions): Promise<{
        h: SioHarness;
        lines: LogLine[];
      }> {
        const logger = fullLogger();
        h = await SioHarness.start({ asyncMode: 'event-loop', logger, ...options }, transport);
        return { h, lines: logger.lines };
      }

      it("gets a connect_error from a msgpack server, whose log names parser: 'msgpack'", async function () {
        const { h, lines } = await start({ parser: 'msgpack' });
        const refused = await h.peer('/chat').refusal();
        expect(refused.message).to.match(/^parser mismatch: this server uses parser: 'msgpack'/);
        expect(refused.message).to.contain('socket.io-msgpack-parser');
        expect(
          lines.filter((line) => line.level === 'warn').map((line) => line.text),
        ).to.deep.equal([
          "a client sent JSON (text) where parser: 'msgpack' reads binary: give the client the msgpack parser (socket.io-client: io(url, { parser: require('socket.io-msgpack-parser') }); python-socketio: socketio.Client(serializer='msgpack')), or remove parser: 'msgpack' from the server",
        ]);
        const peer = await h.connect('/', MSGPACK);
        expect(await peer.emitAck(SYNC_EVENT)).to.deep.equal([true]);
      });

      it('gets a connect_error from a JSON server, whose log names the fix', async function () {
        const { h, lines } = await start({});
        const refused = await h.peer('/chat', MSGPACK).refusal();
        expect(refused.message).to.equal(
          "parser mismatch: this server uses the JSON parser; remove the client's msgpack parser, or set parser: 'msgpack' on the server",
        );
        expect(
          lines.filter((line) => line.level === 'warn').map((line) => line.text),
        ).to.deep.equal([
          "a client sent msgpack (binary) where the JSON parser reads text: set parser: 'msgpack' on the server (new SocketIO({ parser: 'msgpack' })), or remove the msgpack parser from the client",
        ]);
        const peer = await h.connect('/');
        expect(await peer.emitAck(SYNC_EVENT)).to.deep.equal([true]);
      });
    });
  }
});

describe('malformed msgpack from a client', function () {
  let h: SioHarness;
  let lines: LogLine[];
  beforeEach(async function () {
    const logger = fullLogger();
    lines = logger.lines;
    h = await SioHarness.start({
      asyncMode: 'event-loop',
      parser: 'msgpack',
      logger,
      maxEventNameLength: 8,
      maxArgumentDepth: 4,
    });
    h.io.on('echo', (value: unknown) => value);
  });
  afterEach(() => h.stop());

  const deep = (levels: number): unknown => {
    let value: unknown = 0;
    for (let i = 0; i < levels; i++) value = [value];
    return value;
  };

  const BAD: readonly { name: string; bytes: () => Buffer }[] = [
    { name: 'bytes that are not msgpack', bytes: () => Buffer.from([0xc1, 0xff, 0x00]) },
    {
      name: 'a truncated packet',
      bytes: () =>
        clientCodec.encode({ type: 2, nsp: '/', data: ['echo', 'long text'] }).subarray(0, 12),
    },
    {
      name: 'trailing bytes after the packet',
      bytes: () =>
        Buffer.concat([
          clientCodec.encode({ type: 2, nsp: '/', data: ['echo'] }),
          Buffer.from([0x00]),
        ]),
    },
    // notepack.io (socket.io-msgpack-parser's own decoder) allocates and fills 4 GiB for this.
    { name: 'an ext 32 header claiming 4 GiB', bytes: () => Buffer.from('c9ffffffff00', 'hex') },
    {
      name: 'an array header claiming 4 billion items',
      bytes: () => Buffer.from('ddffffffff', 'hex'),
    },
    { name: 'a value that is not a map', bytes: () => clientCodec.encode([2, '/', ['echo']]) },
    {
      name: 'a packet without a namespace',
      bytes: () => clientCodec.encode({ type: 2, data: ['echo'] }),
    },
    {
      name: 'an unknown packet type',
      bytes: () => clientCodec.encode({ type: 9, nsp: '/', data: ['echo'] }),
    },
    {
      name: 'a BINARY_EVENT type (msgpack has no attachments)',
      bytes: () => clientCodec.encode({ type: 5, nsp: '/', data: ['echo'] }),
    },
    {
      name: 'an event payload that is not an array',
      bytes: () => clientCodec.encode({ type: 2, nsp: '/', data: 'echo' }),
    },
    {
      name: 'a reserved event name',
      bytes: () => clientCodec.encode({ type: 2, nsp: '/', data: ['disconnect'] }),
    },
    {
      name: 'an event name past maxEventNameLength',
      bytes: () => clientCodec.encode({ type: 2, nsp: '/', data: ['much-too-long'] }),
    },
    {
      name: 'arguments past maxArgumentDepth',
      bytes: () => clientCodec.encode({ type: 2, nsp: '/', data: ['echo', deep(6)] }),
    },
    {
      name: 'a fractional ack id',
      bytes: () => clientCodec.encode({ type: 2, nsp: '/', data: ['echo'], id: 1.5 }),
    },
    {
      name: 'an ack without an id',
      bytes: () => clientCodec.encode({ type: 3, nsp: '/', data: [] }),
    },
    {
      name: 'a __proto__ key',
      bytes: () =>
        clientCodec.encode({
          type: 2,
          nsp: '/',
          data: ['echo', JSON.parse('{"__proto__":{"admin":true}}')],
        }),
    },
    { name: 'a second CONNECT', bytes: () => clientCodec.encode({ type: 0, nsp: '/' }) },
  ];

  for (const bad of BAD) {
    it(`closes only that client for ${bad.name}`, async function () {
      const good = await h.connect('/', MSGPACK);
      const raw = await RawMsgpack.open(h.wsUrl);
      await raw.connect('/');
      raw.send(bad.bytes());
      expect(await raw.closedWithin(2000), 'closed within 2 s').to.equal(true);
      expect(await good.emitAck('echo', 'still here')).to.deep.equal(['still here']);
      const closing = lines.filter(
        (line) =>
          line.level === 'info' && line.text.startsWith('closing a client that broke the protocol'),
      );
      expect(closing, JSON.stringify(lines)).to.have.length(1);
      expect(lines.filter((line) => line.level === 'error')).to.deep.equal([]);
    });
  }

  it('closes a client that sends a binary frame before it connects, and serves others', async function () {
    const raw = await RawMsgpack.open(h.wsUrl);
    raw.send(Buffer.from([0x93, 0x01]));
    expect(await raw.closedWithin(2000)).to.equal(true);
    const good = await h.connect('/', MSGPACK);
    expect(await good.emitAck('echo', 1)).to.deep.equal([1]);
  });

  it('reads CONNECT with a nil payload (python-socketio) and undefined and Dates from notepack', async function () {
    const seen = deferred<unknown[]>();
    h.io.on('kinds', (...values: unknown[]) => seen.resolve(values));
    const raw = await RawMsgpack.open(h.wsUrl);
    raw.send({ type: TYPE.CONNECT, nsp: '/', data: null });
    expect((await raw.next('CONNECT answer')).type).to.equal(TYPE.CONNECT);
    raw.send({
      type: TYPE.EVENT,
      nsp: '/',
      data: ['kinds', undefined, new Date(86_400_000), new Uint8Array(8).fill(1)],
    });
    const [nothing, date, eight] = await within(seen.promise, 'the kinds handler');
    expect(nothing).to.equal(undefined);
    expect(date).to.be.instanceOf(Date);
    expect((date as Date).getTime()).to.equal(86_400_000);
    expect(Buffer.isBuffer(eight) && bytesOf(eight)).to.deep.equal([1, 1, 1, 1, 1, 1, 1, 1]);
  });
});

describe('what a msgpack server sends', function () {
  let h: SioHarness;
  beforeEach(async function () {
    h = await SioHarness.start({ asyncMode: 'event-loop', parser: 'msgpack' });
  });
  afterEach(() => h.stop());

  it('sends what JSON would carry: views, large numbers, toJSON, Dates, no functions', async function () {
    const backing = new Uint8Array([1, 2, 3, 4, 5]);
    h.io.on('kinds', () =>
      emit('kinds', {
        view: new Uint8Array(backing.buffer, 1, 3),
        buffer: new Uint8Array([6, 7]).buffer,
        floats: new Float64Array([0.5]),
        big: 1e20,
        max: Number.MAX_VALUE,
        money: { toJSON: () => '12.50' },
        when: new Date(86_400_000),
        skipped: () => 'not data',
        missing: undefined,
        list: [undefined, () => 1],
      }),
    );
    const peer = await h.connect('/', MSGPACK);
    peer.socket.emit('kinds');
    const [got] = await peer.next('kinds');
    const { view, buffer, floats, when, ...rest } = got as Record<string, unknown>;
    expect(bytesOf(view)).to.deep.equal([2, 3, 4]);
    expect(bytesOf(buffer)).to.deep.equal([6, 7]);
    expect(bytesOf(floats)).to.deep.equal([...new Uint8Array(new Float64Array([0.5]).buffer)]);
    expect(when).to.be.instanceOf(Date);
    expect((when as Date).getTime()).to.equal(86_400_000);
    expect(rest).to.deep.equal({
      big: 1e20,
      max: Number.MAX_VALUE,
      money: '12.50',
      list: [null, null],
    });
  });
});

describe('the msgpack parser with the test client', function () {
  it('connects, emits and gets acks in the server format', async function () {
    const io = new SocketIO({ parser: 'msgpack' });
    io.on('connect', () => emit('hello', Buffer.from([1])));
    io.on('double', (n: number) => n * 2);
    const client = await io.testClient();
    expect(client.isConnected()).to.equal(true);
    const [hello] = client.getReceived();
    expect(hello?.name).to.equal('hello');
    expect(bytesOf(hello?.args[0])).to.deep.equal([1]);
    expect(await client.emit('double', 21, { callback: true })).to.deep.equal([42]);
    await io.stop();
  });
});

describe('the parser option', function () {
  it("accepts 'json' and 'msgpack' and refuses anything else, with the fix", function () {
    expect(() => new SocketIO({ parser: 'json' })).to.not.throw();
    expect(() => new SocketIO({ parser: 'cbor' as 'json' })).to.throw(
      OptionError,
      `option parser: expected 'json' or 'msgpack', got "cbor"`,
    );
    const socketIoStyle = { Encoder: class {}, Decoder: class {} };
    expect(() => new SocketIO({ parser: socketIoStyle as unknown as 'json' })).to.throw(
      OptionError,
      "(socket.io's parser: require('socket.io-msgpack-parser') is parser: 'msgpack' here)",
    );
  });

  it('refuses a json codec with the msgpack parser', function () {
    expect(() => new SocketIO({ parser: 'msgpack', json: JSON })).to.throw(
      OptionError,
      "option json: expected no json codec with parser: 'msgpack'",
    );
  });
});

/** python-socketio's default (JSON) client: the refusal it reports. */
const PYTHON_JSON_CLIENT = `
import sys, socketio
sio = socketio.Client()
errors = []
sio.on('connect_error', lambda data: errors.append(data['message']))
try:
    sio.connect(sys.argv[1], transports=['websocket'], wait_timeout=1)
except socketio.exceptions.ConnectionError:
    pass
print(errors[0] if errors else 'no connect_error')
`;

describe('a python-socketio client without the msgpack serializer', function () {
  it('gets a connect_error from a msgpack server', async function () {
    this.timeout(20_000);
    const h = await SioHarness.start({ asyncMode: 'event-loop', parser: 'msgpack' });
    try {
      const result = await runPython(['-c', PYTHON_JSON_CLIENT, h.origin]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout.trim()).to.match(/^parser mismatch: this server uses parser: 'msgpack'/);
    } finally {
      await h.stop();
    }
  });
});
