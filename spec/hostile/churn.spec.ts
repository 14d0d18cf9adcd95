/**
 * Churn: many connect/join/disconnect cycles (mostly in-process test clients,
 * plus thousands of real Engine.IO sessions over raw WebSocket and polling)
 * leave nothing behind: no engine session, no live phase, no room entry for any
 * departed sid, no timer on the clock, and (when the process runs with
 * --expose-gc) no session object. Counts are asserted, never timings; every
 * loop is bounded in count and in time.
 */
import { expect } from 'chai';
import { EventLoopScheduler, rooms, session, VirtualClock } from '../../lib/index.js';
import type { AsyncMode, SocketIO, SocketIOOptions } from '../../lib/index.js';
import { RawSioPolling, trapProcessErrors, Witness } from '../helpers/hostile.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { startProtocolServer } from '../helpers/protocol-server.js';
import { waitFor } from '../helpers/raw-engine.js';
import { RawSio } from '../helpers/socketio.js';

/** Cycles per mode: 20,000 in event-loop, fewer where each event crosses a thread or a turn. */
const PLAN: Record<AsyncMode, { test: number; ws: number; polling: number }> = {
  'event-loop': { test: 18_200, ws: 1_500, polling: 300 },
  cooperative: { test: 1_700, ws: 250, polling: 50 },
  'worker-pool': { test: 1_700, ws: 250, polling: 50 },
};
const DEADLINE_MS = 45_000;
const PARALLEL = 50;

function optionsFor(mode: AsyncMode): { options: SocketIOOptions; clock?: VirtualClock } {
  if (mode === 'event-loop') {
    const clock = new VirtualClock();
    return { options: { scheduler: new EventLoopScheduler({ clock }) }, clock };
  }
  // The cooperative virtual clock jumps whenever the run queue idles, which would expire
  // raw clients between their requests: real time here.
  return { options: {} };
}

/** Runs `count` cycles, `parallel` at a time, failing past the deadline. */
async function cycles(
  count: number,
  parallel: number,
  deadline: number,
  cycle: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < count && Date.now() < deadline) {
      await cycle(next++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return done;
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  const plan = PLAN[mode];
  const total = plan.test + plan.ws + plan.polling;

  describe(`churn (${mode})`, function () {
    this.timeout(DEADLINE_MS + 30_000);

    it(`${total} connect/join/disconnect cycles leave no session, phase, room, timer or session object`, async function () {
      const trap = trapProcessErrors();
      const { options, clock } = optionsFor(mode);
      const sessions: WeakRef<object>[] = [];
      const server = await startProtocolServer(mode, options, (app: SocketIO) => {
        // Main-thread handlers: the churn's own connect handler keeps a weak reference to
        // each session; roomsOf answers for departed sids too.
        app.on('connect', () => void sessions.push(new WeakRef(session())), {
          namespace: '/churn',
        });
        app.on('join', () => true, { namespace: '/churn' });
        for (const namespace of ['/', '/churn'])
          app.on('roomsOf', (sid: string) => rooms({ sid }), { namespace });
      });
      const { io } = server;
      const sids: string[] = [];
      const deadline = Date.now() + DEADLINE_MS;
      // A client that stays through the churn, sending all along.
      const witness = await Witness.connect(server.origin, 'websocket');
      try {
        const inProcess = await cycles(plan.test, 1, deadline, async (i) => {
          if (i % 1000 === 0) await witness.burst(3);
          const client = await io.testClient({ namespace: '/churn' });
          const sid = client.sid('/churn');
          if (sid === undefined) throw new Error('the test client did not connect');
          sids.push(sid);
          await client.connect('/');
          expect(await client.emit('join', 'churn', { callback: true })).to.deep.equal([true]);
          await client.disconnect('/');
          await client.disconnect('/churn');
        });
        const overWs = await cycles(plan.ws, PARALLEL, deadline, async (i) => {
          if (i % 100 === 0) await witness.burst(1);
          const peer = await RawSio.open(server.wsUrl);
          sids.push(await peer.connect('/'));
          peer.send('21["join","churn"]');
          expect(await peer.nextText('the join ack')).to.equal('31[true]');
          await peer.ws.close();
        });
        const overPolling = await cycles(plan.polling, 10, deadline, async () => {
          const peer = await RawSioPolling.open(`${server.origin}/socket.io/`);
          sids.push(await peer.connect());
          await peer.send('21["join","churn"]');
          expect((await peer.get()).packets).to.deep.equal(['431[true]']);
          await peer.post('1');
        });
        expect([inProcess, overWs, overPolling], 'cycles done before the deadline').to.deep.equal([
          plan.test,
          plan.ws,
          plan.polling,
        ]);
        await witness.verify();
        witness.close();

        expect(await waitFor(() => io.engine.clientsCount === 0, 5000), 'engine sessions left').to
          .be.true;
        const counts = io.phaseCounts();
        expect([counts.handshake, counts.connected, counts.upgrading], 'live phases').to.deep.equal(
          [0, 0, 0],
        );
        expect(counts.closed, 'engine sessions closed').to.equal(plan.ws + plan.polling + 1);
        if (clock !== undefined) expect(clock.pending, 'timers on the clock').to.equal(0);

        // rooms({ sid }) answers for any sid: every departed one must be in no room.
        const probe = await io.testClient();
        await probe.connect('/churn');
        let leftovers = 0;
        for (const [i, sid] of sids.entries()) {
          const namespace = i < plan.test ? '/churn' : '/';
          const [left] = (await probe.emit('roomsOf', sid, { callback: true, namespace })) ?? [];
          if ((left as string[]).length > 0) leftovers++;
        }
        expect(leftovers, 'departed sids still in rooms').to.equal(0);
        await probe.disconnect('/churn');
        await probe.disconnect('/');

        const gc = (globalThis as { gc?: () => void }).gc;
        if (gc !== undefined && mode !== 'worker-pool') {
          gc();
          await new Promise((resolve) => setImmediate(resolve));
          gc();
          const alive = sessions.filter((ref) => ref.deref() !== undefined).length;
          expect(alive, `sessions still reachable out of ${sessions.length}`).to.be.at.most(2);
        }
        expect(trap.errors).to.deep.equal([]);
      } finally {
        witness.close();
        trap.dispose();
        await io.stop();
      }
    });
  });
}
