/**
 * Model-based property of the Socket.IO layer, in every async mode: several
 * clients (in-process test clients and official socket.io-client connections
 * over WebSocket and polling) connect to and leave namespaces, join and leave
 * rooms through handlers, emit with acks, broadcast to rooms with skipSid and
 * includeSelf, get server calls they answer or not, are kicked or drop their
 * connection; bursts run several clients' actions concurrently in an order
 * chosen by `fc.scheduler()` (and, in cooperative mode, a scheduler seed).
 * After every step: each broadcast reached exactly the model's clients, once;
 * every ack arrived exactly once; every pending call was rejected when its
 * client left. After every run: no connection, phase or room is left behind.
 *
 * Replay a failure with the seed and path fast-check prints:
 *   FC_SEED=<seed> FC_PATH=<path> make test-props
 * (FC_REPLAY_PATH=<replayPath> also pins the shrunk command list; FC_RUNS=N runs more cases.)
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { rooms } from '../../lib/index.js';
import type { SocketIO } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { COMMANDS_REPLAY_PATH, runParameters } from '../helpers/props.js';
import { startProtocolServer } from '../helpers/protocol-server.js';
import type { ProtocolServer } from '../helpers/protocol-server.js';
import { waitFor } from '../helpers/raw-engine.js';
import {
  Broadcast,
  Burst,
  CLIENTS,
  Connect,
  Disconnect,
  Drop,
  Echo,
  Kick,
  Membership,
  NSPS,
  remember,
  ServerCall,
  SioReal,
  verify,
} from '../helpers/sio-commands.js';
import type { BurstOp } from '../helpers/sio-commands.js';
import { SioModel } from '../helpers/sio-model.js';
import type { Target } from '../helpers/sio-model.js';
import { recordingLogger } from '../helpers/socketio.js';

const ROOMS = ['r0', 'r1', 'r2'] as const;

/** A broadcast to the whole namespace that skips client 2. */
const WHOLE_SKIPPING_2: Target = { rooms: [], skip: [2], includeSelf: true };

const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const nsp = fc.constantFrom<string>(...NSPS);
const room = fc.constantFrom<string>(...ROOMS);
const target: fc.Arbitrary<Target> = fc.record({
  rooms: fc.subarray([...ROOMS], { maxLength: 2 }),
  toClient: fc.option(client, { nil: undefined }),
  skip: fc.uniqueArray(client, { maxLength: 2 }),
  includeSelf: fc.boolean(),
});
const burstOp: fc.Arbitrary<BurstOp> = fc.oneof(
  fc.record({ kind: fc.constantFrom<'join' | 'leave'>('join', 'leave'), client, nsp, room }),
  fc.record({
    kind: fc.constantFrom<'connect' | 'disconnect'>('connect', 'disconnect'),
    client,
    nsp,
  }),
  fc.record({ kind: fc.constant<'echo'>('echo'), client, nsp, value: fc.integer() }),
  fc.record({ kind: fc.constant<'bcast'>('bcast'), client, nsp, target }),
);

const commands = fc.commands<SioModel, SioReal, false>(
  [
    fc
      .tuple(fc.option(client, { nil: null }), nsp, target)
      .map(([c, n, t]) => new Broadcast(c, n, t)),
    fc.tuple(client, nsp, room, fc.boolean()).map(([c, n, rm, j]) => new Membership(c, n, rm, j)),
    fc
      .tuple(
        fc.uniqueArray(burstOp, { minLength: 2, maxLength: 4, selector: (op) => op.client }),
        fc.scheduler(),
      )
      .map(([ops, s]) => new Burst(ops, s)),
    fc.tuple(client, nsp, room, fc.boolean()).map(([c, n, rm, j]) => new Membership(c, n, rm, j)),
    fc
      .tuple(fc.option(client, { nil: null }), nsp, target)
      .map(([c, n, t]) => new Broadcast(c, n, t)),
    fc.tuple(client, nsp, fc.jsonValue({ maxDepth: 2 })).map(([c, n, v]) => new Echo(c, n, v)),
    fc.tuple(client, nsp, fc.boolean()).map(([c, n, a]) => new ServerCall(c, n, a)),
    fc
      .tuple(client, fc.constantFrom('/', '/a', '/a', '/nope'), fc.integer({ min: 0, max: 4 }))
      .map(([c, n, dice]) => new Connect(c, n, dice === 0 && n !== '/nope')),
    fc.tuple(client, nsp).map(([c, n]) => new Disconnect(c, n)),
    fc.tuple(client, nsp).map(([c, n]) => new Kick(c, n)),
    client.map((c) => new Drop(c)),
  ],
  { size: 'medium', maxCommands: 30, replayPath: COMMANDS_REPLAY_PATH },
);

type Command = fc.AsyncCommand<SioModel, SioReal>;

/**
 * Command lists the property once failed on, kept as fixed cases (each under ten orderings
 * of its burst). Both were model bugs: the skip list of a broadcast in a burst is resolved
 * to sids before the burst, so a skipped client that (re)connects during it is not skipped.
 */
