/**
 * Logging (`logger`, `engineioLogger`): connections and disconnections with
 * their reasons at info, handler errors at error with the event name, nothing
 * on the console by default, transport detail only through `engineioLogger`,
 * and no session id in info or warn lines.
 */
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { SocketIO, disconnect } from '../../lib/index.js';
import type { Logger, SocketIOOptions } from '../../lib/index.js';
import { waitFor } from '../helpers/raw-engine.js';
import { SioPeer, deferred, within } from '../helpers/socketio.js';
import type { ClientOptions } from '../helpers/socketio.js';

/** The lines a logger received, per level. */
interface LogLines {
  readonly debug: string[];
  readonly info: string[];
  readonly warn: string[];
  readonly error: string[];
}

function text(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
}

/** A logger that keeps every line (arguments joined by spaces). */
function recordingLogger(): { logger: Logger; lines: LogLines } {
  const lines: LogLines = { debug: [], info: [], warn: [], error: [] };
  const level =
    (into: string[]) =>
    (...args: unknown[]): void => {
      into.push(args.map(text).join(' '));
    };
  return {
    lines,
    logger: {
      debug: level(lines.debug),
      info: level(lines.info),
      warn: level(lines.warn),
      error: level(lines.error),
    },
  };
}

type ConsoleMethod = 'log' | 'info' | 'debug' | 'warn' | 'error';

/** Replaces console methods with recorders (`<method>: <line>`) until `restore()`. */
function captureConsole(methods: readonly ConsoleMethod[]): {
  lines: string[];
  restore(): void;
} {
  const lines: string[] = [];
  const saved = methods.map((m) => Object.getOwnPropertyDescriptor(console, m));
  for (const m of methods)
    console[m] = (...args: unknown[]): void => void lines.push(`${m}: ${args.map(text).join(' ')}`);
  return {
    lines,
    restore() {
      methods.forEach((m, i) => {
        const descriptor = saved[i];
        if (descriptor !== undefined) Object.defineProperty(console, m, descriptor);
      });
    },
  };
}

