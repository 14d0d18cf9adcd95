/**
 * python-socketio's client (Debian's python3-socketio 5.7.2) against the features of
 * issue 14 that it can exercise: `io.use` connection middleware (the refusal's message
 * and data), `io.beforeEvent`, dynamic namespaces (RegExp and predicate), the operators
 * `io.to().in().except().emit()` with every argument, acks from many
 * (`io.to().timeout().emitWithAck()` collecting python handlers' return values),
 * `io.fetchSockets()`, `io.socketsJoin/socketsLeave` and `io.disconnectSockets()`. Every
 * async mode (in worker-pool mode the fixture apps' middlewares and handlers run in the
 * pool), with python's default serializer against the JSON parser and `serializer='msgpack'`
 * against `parser: 'msgpack'`, over WebSocket, long-polling and polling upgraded to
 * WebSocket. One python process per mode, serializer and transport does every check and
 * prints what it saw as JSON; the three transports of a mode and serializer run at once.
 */
import { expect } from 'chai';
import { threadId } from 'node:worker_threads';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { MIDDLEWARE_APP, OPERATOR_APP } from '../helpers/apps.js';
import { PYTHON_SERIALIZERS, runPython } from '../helpers/queues.js';
import { CLIENT_TRANSPORTS, SioHarness, deferred } from '../helpers/socketio.js';
import type { ClientTransport } from '../helpers/socketio.js';
import type { AsyncMode } from '../../lib/index.js';
import { summaries } from '../fixtures/operator-handlers.js';

/**
 * The python side: argv is the middleware app's origin, the operator app's origin, the
 * transports and the serializer. It prints one JSON object.
 *
 * python-socketio 5.7.2 hands every message to a thread of its own, so its handlers may run
 * in another order than the messages arrived; the client below runs them in the read loop,
 * in arrival order (through `_engineio_client_class`, the hook its AsyncClient uses), so that
 * "nothing else arrived before this ack" is an exact check. Everything on the wire is
 * python-socketio's own.
 *
 * A refused python client learns the refusal from its `connect_error` handler, which gets the
 * CONNECT_ERROR payload `{message, data}`. `connect()` itself raises a ConnectionError whose
 * text is always 'One or more namespaces failed to connect' (neither message nor data), and
 * only once `wait_timeout` has passed: it keeps waiting after the refusal. So the refusals
 * connect with `wait=False` and wait for their `connect_error`; one more refused client, in a
 * thread, shows the exception (raised the same whether the refusal came or the time ran out).
 */
