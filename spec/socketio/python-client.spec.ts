/**
 * python-socketio's client (Debian's python3-socketio, as a user would run it)
 * against this server over long-polling, WebSocket and the upgrade from one to
 * the other: the auth payload, server events, acks both ways, binary, a second
 * namespace and a clean disconnect; with its default serializer against the JSON
 * parser, and with `serializer='msgpack'` (python3-msgpack) against `parser: 'msgpack'`.
 */
import { expect } from 'chai';
import { args, emit, request } from '../../lib/index.js';
import { PYTHON_SERIALIZERS, runPython } from '../helpers/queues.js';
import { waitFor } from '../helpers/raw-engine.js';
import { SioHarness } from '../helpers/socketio.js';

/** A client that connects, calls, and reports what it saw as JSON. */
const PYTHON_CLIENT = `
import json, sys, socketio
url, transports, serializer = sys.argv[1], sys.argv[2].split(','), sys.argv[3]
sio = socketio.Client(serializer=serializer)
out = {'events': []}
@sio.on('greet')
def greet(*args):
    out['events'].append(list(args))
@sio.on('question')
def question(value):
    return 'answer to ' + value
sio.connect(url, transports=transports, auth={'token': 'py'}, namespaces=['/', '/chat'], wait_timeout=5)
out['echo'] = sio.call('echo', {'a': [1, 'b']}, timeout=5)
out['binary'] = list(sio.call('echo', b'\\x01\\x02\\xff', timeout=5))
out['chat'] = sio.call('echo', 'x', namespace='/chat', timeout=5)
out['asked'] = sio.call('ask', timeout=5)
sio.sleep(0.5)
out['transport'] = sio.transport()
sio.disconnect()
print(json.dumps(out))
`;

for (const { serializer, parser } of PYTHON_SERIALIZERS) {
  describe(`a python-socketio client (serializer='${serializer}', parser: '${parser}')`, function () {
    this.timeout(30_000);
    let h: SioHarness;
    const reasons: string[] = [];
    before(async function () {
      h = await SioHarness.start({ asyncMode: 'event-loop', parser });
      h.io.on('connect', (auth: unknown) =>
        emit('greet', args(auth ?? null, request().sid.length)),
      );
      h.io.on('echo', (value: unknown) => value);
      // With msgpack the server's ack ids start at 1: python-socketio's msgpack packets leave out
      // an id of 0, so the answer to a call() with id 0 would come back without one.
      h.io.on('ask', async () => (await h.io.call('question', 'life', { to: request().sid }))[0]);
      h.io.on('disconnect', (reason: string) => reasons.push(reason));
      h.io.on('echo', (value: string) => `chat:${value}`, { namespace: '/chat' });
    });
    after(() => h.stop());

    for (const [name, transports, after] of [
      ['long-polling', 'polling', 'polling'],
      ['WebSocket', 'websocket', 'websocket'],
      ['polling upgraded to WebSocket', 'polling,websocket', 'websocket'],
    ] as const) {
      it(`works over ${name}`, async function () {
        const result = await runPython(['-c', PYTHON_CLIENT, h.origin, transports, serializer]);
        expect(result.code, result.stderr).to.equal(0);
        expect(JSON.parse(result.stdout)).to.deep.equal({
          events: [[{ token: 'py' }, 20]],
          echo: { a: [1, 'b'] },
          binary: [1, 2, 255],
          chat: 'chat:x',
          asked: 'answer to life',
          transport: after,
        });
        // python-socketio queues its DISCONNECT packets, then aborts the connection without
        // waiting for them to leave, so the server sees either (the npm socket.io server too).
        await waitFor(() => reasons.length > 0, 5000);
        expect(reasons.splice(0))
          .to.have.length(1)
          .and.satisfy((seen: string[]) =>
            ['client namespace disconnect', 'transport close'].includes(seen[0] ?? ''),
          );
      });
    }
  });
}
