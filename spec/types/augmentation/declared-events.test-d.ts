/**
 * Typed events declared by module augmentation, as an app declares them: `session()`, the
 * context `emit` and `call`, and `new SocketIO()` without type arguments all follow the
 * declaration. A program of its own (`npm run typecheck` runs
 * `tsc -p spec/types/augmentation/tsconfig.json`): an augmentation is seen by every file of a
 * program, and the other specs use untyped sessions and events. Nothing runs it; each
 * `@ts-expect-error` line must fail to compile.
 */
import { expectTypeOf } from 'expect-type';
import { args, call, emit, Namespace, send, session, SocketIO } from 'socketio-actors';
import type { FetchedSocket, ServerToClientEvents, SessionData } from 'socketio-actors';

declare module 'socketio-actors' {
  interface ClientToServerEvents {
    chat: (text: string) => void;
    add: (a: number, b: number, ack: (sum: number) => void) => void;
  }
  interface ServerToClientEvents {
    chat: (text: string, from: string) => void;
    ask: (question: string, ack: (yes: boolean) => void) => void;
  }
  interface SessionData {
    name?: string;
    count?: number;
  }
}

const io = new SocketIO();

io.on('chat', async (text) => {
  expectTypeOf(text).toEqualTypeOf<string>();
  // session() is the declared SessionData: a counter needs no cast.
  const data = session();
  expectTypeOf(data).toEqualTypeOf<SessionData>();
  data.count = (data.count ?? 0) + 1;
  // @ts-expect-error a key that is not declared
  data.cuont = 1;
  // @ts-expect-error a value of the wrong type
  data.name = 42;

  // The context emit and call are checked against ServerToClientEvents.
  emit('chat', args(text, data.name ?? 'someone'), { broadcast: true });
  // @ts-expect-error an event the server does not send
  emit('chatt', args(text, 'x'));
  // @ts-expect-error two arguments need args(...)
  emit('chat', text);
  const [yes] = await call('ask', 'ready?');
  expectTypeOf(yes).toEqualTypeOf<boolean>();
  emit('ask', 'ready?', { callback: (answer) => expectTypeOf(answer).toEqualTypeOf<boolean>() });
  // @ts-expect-error a question of the wrong type
  await call('ask', 42);
  // send (an unnamed message) is not checked against the map.
  send({ any: 'thing' });
});
io.on('add', (a, b) => a + b);
// @ts-expect-error an event clients do not send
io.on('chatt', () => undefined);
// @ts-expect-error an ack of the wrong type
io.on('add', (a, b) => `${a + b}`);

// The server's emits and sockets follow the declaration too.
io.emit('chat', args('hi', 'server'));
// @ts-expect-error a payload of the wrong type
io.emit('chat', args('hi', 2));
expectTypeOf(io.timeout(5).emitWithAck('ask', 'ready?')).toEqualTypeOf<Promise<boolean[]>>();
expectTypeOf(io.session()).toEqualTypeOf<SessionData>();
expectTypeOf(io.fetchSockets()).toEqualTypeOf<
  Promise<FetchedSocket<ServerToClientEvents, SessionData>[]>
>();

// So does a class-based namespace without type arguments.
class Chat extends Namespace {
  on_chat(text: string): void {
    this.emit('chat', args(text, this.session().name ?? 'someone'));
    // @ts-expect-error an event the server does not send
    this.emit('chatt', text);
  }
}
io.onNamespace(new Chat('/chat'));