describe('logging', function () {
  const servers: SocketIO[] = [];
  const peers: SioPeer[] = [];

  async function serve(options: SocketIOOptions, setup: (io: SocketIO) => void): Promise<number> {
    const io = new SocketIO(options);
    setup(io);
    servers.push(io);
    const { port } = await io.run(undefined, { host: '127.0.0.1', port: 0 });
    return port;
  }

  async function client(port: number, nsp = '/', options: ClientOptions = {}): Promise<SioPeer> {
    const peer = new SioPeer(
      connect(`http://127.0.0.1:${port}${nsp}`, {
        forceNew: true,
        reconnection: false,
        transports: ['websocket'],
        ...options,
      }),
    );
    peers.push(peer);
    await within(peer.opened, `the connection to ${nsp}`);
    return peer;
  }

  afterEach(async function () {
    for (const peer of peers.splice(0)) peer.socket.disconnect();
    await Promise.all(servers.splice(0).map((io) => io.stop()));
  });

  it('logs connections and disconnections with their reasons at info', async function () {
    const { logger, lines } = recordingLogger();
    const port = await serve({ logger }, (io) => {
      io.on('leave me', () => disconnect());
      io.on('connect', () => undefined, { namespace: '/chat' });
    });

    const ann = await client(port);
    expect(await waitFor(() => lines.info.includes('client connected to /'))).to.equal(true);
    const bob = await client(port, '/chat');
    expect(await waitFor(() => lines.info.includes('client connected to /chat'))).to.equal(true);

    ann.socket.disconnect();
    expect(
      await waitFor(() =>
        lines.info.includes('client disconnected from /: client namespace disconnect'),
      ),
      JSON.stringify(lines.info),
    ).to.equal(true);

    const other = await client(port);
    other.socket.emit('leave me');
    expect(await within(other.disconnects.next('the server disconnect'), 'it')).to.equal(
      'io server disconnect',
    );
    expect(
      await waitFor(() =>
        lines.info.includes('client disconnected from /: server namespace disconnect'),
      ),
      JSON.stringify(lines.info),
    ).to.equal(true);

    // The whole connection going away (the client's engine closes) is logged with its reason too.
    bob.socket.io.engine.close();
    expect(
      await waitFor(() => lines.info.some((l) => l.startsWith('client disconnected from /chat: '))),
      JSON.stringify(lines.info),
    ).to.equal(true);
    expect(lines.info.find((l) => l.startsWith('client disconnected from /chat: '))).to.equal(
      'client disconnected from /chat: transport close',
    );
    expect(lines.error).to.deep.equal([]);
    expect(lines.warn).to.deep.equal([]);
  });

  it('logs a refused connection at info', async function () {
    const { logger, lines } = recordingLogger();
    const port = await serve({ logger }, (io) => {
      io.on('connect', () => false, { namespace: '/closed' });
    });
    const peer = new SioPeer(
      connect(`http://127.0.0.1:${port}/closed`, {
        forceNew: true,
        reconnection: false,
        transports: ['websocket'],
      }),
    );
    peers.push(peer);
    await peer.opened.then(
      () => expect.fail('the connection was accepted'),
      () => undefined,
    );
    expect(
      await waitFor(() => lines.info.some((l) => l.startsWith('client refused on /closed: '))),
      JSON.stringify(lines.info),
    ).to.equal(true);
  });

  it('logs a handler error at error with the event name', async function () {
    const { logger, lines } = recordingLogger();
    const port = await serve({ logger }, (io) => {
      io.on('explode', () => {
        throw new Error('kaboom');
      });
      io.on('explode later', async () => {
        await io.sleep(0.001);
        throw new TypeError('delayed kaboom');
      });
      io.on('ok', () => 'fine');
    });
    const peer = await client(port);
    peer.socket.emit('explode');
    peer.socket.emit('explode later');
    // The client's next event is still handled.
    expect(await peer.emitAck('ok')).to.deep.equal(['fine']);
    expect(await waitFor(() => lines.error.length >= 2), JSON.stringify(lines.error)).to.equal(
      true,
    );
    expect(lines.error).to.have.length(2);
    const [first, second] = lines.error;
    expect(first).to.include('"explode"');
    expect(first).to.include('Error: kaboom');
    expect(second).to.include('"explode later"');
    expect(second).to.include('TypeError: delayed kaboom');
    expect(peer.socket.connected).to.equal(true);
  });

  it('leaves a handler error to the error handler when there is one', async function () {
    const { logger, lines } = recordingLogger();
    const handled = deferred<string>();
    const port = await serve({ logger }, (io) => {
      io.on('explode', () => {
        throw new Error('kaboom');
      });
      io.on('ok', () => 'fine');
      io.onError((error) => handled.resolve(text(error)));
    });
    const peer = await client(port);
    peer.socket.emit('explode');
    expect(await within(handled.promise, 'the error handler')).to.equal('Error: kaboom');
    expect(await peer.emitAck('ok')).to.deep.equal(['fine']);
    expect(lines.error).to.deep.equal([]);
  });

  it('keeps session ids out of info and warn lines', async function () {
    const { logger, lines } = recordingLogger();
    const { logger: engineLogger, lines: engineLines } = recordingLogger();
    const port = await serve({ logger, engineioLogger: engineLogger }, (io) => {
      io.on('explode', () => {
        throw new Error('kaboom');
      });
      io.on('connect', () => false, { namespace: '/closed' });
    });
    const ids: string[] = [];
    for (const options of [{ transports: ['websocket'] }, { transports: ['polling'] }, {}]) {
      const peer = await client(port, '/', options);
      ids.push(peer.socket.io.engine.id, peer.id);
      peer.socket.emit('explode');
      // A second namespace on the same connection, refused by its connect handler.
      const refused = new SioPeer(peer.socket.io.socket('/closed'));
      await refused.opened.then(
        () => expect.fail('the connection was accepted'),
        () => undefined,
      );
      peer.socket.disconnect();
    }
    expect(
      await waitFor(
        () => lines.info.filter((l) => l.startsWith('client disconnected')).length === 3,
      ),
      JSON.stringify(lines.info),
    ).to.equal(true);
    expect(ids.every((id) => id.length >= 8)).to.equal(true);
    const infoAndWarn = [...lines.info, ...lines.warn, ...engineLines.info, ...engineLines.warn];
    expect(infoAndWarn.length).to.be.greaterThan(0);
    for (const line of infoAndWarn)
      for (const id of ids) expect(line, `a line names session ${id}`).to.not.include(id);
    // The ids are there for whoever turns debug on.
    const socketIds = ids.filter((_, i) => i % 2 === 1);
    for (const id of socketIds)
      expect(
        lines.debug.some((l) => l.includes(id)),
        id,
      ).to.equal(true);
  });

  it('is quiet by default: nothing on the console for connections and disconnections', async function () {
    const consoleLines = captureConsole(['log', 'info', 'debug', 'warn', 'error']);
    const disconnected = deferred<string>();
    try {
      const port = await serve({}, (io) => {
        io.on('disconnect', (reason: string) => disconnected.resolve(reason));
        io.on('hello', () => 'hi');
      });
      for (const options of [{ transports: ['websocket'] }, { transports: ['polling'] }]) {
        const peer = await client(port, '/', options);
        expect(await peer.emitAck('hello')).to.deep.equal(['hi']);
        peer.socket.emit('nobody handles this');
      }
      for (const peer of peers) peer.socket.disconnect();
      expect(await within(disconnected.promise, 'a disconnect')).to.equal(
        'client namespace disconnect',
      );
    } finally {
      consoleLines.restore();
    }
    expect(consoleLines.lines).to.deep.equal([]);
  });

  it('logger: true writes connections to the console at info, without session ids', async function () {
    const consoleLines = captureConsole(['log', 'info', 'debug']);
    const captured = consoleLines.lines;
    const ids: string[] = [];
    try {
      const port = await serve({ logger: true }, (io) => io.on('hello', () => 'hi'));
      const peer = await client(port);
      ids.push(peer.id, peer.socket.io.engine.id);
      expect(
        await waitFor(() => captured.includes('info: socketio-actors: client connected to /')),
        JSON.stringify(captured),
      ).to.equal(true);
      peer.socket.disconnect();
      expect(
        await waitFor(() =>
          captured.includes(
            'info: socketio-actors: client disconnected from /: client namespace disconnect',
          ),
        ),
        JSON.stringify(captured),
      ).to.equal(true);
    } finally {
      consoleLines.restore();
    }
    // Like Flask-SocketIO's logger=True (INFO): the per-session debug detail stays off the console.
    for (const line of captured)
      for (const id of ids) expect(line, `a console line names session ${id}`).to.not.include(id);
  });

  it('engineioLogger gets transport-level debug lines, and only it', async function () {
    const { logger: engineLogger, lines } = recordingLogger();
    const port = await serve({ engineioLogger: engineLogger }, (io) => io.on('hello', () => 'hi'));

    const polling = await client(port, '/', { transports: ['polling'] });
    const pollingId = polling.socket.io.engine.id;
    expect(lines.debug).to.include(`engine connection ${pollingId} opened over polling`);

    const ws = await client(port, '/', { transports: ['websocket'] });
    const wsId = ws.socket.io.engine.id;
    expect(lines.debug).to.include(`engine connection ${wsId} opened over websocket`);

    ws.socket.disconnect();
    polling.socket.disconnect();
    expect(
      await waitFor(
        () =>
          lines.debug.some((l) => l.startsWith(`engine connection ${wsId} closed: `)) &&
          lines.debug.some((l) => l.startsWith(`engine connection ${pollingId} closed: `)),
      ),
      JSON.stringify(lines.debug),
    ).to.equal(true);
    expect(lines.debug.find((l) => l.startsWith(`engine connection ${wsId} closed: `))).to.match(
      /closed: (transport close|forced close)$/,
    );
    // Socket.IO-level lines go to `logger`, not here.
    expect(lines.debug.some((l) => l.startsWith('client '))).to.equal(false);
    expect(lines.info).to.deep.equal([]);
    expect(lines.warn).to.deep.equal([]);
    expect(lines.error).to.deep.equal([]);
  });
});
