/**
 * The official socket.io-client 3.x (the first release of Socket.IO protocol v5
 * and Engine.IO v4, installed here as `socket.io-client-v3`) against this
 * server, over long-polling, WebSocket and the upgrade: auth, events both
 * ways, acks both ways, binary, a second namespace, a server-side disconnect.
 */
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { args, disconnect, emit, request } from '../../lib/index.js';
import { CLIENT_TRANSPORTS, SioHarness, within } from '../helpers/socketio.js';

/** What this spec uses of a 3.x client socket (its package.json hides its types from NodeNext). */
interface Socket {
  readonly id: string;
  on(event: string, listener: (...values: never[]) => void): unknown;
  once(event: string, listener: (...values: unknown[]) => void): unknown;
  emit(event: string, ...values: unknown[]): unknown;
  close(): unknown;
}

const { io: connectV3 } = createRequire(import.meta.url)('socket.io-client-v3') as {
  io: (uri: string, options: Record<string, unknown>) => Socket;
};

/** Resolves with the first arguments of `event` on `socket`. */
function next(socket: Socket, event: string): Promise<unknown[]> {
  return within(
    new Promise((resolve) => socket.once(event, (...values: unknown[]) => resolve(values))),
    `event "${event}"`,
  );
}

/** An emit with an ack callback, as 3.x has no emitWithAck. */
function ask(socket: Socket, event: string, ...values: unknown[]): Promise<unknown[]> {
  return within(
    new Promise((resolve) =>
      socket.emit(event, ...values, (...answer: unknown[]) => resolve(answer)),
    ),
    `the ack of "${event}"`,
  );
}

describe('socket.io-client 3.x', function () {
  let h: SioHarness;
  before(async function () {
    h = await SioHarness.start({ asyncMode: 'event-loop' });
    h.io.on('connect', (auth: unknown) => emit('welcome', args(auth ?? null, request().sid)));
    h.io.on('echo', (value: unknown) => value);
    h.io.on('ask me', async () => (await h.io.call('question', 42, { to: request().sid }))[0]);
    h.io.on('bye', () => disconnect());
    h.io.on('echo', (value: string) => `chat:${value}`, { namespace: '/chat' });
  });
  after(() => h.stop());

  it('is a 3.x release of the client', function () {
    const { version } = createRequire(import.meta.url)('socket.io-client-v3/package.json') as {
      version: string;
    };
    expect(version).to.match(/^3\./);
  });

  for (const transport of CLIENT_TRANSPORTS) {
    it(`talks to the server over ${transport.name}`, async function () {
      const options = { forceNew: true, reconnection: false, ...transport.options };
      const socket = connectV3(h.origin, { ...options, auth: { token: 'v3' } });
      const chat = connectV3(`${h.origin}/chat`, options);
      try {
        socket.on('question', (n: number, ack: (answer: unknown) => void) => ack(n + 1));
        const [auth, sid] = await next(socket, 'welcome');
        expect(auth).to.deep.equal({ token: 'v3' });
        expect(sid).to.equal(socket.id);
        expect(await ask(socket, 'echo', { nested: [1, 'two'] })).to.deep.equal([
          { nested: [1, 'two'] },
        ]);
        const [bytes] = await ask(socket, 'echo', Buffer.from([1, 2, 255]));
        expect([...new Uint8Array(bytes as ArrayBuffer)]).to.deep.equal([1, 2, 255]);
        expect(await ask(chat, 'echo', 'x')).to.deep.equal(['chat:x']);
        expect(await ask(socket, 'ask me')).to.deep.equal([43]);
        const gone = next(socket, 'disconnect');
        socket.emit('bye');
        expect(await gone).to.deep.equal(['io server disconnect']);
      } finally {
        socket.close();
        chat.close();
      }
    });
  }
});
