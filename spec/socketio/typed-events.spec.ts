/**
 * Typed events at run time: a server typed by a pair of event maps and the official
 * socket.io-client typed by the same pair the other way round (`Socket<ServerToClient,
 * ClientToServer>`), with acks both ways and a typed session, in every async mode (in
 * worker-pool mode the handlers run in a pool thread), over every transport of the client. What
 * the compiler refuses is proved by spec/types/.
 */
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { args, SocketIO } from '../../lib/index.js';
import type { DefaultEventsMap } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST, modeOptions } from '../helpers/modes.js';
import { Inbox } from '../helpers/raw-engine.js';
import { CLIENT_TRANSPORTS, PROMPT_MS, recordingLogger, within } from '../helpers/socketio.js';
import { registerTypedHandlers } from '../fixtures/typed-handlers.js';
import type {
  ClientToServer,
  Data,
  ServerToClient,
  TypedServer,
} from '../fixtures/typed-handlers.js';

/** The client's side of the maps: it listens to what the server sends, and sends the rest. */
type TypedClient = Socket<ServerToClient, ClientToServer>;

const TYPED_APP = new URL('../fixtures/typed-app.js', import.meta.url);

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  describe(`typed events: one pair of event maps types the server and socket.io-client [${asyncMode}]`, function () {
    const logger = recordingLogger();
    let io: TypedServer;
    let port: number;
    const clients: TypedClient[] = [];

    before(async function () {
      const pool = asyncMode === 'worker-pool' ? { appModule: TYPED_APP.href } : {};
      io = new SocketIO<ClientToServer, ServerToClient, DefaultEventsMap, Data>({
        logger,
        ...modeOptions(asyncMode),
        ...pool,
      });
      registerTypedHandlers(io);
      ({ port } = await io.run(undefined, { host: '127.0.0.1', port: 0 }));
    });
    afterEach(() => clients.splice(0).forEach((client) => client.disconnect()));
    after(() => io.stop());

    /** A typed client that has connected, answering the server's `ask`, and its sid. */
    async function client(options: object): Promise<{ socket: TypedClient; sid: string }> {
      const socket: TypedClient = connect(`http://127.0.0.1:${port}`, {
        forceNew: true,
        reconnection: false,
        // emitWithAck rejects after this (socket.timeout() would type its value as any).
        ackTimeout: PROMPT_MS,
        ...options,
      });
      clients.push(socket);
      socket.on('ask', (question, ack) => ack(question === 'ready?'));
      await within(
        new Promise<void>((resolve) => socket.once('connect', resolve)),
        'the connection',
      );
      if (socket.id === undefined) throw new Error('connected without an id');
      return { socket, sid: socket.id };
    }

    for (const transport of CLIENT_TRANSPORTS) {
      it(`acks a handler's typed return value, emits typed events, keeps a typed session [${transport.name}]`, async function () {
        const { socket, sid } = await client(transport.options);
        const chats = new Inbox<[string, string]>();
        socket.on('chat', (text, from) => chats.push([text, from]));

        const sum: number = await socket.emitWithAck('add', 2, 3);
        expect(sum).to.equal(5);
        socket.emit('name', 'ada');
        const count: number = await socket.emitWithAck('chat', 'hi');
        expect(count).to.equal(1);
        expect(await chats.next('the chat broadcast', PROMPT_MS)).to.deep.equal(['hi', 'ada']);

        const [fetched] = await io.in(sid).fetchSockets();
        expect({ name: fetched?.data.name, count: fetched?.data.count }).to.deep.equal({
          name: 'ada',
          count: 1,
        });
        expect(await io.to(sid).timeout(5).emitWithAck('ask', 'ready?')).to.deep.equal([true]);
        expect(await fetched?.timeout(5).emitWithAck('ask', 'why?')).to.equal(false);
        io.to(sid).emit('chat', 'from', 'outside');
        io.emit('chat', args('to', 'everyone'), { to: sid });
        expect([await chats.next('chat 2'), await chats.next('chat 3')]).to.deep.equal([
          ['from', 'outside'],
          ['to', 'everyone'],
        ]);
        expect(logger.errors).to.deep.equal([]);
      });
    }
  });
}