const PYTHON_CLIENT = `
import json, os, sys, threading, time, engineio, socketio
mw, ops, transports, serializer = sys.argv[1], sys.argv[2], sys.argv[3].split(','), sys.argv[4]

class InOrderEngine(engineio.Client):
    def _trigger_event(self, event, *args, **kwargs):
        kwargs['run_async'] = False
        return super()._trigger_event(event, *args, **kwargs)

class Client(socketio.Client):
    def _engineio_client_class(self):
        return InOrderEngine

def plain(value):
    if isinstance(value, bytes):
        return {'bytes': list(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value

def client(events=(), namespace='/'):
    sio = Client(serializer=serializer, reconnection=False)
    sio.got = {}
    for name in events:
        sio.got[name] = []
        sio.on(name, lambda *args, name=name: sio.got[name].append(plain(args)), namespace=namespace)
    return sio

def connect(sio, url, **kwargs):
    sio.connect(url, transports=transports, wait_timeout=5, **kwargs)

def until(condition, what):
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError('waited 10 s for ' + what)
        time.sleep(0.005)

out = {'refused': {}}
def refuse(name, url, namespace='/', **kwargs):
    sio, errors = client(), []
    sio.on('connect_error', lambda *args: errors.append(plain(args)), namespace=namespace)
    sio.connect(url, transports=transports, namespaces=[namespace], wait=False, **kwargs)
    until(lambda: errors, 'the refusal of ' + name)
    out['refused'][name] = errors
    sio.disconnect()

def raised():
    sio = client()
    try:
        sio.connect(mw, transports=transports, wait_timeout=0.5)
        out['raised'] = 'nothing'
        sio.disconnect()
    except socketio.exceptions.ConnectionError as error:
        out['raised'] = {type(error).__name__: str(error)}
raising = threading.Thread(target=raised)
raising.start()

# The observer hears what the middleware app's error handler saw.
observer = client(['error-seen'], '/observe')
connect(observer, mw, namespaces=['/observe'])
refuse('no token', mw)
refuse('blocked', mw, auth={'token': 'blocked'})
refuse('broken', mw, auth={'token': 'broken'})
refuse('wrong team key', ops, '/team-x', auth={'team': 'x', 'key': 'shut'})
refuse('no such namespace', ops, '/nope')

# io.use and io.beforeEvent.
a = client(['welcome', 'ran'])
connect(a, mw + '?flavour=mint', auth={'token': 'py'})
until(lambda: a.got['welcome'], 'welcome')
out['welcome'] = a.got['welcome']
out['transport'] = a.transport()
out['echo'] = a.call('echo', ('  padded ', ' x', 7), timeout=5)
a.emit('blocked')
out['forbidden'] = a.call('forbidden', timeout=5)
out['seen'] = a.call('seen', timeout=5)
out['ran'] = a.got['ran']
a.disconnect()
until(lambda: len(observer.got['error-seen']) == 2, 'the errors seen')
out['errorsSeen'] = sorted(observer.got['error-seen'])
observer.disconnect()

# Dynamic namespaces: a RegExp ('/room-<n>', each a namespace with its own rooms) and a predicate.
rooms = {}
for name in ('/room-7', '/room-8'):
    rooms[name] = client(['shout'], name)
    connect(rooms[name], ops, namespaces=[name])
seven, eight = rooms['/room-7'], rooms['/room-8']
out['room'] = {
    'whereami': seven.call('whereami', namespace='/room-7', timeout=5),
    'fail': seven.call('fail', namespace='/room-7', timeout=5),
}
seven.emit('shout', 'hi seven', namespace='/room-7')
until(lambda: seven.got['shout'], 'the shout in /room-7')
eight.emit('shout', 'hi eight', namespace='/room-8')
until(lambda: eight.got['shout'], 'the shout in /room-8')
out['room']['shouts'] = [seven.got['shout'], eight.got['shout']]
team = client()
connect(team, ops, namespaces=['/team-x'], auth={'team': 'x', 'key': 'open'})
out['team'] = team.call('whereami', namespace='/team-x', timeout=5)
for sio in (seven, eight, team):
    sio.disconnect()

# Operators: the spec emits to these clients' rooms, asks them, fetches and disconnects them.
peers, disconnected = {}, []
for name, joined in (('p1', ('r1',)), ('p2', ('r1', 'r2')), ('p3', ('r2',))):
    peer = peers[name] = client(['news'])
    peer.on('question', lambda question, name=name: name + ':' + question)
    peer.on('disconnect', lambda name=name: disconnected.append(name))
    connect(peer, ops + '?name=' + name, auth={'name': name})
    peer.call('join', joined, timeout=5)
peers['p1'].emit('ready', {name: peer.get_sid('/') for name, peer in peers.items()})
until(lambda: len(disconnected) == 3, 'the disconnects')
out['news'] = {name: peer.got['news'] for name, peer in peers.items()}
out['disconnected'] = sorted(disconnected)
out['connected'] = [peer.connected for peer in peers.values()]

raising.join()
print(json.dumps(out), flush=True)
# Over polling, a client's disconnect() can leave its CLOSE packet unsent (its write loop stops
# once the state leaves 'connected'), so its read loop's long-poll GET waits for the next ping.
# Everything is printed by now: leave without waiting for those threads.
os._exit(0)
`;

/** python-socketio's `transports` for each of the harness's client transports. */
const PYTHON_TRANSPORTS: Record<string, string> = {
  websocket: 'websocket',
  polling: 'polling',
  'polling with upgrade': 'polling,websocket',
};

/** What the spec's side of the operator checks got back. */
interface ServerSide {
  readonly sids: Record<string, string>;
  readonly answers: unknown[];
  readonly solo: unknown;
  readonly fetched: unknown[];
}

