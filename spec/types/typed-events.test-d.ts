/**
 * Typed events, proved by the compiler: `tsc -p tsconfig.json` checks this file (tsconfig.json
 * includes spec/) and nothing runs it. Every `@ts-expect-error` line must fail to compile (the
 * directive is itself an error when the line compiles), so each one proves that a wrong event
 * name, argument or ack is caught. The context functions typed by module augmentation are
 * proved in spec/types/augmentation/, a program of its own: an augmentation is seen by every
 * file of a program, and the other specs use untyped sessions and events.
 */
import { expectTypeOf } from 'expect-type';
import { ack, args, emit, Namespace, session, SocketIO } from '../../lib/index.js';
import type {
  Args,
  BroadcastOperator,
  DefaultEventsMap,
  EventArgs,
  EventHandlerOf,
  FetchedSocket,
} from '../../lib/index.js';

/** What clients send. */
interface ClientToServer {
  chat: (text: string) => void;
  add: (a: number, b: number, ack: (sum: number) => void) => void;
  pair: (ack: (name: string, age: number) => void) => void;
  maybe: (note?: string) => void;
}

/** What the server sends. */
interface ServerToClient {
  chat: (text: string, from: string) => void;
  tick: (n: number) => void;
  ping: () => void;
  ask: (question: string, ack: (yes: boolean) => void) => void;
}

/** What a session holds. */
interface Data {
  name?: string;
  count?: number;
}

const io = new SocketIO<ClientToServer, ServerToClient, DefaultEventsMap, Data>();

// io.on: the handler's parameters come from the event's name; its return value is the ack.
io.on('chat', (text) => expectTypeOf(text).toEqualTypeOf<string>());
io.on('add', (a, b) => a + b);
io.on('add', async (a, b) => Promise.resolve(a + b));
io.on('add', (a, b) => ack(a + b));
io.on('pair', () => ack('ada', 36));
io.on('maybe', (note) => expectTypeOf(note).toEqualTypeOf<string | undefined>());
io.on('chat', (text) => text.length); // no ack asked for: a value is dropped
io.onEvent('chat', (text) => expectTypeOf(text).toEqualTypeOf<string>());
expectTypeOf(io.on('add', (a: number) => a)).toEqualTypeOf<(a: number) => number>();
io.on('connect', (auth) => {
  expectTypeOf(auth).toEqualTypeOf<Record<string, unknown> | undefined>();
  return false;
});
io.on('disconnect', (reason) => expectTypeOf(reason).toEqualTypeOf<string>());
io.on('*', (event, ...rest) => {
  expectTypeOf(event).toEqualTypeOf<string>();
  expectTypeOf(rest).toEqualTypeOf<unknown[]>();
});
// @ts-expect-error an event clients do not send
io.on('chatt', () => undefined);
// @ts-expect-error a parameter of the wrong type
io.on('chat', (text: number) => text);
// @ts-expect-error more parameters than the event has
io.on('chat', (text: string, extra: string) => text + extra);
// @ts-expect-error an ack of the wrong type
io.on('add', (a, b) => `${a + b}`);
// @ts-expect-error an async ack of the wrong type
io.on('add', async (a, b) => Promise.resolve(`${a + b}`));
// @ts-expect-error several ack arguments in the wrong order
io.on('pair', () => ack(36, 'ada'));

// io.emit (Flask style): one data argument, args(...) for several, options last.
io.emit('tick', 1);
io.emit('tick', 1, { to: 'lobby', namespace: '/game' });
io.emit('chat', args('hi', 'server'));
io.emit('ping');
io.emit('ask', 'ready?', {
  to: 'a-sid',
  callback: (yes) => expectTypeOf(yes).toEqualTypeOf<boolean>(),
});
// @ts-expect-error an event the server does not send
io.emit('tock', 1);
// @ts-expect-error a payload of the wrong type
io.emit('tick', '1');
// @ts-expect-error a missing payload
io.emit('tick');
// @ts-expect-error two arguments need args(...)
io.emit('chat', 'hi');
// @ts-expect-error args(...) of the wrong types
io.emit('chat', args('hi', 2));
// @ts-expect-error a callback for an event without an ack
io.emit('tick', 1, { callback: () => undefined });
// @ts-expect-error typed, a timeout goes through the operators, whose callback is (err, responses)
io.emit('ask', 'ready?', { to: 'lobby', timeout: 5, callback: () => undefined });
io.to('lobby')
  .timeout(5)
  .emit('ask', 'ready?', (error, responses) => {
    expectTypeOf(error).toEqualTypeOf<Error | null>();
    expectTypeOf(responses).toEqualTypeOf<boolean[]>();
  });
expectTypeOf(io.call('ask', 'ready?', { to: 'a-sid' })).toEqualTypeOf<Promise<[yes: boolean]>>();
// @ts-expect-error call() of an event without an ack
void io.call('tick', 1, { to: 'a-sid' });
// @ts-expect-error call() has no callback option
void io.call('ask', 'ready?', { to: 'a-sid', callback: () => undefined });