const COUNTEREXAMPLES: readonly {
  readonly name: string;
  readonly commands: (scheduler: fc.Scheduler) => Command[];
}[] = [
  {
    // FC_SEED=-364687259 FC_PATH="1:0:2:2:2:4:10:9:11" (event-loop, before the model fix)
    name: 'a client kicked from /a connects again while a broadcast that skips it is sent',
    commands: (s) => [
      new Kick(2, '/a'),
      new Burst(
        [
          { kind: 'bcast', client: 1, nsp: '/a', target: WHOLE_SKIPPING_2 },
          { kind: 'connect', client: 2, nsp: '/a' },
        ],
        s,
      ),
    ],
  },
  {
    // event-loop FC_SEED=364286227 FC_PATH="177:0:3:2:3:6:5:6:6"; cooperative
    // FC_SEED=-1249548856 FC_PATH="90:0:2:1:12:11:10:12:10:10:11:10:10"
    name: 'a client that left / connects again while a broadcast that skips it is sent',
    commands: (s) => [
      new Disconnect(2, '/'),
      new Burst(
        [
          { kind: 'connect', client: 2, nsp: '/' },
          { kind: 'bcast', client: 0, nsp: '/', target: WHOLE_SKIPPING_2 },
        ],
        s,
      ),
    ],
  },
];

/** After a run: every client gone, every call settled, no connection, phase or room left. */
async function finish(m: SioModel, r: SioReal): Promise<void> {
  for (const driver of r.drivers) await driver.close();
  for (let c = 0; c < CLIENTS; c++) m.disconnectAll(c);
  await verify(m, r);
  const { io } = r.server;
  expect(await waitFor(() => io.engine.clientsCount === 0, 3000), 'engine sessions left').to.be
    .true;
  const counts = io.phaseCounts();
  expect([counts.handshake, counts.connected, counts.upgrading], 'live phases').to.deep.equal([
    0, 0, 0,
  ]);
  // rooms({ sid }) answers for any sid: a departed client must be in no room at all.
  const probe = await io.testClient();
  await probe.connect('/a');
  for (const entry of r.sids) {
    const [space, sid] = entry.split(' ') as [string, string];
    const left = await probe.emit('roomsOf', sid, { callback: true, namespace: space });
    expect(left, `rooms of the departed ${entry}`).to.deep.equal([[]]);
  }
  await probe.disconnect('/a');
  await probe.disconnect('/');
}

/** Main-thread handlers the property needs on top of the protocol ones. */
function probeHandlers(io: SocketIO): void {
  for (const namespace of NSPS) io.on('roomsOf', (sid: string) => rooms({ sid }), { namespace });
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  describe(`Socket.IO server against a reference model (property, ${mode})`, function () {
    this.timeout(120_000);
    // worker-pool: one server (its pool takes a while to start); other modes: one per run.
    let shared: ProtocolServer | undefined;
    // Handler failures are logged at error level: a run must log none.
    const logger = recordingLogger();

    before(async function () {
      if (mode === 'worker-pool')
        shared = await startProtocolServer(mode, { logger }, probeHandlers);
    });

    after(async function () {
      await shared?.io.stop();
    });

    async function serverFor(seed: number): Promise<ProtocolServer> {
      if (shared !== undefined) return shared;
      const options = mode === 'cooperative' ? { seed, logger } : { logger };
      return startProtocolServer(mode, options, probeHandlers);
    }

    if (mode === 'worker-pool')
      it('runs the protocol handlers in a pool thread', async function () {
        const client = await shared?.io.testClient();
        const [thread] = (await client?.emit('thread', undefined, { callback: true })) ?? [0];
        expect(thread, 'the thread id of the handler').to.be.a('number').and.not.equal(0);
        await client?.disconnect();
      });

    /** One run: every client connects, the commands run on server and model, then all is checked. */
    async function runCase(server: ProtocolServer, cmds: Iterable<Command>): Promise<void> {
      const real = new SioReal(server);
      const model = new SioModel(CLIENTS);
      const errorsBefore = logger.errors.length;
      try {
        // Every client starts on '/', all but the first on '/a' too.
        for (let c = 0; c < CLIENTS; c++)
          for (const space of c === 0 ? ['/'] : NSPS) {
            expect(await real.driver(c).connect(space)).to.deep.equal({ ok: true });
            model.connect(c, space);
            remember(real, c, space);
          }
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        await finish(model, real);
        expect(logger.errors.slice(errorsBefore), 'errors logged').to.deep.equal([]);
      } finally {
        for (const driver of real.drivers) await driver.close().catch(() => undefined);
        if (server !== shared) await server.io.stop();
      }
    }

    it('delivers each broadcast to exactly the model clients, acks once, calls settle', async function () {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), commands, async (seed, cmds) => {
          runs++;
          await runCase(await serverFor(seed), cmds);
        }),
        runParameters(mode === 'worker-pool' ? 10 : 20, 15_000),
      );
      expect(runs, 'runs completed').to.be.greaterThan(0);
    });

    for (const { name, commands: fixed } of COUNTEREXAMPLES) {
      it(`keeps a counterexample: ${name}`, async function () {
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.scheduler(), (seed, s) =>
            serverFor(seed).then((server) => runCase(server, fixed(s))),
          ),
          { numRuns: 10, seed: 42 },
        );
      });
    }
  });
}