/** One python run: what python printed, and what the spec's side got back. */
interface Exchange {
  readonly seen: Record<string, unknown>;
  readonly server: ServerSide;
}

/**
 * Runs the python client against a middleware-app server and an operator-app server (both
 * pushed onto `harnesses`, for the caller to stop): once its clients are in their rooms and
 * have sent 'ready' with their sids, emits to them through operators, asks them, fetches them
 * and disconnects them, which is what the python process waits for before it prints.
 */
async function exchange(
  asyncMode: AsyncMode,
  { serializer, parser }: (typeof PYTHON_SERIALIZERS)[number],
  transport: ClientTransport,
  harnesses: SioHarness[],
): Promise<Exchange> {
  const [mw, ops] = await Promise.all(
    [MIDDLEWARE_APP, OPERATOR_APP].map(async (app) => {
      const h = await SioHarness.withApp(asyncMode, transport, app, { parser });
      harnesses.push(h);
      return h;
    }),
  );
  if (mw === undefined || ops === undefined) throw new Error('no servers');
  const ready = deferred<Record<string, string>>();
  ops.io.on('ready', (sids: Record<string, string>) => ready.resolve(sids));
  const python = PYTHON_TRANSPORTS[transport.name] ?? '';
  const run = runPython(['-c', PYTHON_CLIENT, mw.origin, ops.origin, python, serializer]);
  const sids = await Promise.race([
    ready.promise,
    run.then((r) => {
      throw new Error(`python exited (${String(r.code)}) before 'ready': ${r.stderr}`);
    }),
  ]);
  ops.io
    .to('r1')
    .except('r2')
    .emit('news', 1, 'two', { three: [3, null] });
  ops.io
    .in(['r1', 'r2'])
    .except('r1')
    .emit('news', Buffer.from([0, 1, 255]));
  ops.io.to(['r1', 'r2']).emit('news', 'to all', true);
  await ops.io.socketsJoin('r3', { to: 'r2' });
  ops.io.to('r3').emit('news', 'r3');
  await ops.io.socketsLeave('r3', { to: sids.p2 });
  ops.io.to('r3').emit('news', 'r3 without p2');
  const answers = await ops.io.to('r1').timeout(5).emitWithAck('question', 'q1');
  const [p3] = await ops.io.fetchSockets({ room: sids.p3 });
  const solo = await p3?.timeout(5).emitWithAck('question', 'solo');
  const fetched = summaries(await ops.io.fetchSockets());
  // r2's clients with their whole connection (close), then the rest of '/'.
  await ops.io.disconnectSockets(true, { to: 'r2' });
  await ops.io.disconnectSockets();
  const result = await run;
  expect(result.code, result.stderr).to.equal(0);
  return {
    seen: JSON.parse(result.stdout) as Record<string, unknown>,
    server: { sids, answers: [...answers].sort(), solo, fetched },
  };
}