// Operators (socket.io style): the event's arguments as they are.
io.to('lobby').except('muted').emit('chat', 'hi', 'server');
io.of('/game').volatile.emit('tick', 1);
io.local.emit('ping');
io.timeout(5).emit('ask', 'ready?', (error, responses) => {
  expectTypeOf(error).toEqualTypeOf<Error | null>();
  expectTypeOf(responses).toEqualTypeOf<boolean[]>();
});
expectTypeOf(io.timeout(5).emitWithAck('ask', 'ready?')).toEqualTypeOf<Promise<boolean[]>>();
expectTypeOf(io.to('lobby').emitWithAck('ask', 'ready?')).toEqualTypeOf<Promise<boolean[]>>();
expectTypeOf(io.emitWithAck('ask', 'ready?')).toEqualTypeOf<Promise<boolean[]>>();
expectTypeOf(io.in('lobby')).toEqualTypeOf<BroadcastOperator<ServerToClient, Data>>();
// @ts-expect-error a missing argument
io.to('lobby').emit('chat', 'hi');
// @ts-expect-error an argument of the wrong type
io.to('lobby').emit('tick', 'one');
// @ts-expect-error an event the server does not send
io.to('lobby').emit('tock');
// @ts-expect-error an ack callback for an event without an ack
io.to('lobby').emit('tick', 1, () => undefined);
// @ts-expect-error emitWithAck of an event without an ack
void io.timeout(5).emitWithAck('tick', 1);
// @ts-expect-error emitWithAck with an argument of the wrong type
void io.timeout(5).emitWithAck('ask', 42);

// Sockets as objects: data is the session, emits are checked.
async function sockets(): Promise<void> {
  const all = await io.fetchSockets({ room: 'lobby' });
  expectTypeOf(all).toEqualTypeOf<FetchedSocket<ServerToClient, Data>[]>();
  expectTypeOf(await io.to('lobby').fetchSockets()).toEqualTypeOf<typeof all>();
  for (const socket of all) {
    expectTypeOf(socket.data).toEqualTypeOf<Data>();
    expectTypeOf(socket.data.count).toEqualTypeOf<number | undefined>();
    socket.emit('tick', 1);
    expectTypeOf(await socket.timeout(5).emitWithAck('ask', 'ready?')).toEqualTypeOf<boolean>();
    // @ts-expect-error a session key that is not declared
    socket.data.cuont = 1;
    // @ts-expect-error a payload of the wrong type
    socket.emit('tick', '1');
  }
}
void sockets;

// io.session(): the current client's session, typed by the server's SessionData.
expectTypeOf(io.session()).toEqualTypeOf<Data>();
io.on('chat', () => {
  const data = io.session();
  data.count = (data.count ?? 0) + 1;
  // @ts-expect-error a session value of the wrong type
  data.name = 42;
});

// A class-based namespace takes its server's type arguments.
class Chat extends Namespace<ClientToServer, ServerToClient, DefaultEventsMap, Data> {
  on_chat(text: string): void {
    this.emit('chat', args(text, this.session().name ?? 'someone'));
    // @ts-expect-error a payload of the wrong type
    this.emit('tick', text);
  }
}
io.onNamespace(new Chat('/chat'));
class Untyped extends Namespace {}
// @ts-expect-error an untyped namespace on a typed server
io.onNamespace(new Untyped('/untyped'));

// The helper types, for handlers written apart from io.on.
const add: EventHandlerOf<ClientToServer, 'add'> = (a, b) => a + b;
io.on('add', add);
expectTypeOf<EventArgs<ServerToClient, 'chat'>>().toEqualTypeOf<[text: string, from: string]>();
expectTypeOf(args('hi', 2)).toEqualTypeOf<Args<[string, number]>>();

// Without type arguments (nothing declared by augmentation here): any event, any arguments.
const plain = new SocketIO();
plain.on('anything', (a: string, b: { x: number }) => a + String(b.x));
plain.on('connect', (auth: { token: string }) => auth.token);
plain.on('*', (event: string, ...rest: unknown[]) => [event, rest]);
plain.emit('whatever', { any: 'thing' }, { to: 'lobby', callback: (...acks: unknown[]) => acks });
plain.emit('nothing');
plain.to('lobby').emit('e', 1, 'two', { three: 3 });
plain.timeout(5).emit('e', (error: Error | null, responses: unknown[]) => [error, responses]);
expectTypeOf(plain.emitWithAck('e', 1)).toEqualTypeOf<Promise<unknown[]>>();
expectTypeOf(plain.call('e', 1, { to: 'a-sid' })).toEqualTypeOf<Promise<unknown[]>>();
expectTypeOf(plain.session()).toEqualTypeOf<Record<string, unknown>>();
expectTypeOf(plain.fetchSockets()).toEqualTypeOf<Promise<FetchedSocket[]>>();
plain.onNamespace(new Untyped('/untyped'));
plain.on('e', () => {
  expectTypeOf(session()).toEqualTypeOf<Record<string, unknown>>();
  emit('anything', 1, { broadcast: true });
  emit('anything');
  emit('anything', args(1, 2));
});
