/**
 * The outbox (publishing) and the inbox (receiving) together, against a
 * simulated broker that loses what it likes the way real ones do: the
 * connection goes with messages in flight (some executed, their answer lost),
 * the broker refuses one, the receiver is unsubscribed for a while, the
 * buffer overflows. Whatever the interleaving, once everything is back and
 * has settled, every message published was delivered once, in order, or
 * counted once: by the publisher (`lost`) or by the receiver (`missed`).
 * "Back" includes the receiver asking for the publisher's state, as it does on
 * every subscribe: a refused announcement is only repeated when asked or at the
 * next connection.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Outbox } from '../../lib/queues/outbox.js';
import type { SendResult } from '../../lib/queues/outbox.js';
import { Inbox } from '../../lib/queues/sequence.js';
import { runParameters } from '../helpers/props.js';

const SENDER = 'a'.repeat(32);
/** The room route of routed messages. */
const ROUTE = '/#room';
const RECEIVER = 'b'.repeat(32);

type Step =
  | 'publish'
  | 'publish-routed'
  | 'execute'
  | 'execute-unanswered'
  | 'refuse'
  | 'link-down'
  | 'link-up'
  | 'receiver-down'
  | 'receiver-up'
  | 'receiver-asks';

const STEPS: readonly Step[] = [
  'publish',
  'publish',
  'publish',
  'publish-routed',
  'publish-routed',
  'execute',
  'execute',
  'execute-unanswered',
  'refuse',
  'link-down',
  'link-up',
  'receiver-down',
  'receiver-up',
];

/** A first connection attempt that fails with messages waiting, and one published after. */
const FAIL_FIRST: readonly Step[] = ['publish', 'publish', 'link-down', 'publish'];

/** A send the broker has not answered yet. */
interface InFlight {
  readonly wire: string;
  readonly route: string | undefined;
  readonly answer: (result: SendResult) => void;
  executed: boolean;
}

/** Lets the outbox see the answers given so far (they settle as promise callbacks). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Simulation {
  up = false;
  reached = false;
  subscribed = true;
  readonly inFlight: InFlight[] = [];
  readonly delivered: number[] = [];
  /** Of those, the ones that came on the room route (room-aware routing). */
  readonly deliveredRouted: number[] = [];
  published = 0;
  readonly outbox: Outbox;
  readonly inbox = new Inbox(RECEIVER, () => undefined);

  constructor(maxBuffered: number) {
    this.inbox.listen(ROUTE);
    this.outbox = new Outbox(
      {
        isUp: () => this.up,
        send: (wire, route) =>
          new Promise<SendResult>((answer) =>
            this.inFlight.push({ wire, route, answer, executed: false }),
          ),
      },
      SENDER,
      maxBuffered,
      () => undefined,
    );
  }

  /** The broker executes the oldest send it has not executed: the receiver gets it if subscribed. */
  #execute(answered: boolean): void {
    const index = this.inFlight.findIndex((f) => !f.executed);
    const sent = this.inFlight[index];
    if (sent === undefined) return;
    sent.executed = true;
    if (this.subscribed && this.inbox.accept(Buffer.from(sent.wire), sent.route) === 'deliver') {
      const { n } = JSON.parse(sent.wire) as { n: number };
      this.delivered.push(n);
      if (sent.route !== undefined) this.deliveredRouted.push(n);
    }
    if (answered) {
      this.inFlight.splice(index, 1);
      sent.answer('taken');
    }
  }

  async run(step: Step): Promise<void> {
    switch (step) {
      case 'publish':
        void this.outbox.publish(`{"method":"emit","n":${this.published++}}`);
        break;
      case 'publish-routed':
        // The receiver listens to this route all along (as it would with a member in the room).
        void this.outbox.publish(`{"method":"emit","n":${this.published++}}`, ROUTE);
        break;
      case 'execute':
      case 'execute-unanswered':
        this.#execute(step === 'execute');
        break;
      case 'refuse': {
        const index = this.inFlight.findIndex((f) => !f.executed);
        const [refused] = index < 0 ? [] : this.inFlight.splice(index, 1);
        refused?.answer('refused');
        break;
      }
      case 'link-down':
        // As QueueCore does: before the first connection, an outage drops what waits.
        this.up = false;
        for (const f of this.inFlight.splice(0)) f.answer('failed');
        if (this.reached) this.outbox.linkDown();
        else this.outbox.unreachable();
        break;
      case 'link-up':
        if (this.up) break;
        this.up = true;
        this.reached = true;
        this.outbox.linkUp();
        break;
      case 'receiver-down':
        this.subscribed = false;
        break;
      case 'receiver-up':
        if (this.subscribed) break;
        await this.run('receiver-asks');
        break;
      case 'receiver-asks':
        // Subscribed (again), it asks; the publisher answers with its state.
        this.subscribed = true;
        this.outbox.control('state');
        break;
    }
    await settle();
  }

  /** Everything back up, and every send executed and answered. */
  async drain(): Promise<void> {
    await this.run('link-up');
    await this.run('receiver-asks');
    for (let i = 0; i < 10_000 && this.inFlight.length > 0; i++) {
      const first = this.inFlight[0] as InFlight;
      if (first.executed) {
        this.inFlight.shift();
        first.answer('taken');
      } else this.#execute(true);
      await settle();
    }
  }
}

/** The property: each message delivered once, in order per route, or counted once. */
async function check(steps: Step[], maxBuffered: number, failFirst: boolean): Promise<void> {
  const sim = new Simulation(maxBuffered);
  // The first attempt may fail: what waited for it, and what follows, is dropped.
  if (failFirst) for (const step of FAIL_FIRST) await sim.run(step);
  // The receiver meets the publisher through its first announcement (state 0): a
  // process counts a sender's gaps from its first contact with it.
  await sim.run('link-up');
  await sim.run('execute');
  for (const step of steps) await sim.run(step);
  await sim.drain();
  // A route has no state message: a gap at its end shows with the next message on it.
  await sim.run('publish-routed');
  await sim.drain();

  expect(sim.outbox.buffered, 'nothing left waiting').to.equal(0);
  const distinct = new Set(sim.delivered);
  expect(distinct.size, 'delivered at most once').to.equal(sim.delivered.length);
  const ordered = (list: number[]): number[] => [...list].sort((a, b) => a - b);
  const onChannel = sim.delivered.filter((n) => !sim.deliveredRouted.includes(n));
  expect(onChannel, 'in order on the channel').to.deep.equal(ordered(onChannel));
  expect(sim.deliveredRouted, 'in order on the route').to.deep.equal(ordered(sim.deliveredRouted));
  expect(
    sim.delivered.length + sim.outbox.lost + sim.inbox.missed,
    'delivered + lost + missed',
  ).to.equal(sim.published);
  if (failFirst) expect(sim.outbox.lost).to.be.at.least(3);
}

describe('outbox and inbox: every message delivered once or counted once', function () {
  it('holds through any interleaving of outages, refusals and overflows', async function () {
    this.timeout(60_000);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...STEPS), { maxLength: 120 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        check,
      ),
      runParameters(300, 20_000),
    );
  });

  // The counterexample of seed 20261204 (path 1:2:4:7:4:4) when room routes came in: the first
  // message on a route refused, the next one the first the receiver saw, and the gap uncounted.
  it('counts a refused first message on a route (fixed case)', async function () {
    await check(['publish-routed', 'refuse'], 1, false);
  });
});