/** What a refused python client's `connect_error` handler gets: the CONNECT_ERROR payload. */
const refused = (message: string, data?: unknown): unknown => [
  [data === undefined ? { message } : { message, data }],
];

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const codec of PYTHON_SERIALIZERS) {
    const { serializer, parser } = codec;
    describe(`python-socketio and the socket.io features [${asyncMode}, serializer='${serializer}', parser: '${parser}']`, function () {
      this.timeout(30_000);
      const harnesses: SioHarness[] = [];
      // The three transports run at once, each against servers of its own.
      const exchanges = new Map<string, Exchange>();
      before(async function () {
        await Promise.all(
          CLIENT_TRANSPORTS.map(async (transport) => {
            const done = await exchange(asyncMode, codec, transport, harnesses);
            exchanges.set(transport.name, done);
          }),
        );
      });
      after(() => Promise.all(harnesses.map((h) => h.stop())));

      for (const transport of CLIENT_TRANSPORTS) {
        describe(`over ${transport.name}`, function () {
          let seen: Record<string, unknown>;
          let server: ServerSide;
          before(function () {
            const done = exchanges.get(transport.name);
            if (done === undefined) throw new Error(`no exchange over ${transport.name}`);
            ({ seen, server } = done);
          });

          it('io.use: a token lets the client in with what the middlewares put in the session', function () {
            // The first middleware names its thread: a pool thread in worker-pool mode, else this one.
            const [[user, [first = '', ...steps], flavour]] = seen.welcome as [
              [string, string[], string],
            ];
            const ranOn =
              first === `first@${threadId}`
                ? 'this thread'
                : /^first@\d+$/.test(first)
                  ? 'another thread'
                  : first;
            expect({ user, ranOn, steps, flavour, transport: seen.transport }).to.deep.equal({
              user: 'user-py',
              ranOn: asyncMode === 'worker-pool' ? 'another thread' : 'this thread',
              steps: ['second', 'connect'],
              flavour: 'mint',
              // python-socketio upgrades before it sends CONNECT, so it all went over WebSocket.
              transport: transport.name === 'polling' ? 'polling' : 'websocket',
            });
          });

          it('io.use: refusals reach connect_error with the message and data', function () {
            // python-socketio's exception carries neither: its text is always this one.
            expect(seen.raised).to.deep.equal({
              ConnectionError: 'One or more namespaces failed to connect',
            });
            expect(seen.refused).to.deep.equal({
              'no token': refused('a token is required', { field: 'token' }),
              blocked: refused('Connection rejected by server'),
              broken: refused('the token store is down'),
              'wrong team key': refused('Connection rejected by server'),
              'no such namespace': refused('Invalid namespace'),
            });
          });

          it('io.beforeEvent: trims the arguments, drops an event, fails one through the error handler', function () {
            expect({
              echo: seen.echo,
              forbidden: seen.forbidden,
              seen: seen.seen,
              ran: seen.ran,
              errorsSeen: seen.errorsSeen,
            }).to.deep.equal({
              echo: [['padded', 'x', 7], 'user-py'],
              forbidden: { error: '"forbidden" needs an admin' },
              seen: ['echo', 'blocked', 'forbidden', 'seen'],
              ran: [],
              // Each 'error-seen' has one argument: [event, message].
              errorsSeen: [
                [['connect', 'the token store is down']],
                [['forbidden', '"forbidden" needs an admin']],
              ],
            });
          });

          it('dynamic namespaces: a RegExp gives each name its own namespace; a predicate reads the auth', function () {
            expect({ room: seen.room, team: seen.team }).to.deep.equal({
              room: {
                whereami: '/room-7',
                fail: 'handled in /room-7: room failure',
                shouts: [[['hi seven']], [['hi eight']]],
              },
              team: '/team-x',
            });
          });

          it('operators: to, in and except reach the rooms python joined, with every argument; socketsJoin and socketsLeave move them', function () {
            expect(seen.news).to.deep.equal({
              p1: [
                [1, 'two', { three: [3, null] }],
                ['to all', true],
              ],
              p2: [['to all', true], ['r3']],
              p3: [[{ bytes: [0, 1, 255] }], ['to all', true], ['r3'], ['r3 without p2']],
            });
          });

          it("emitWithAck collects the python handlers' return values", function () {
            expect({ answers: server.answers, solo: server.solo }).to.deep.equal({
              answers: ['p1:q1', 'p2:q1'],
              solo: 'p3:solo',
            });
          });

          it('fetchSockets describes the python clients; disconnectSockets disconnects them, with close or not', function () {
            const { sids } = server;
            const expected = (name: string, rooms: string[]): unknown => ({
              id: sids[name],
              namespace: '/',
              rooms: [sids[name], ...rooms].sort(),
              name,
              auth: { name },
              address: '127.0.0.1',
              issuedRecently: true,
            });
            expect(server.fetched).to.deep.equal(
              [
                expected('p1', ['r1']),
                expected('p2', ['r1', 'r2']),
                expected('p3', ['r2', 'r3']),
              ].sort((x, y) =>
                String((x as { id: string }).id).localeCompare((y as { id: string }).id),
              ),
            );
            expect({ disconnected: seen.disconnected, connected: seen.connected }).to.deep.equal({
              disconnected: ['p1', 'p2', 'p3'],
              connected: [false, false, false],
            });
          });
        });
      }
    });
  }
}
