/**
 * Misuse gets one line that names the fix, never silence: options passed where
 * the app goes, a namespace string where options go, socket.io and Flask-SocketIO
 * option names, typos, unknown emit options, and apps of the wrong kind.
 */
import { expect } from 'chai';
import Fastify from 'fastify';
import { EngineServer, SocketIO, UnknownOptionError, UsageError, emit } from '../../lib/index.js';
import { SioHarness } from '../helpers/socketio.js';

/** The error `fn` throws (fails when it throws nothing). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(Error);
    return error as Error;
  }
  throw new Error('expected a throw');
}

/** A one-line message containing `fix`. */
function expectFix(error: Error, fix: string): void {
  expect(error.message).to.include(fix);
  expect(error.message).to.not.include('\n');
}

describe('usage errors that name the fix', function () {
  const CONSTRUCTOR_CASES: readonly { readonly option: string; readonly fix: string }[] = [
    { option: 'cors', fix: 'did you mean corsAllowedOrigins?' },
    { option: 'allowRequest', fix: 'io.engine.use(' },
    { option: 'cors_allowed_origins', fix: 'did you mean corsAllowedOrigins?' },
    { option: 'async_mode', fix: 'did you mean asyncMode?' },
    { option: 'message_queue', fix: 'did you mean messageQueue?' },
    { option: 'engineio_logger', fix: 'did you mean engineioLogger?' },
    { option: 'corsAllowedOrigin', fix: 'did you mean corsAllowedOrigins?' },
    { option: 'pingIntervall', fix: 'did you mean pingInterval?' },
    { option: 'adapter', fix: 'did you mean messageQueue?' },
    { option: 'wibble', fix: 'the options are: ' },
  ];
  for (const { option, fix } of CONSTRUCTOR_CASES) {
    it(`refuses the option ${option} at construction: "${fix}"`, function () {
      const error = thrown(() => new SocketIO({ [option]: true }));
      expect(error).to.be.instanceOf(UnknownOptionError);
      expect((error as UnknownOptionError).code).to.equal('ERR_UNKNOWN_OPTION');
      expect(error.message).to.match(new RegExp(`^new SocketIO\\(\\): unknown option "${option}"`));
      expectFix(error, fix);
    });
  }

  it('refuses unknown and absurd messageQueueOptions at construction', function () {
    const messageQueue = 'redis://127.0.0.1:1/0';
    const unknown = thrown(
      () => new SocketIO({ messageQueue, messageQueueOptions: { maxBuffer: 5 } as never }),
    );
    expect(unknown).to.be.instanceOf(UnknownOptionError);
    expect((unknown as UnknownOptionError).code).to.equal('ERR_UNKNOWN_OPTION');
    expectFix(
      unknown,
      'messageQueueOptions: unknown option "maxBuffer"; did you mean maxBuffered?',
    );
    for (const [options, fix] of [
      [{ maxBuffered: 0 }, 'messageQueueOptions.maxBuffered: expected a whole number >= 1'],
      [{ queueExpires: 30_000 }, 'between 1 and 3600 (not milliseconds), got 30000'],
      [
        { requestTimeout: 5000 },
        'requestTimeout: expected a number of seconds between 0.1 and 600',
      ],
      [
        { routing: 'room' as never },
        "messageQueueOptions.routing: expected 'channel' or 'rooms', got \"room\"",
      ],
      [
        { heartbeatInterval: 2, heartbeatTimeout: 2 },
        'heartbeatTimeout: expected more seconds than heartbeatInterval (2); three times it is usual, got 2',
      ],
    ] as const) {
      const error = thrown(() => new SocketIO({ messageQueue, messageQueueOptions: options }));
      expect((error as UnknownOptionError).code).to.equal('ERR_INVALID_OPTION');
      expectFix(error, fix);
    }
  });

  it('refuses unknown options of a bare EngineServer', function () {
    const error = thrown(() => new EngineServer({ pingIntervall: 5 } as never));
    expectFix(
      error,
      'new EngineServer(): unknown option "pingIntervall"; did you mean pingInterval?',
    );
  });

  it('refuses { host, port } passed where run() takes the app', async function () {
    const io = new SocketIO();
    try {
      const error = await io.run({ host: '127.0.0.1', port: 0 } as never).then(
        () => new Error('run() resolved'),
        (e: unknown) => e as Error,
      );
      expect(error).to.be.instanceOf(UsageError);
      expectFix(error, 'write io.run(undefined, { host, port })');
    } finally {
      await io.stop();
    }
  });

  it('refuses an unknown key in run()’s { host, port }', async function () {
    const io = new SocketIO();
    try {
      const error = await io.run(undefined, { hostname: 'x' } as never).then(
        () => new Error('run() resolved'),
        (e: unknown) => e as Error,
      );
      expectFix(error, 'io.run(): unknown option "hostname"; did you mean host?');
    } finally {
      await io.stop();
    }
  });

  it('refuses an app of the wrong kind, and a Fastify instance, with what to pass', async function () {
    const io = new SocketIO();
    expectFix(
      thrown(() => new SocketIO(42 as never)),
      'new SocketIO(app): 42 is a port; write io.listen(42)',
    );
    expectFix(
      thrown(() => new SocketIO(true as never)),
      'the app must be an http.Server',
    );
    expectFix(
      thrown(() => void io.listen(io.engine as never)),
      'io.listen(port, host?) takes a port; to serve on your own server, use io.attach(server)',
    );
    const fastify = Fastify();
    expectFix(
      thrown(() => new SocketIO(fastify as never)),
      'for Fastify: fastify.server',
    );
    await fastify.close();
    expectFix(
      thrown(() => io.attach({} as never)),
      'io.attach(server): pass an http.Server or https.Server',
    );
  });

  it("refuses io.on('ev', handler, '/chat') with the options to write", function () {
    const io = new SocketIO();
    expectFix(
      thrown(() => io.on('ev', () => undefined, '/chat' as never)),
      "write { namespace: '/chat' }",
    );
    expectFix(
      thrown(() => io.on('ev', () => undefined, { namepsace: '/chat' } as never)),
      'did you mean namespace?',
    );
    expectFix(
      thrown(() => io.on('ev', 'handler' as never)),
      'the handler must be a function',
    );
  });

  it('refuses unknown options of io.emit, io.send, io.closeRoom and io.call', async function () {
    const io = new SocketIO();
    expectFix(
      thrown(() => io.emit('ev', 1, { include_self: false } as never)),
      'io.emit(): unknown option "include_self"; did you mean includeSelf?',
    );
    expectFix(
      thrown(() => io.emit('ev', 1, { acks: 5 } as never)),
      'io.emit(): unknown option "acks"; the options are:',
    );
    expectFix(
      thrown(() => io.send('hi', { jsn: true } as never)),
      'did you mean json?',
    );
    expectFix(
      thrown(() => io.closeRoom('r', { nsp: '/' } as never)),
      'unknown option "nsp"',
    );
    const error = await io
      .call('ev', 1, { to: 'x', timout: 1 } as never)
      .catch((e: unknown) => e as Error);
    expectFix(error as Error, 'did you mean timeout?');
  });

  describe('inside a handler', function () {
    let h: SioHarness;
    beforeEach(async function () {
      h = await SioHarness.start({ asyncMode: 'event-loop' });
    });
    afterEach(() => h.stop());

    it('sends the handler error (include_self in emit) to the error handler', async function () {
      h.io.on('shout', () => emit('shout', 1, { broadcast: true, include_self: false } as never));
      h.io.onError((error: unknown) => (error as Error).message);
      const peer = await h.connect();
      const answer: unknown = await peer.socket.emitWithAck('shout');
      expect(answer).to.equal('emit(): unknown option "include_self"; did you mean includeSelf?');
    });
  });
});
