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
const RECEIVER = 'b'.repeat(32);

type Step =
  | 'publish'
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
  published = 0;
  readonly outbox: Outbox;
  readonly inbox = new Inbox(RECEIVER, () => undefined);

  constructor(maxBuffered: number) {
    this.outbox = new Outbox(
      {
        isUp: () => this.up,
        send: (wire) =>
          new Promise<SendResult>((answer) =>
            this.inFlight.push({ wire, answer, executed: false }),
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
    if (this.subscribed && this.inbox.accept(Buffer.from(sent.wire)) === 'deliver')
      this.delivered.push((JSON.parse(sent.wire) as { n: number }).n);
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

describe('outbox and inbox: every message delivered once or counted once', function () {
  it('holds through any interleaving of outages, refusals and overflows', async function () {
    this.timeout(60_000);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...STEPS), { maxLength: 120 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        async (steps, maxBuffered, failFirst) => {
          const sim = new Simulation(maxBuffered);
          // The first attempt may fail: what waited for it, and what follows, is dropped.
          if (failFirst) for (const step of FAIL_FIRST) await sim.run(step);
          // The receiver meets the publisher through its first announcement (state 0): a
          // process counts a sender's gaps from its first contact with it.
          await sim.run('link-up');
          await sim.run('execute');
          for (const step of steps) await sim.run(step);
          await sim.drain();

          expect(sim.outbox.buffered, 'nothing left waiting').to.equal(0);
          const distinct = new Set(sim.delivered);
          expect(distinct.size, 'delivered at most once').to.equal(sim.delivered.length);
          expect(sim.delivered, 'in order').to.deep.equal([...sim.delivered].sort((a, b) => a - b));
          expect(
            sim.delivered.length + sim.outbox.lost + sim.inbox.missed,
            'delivered + lost + missed',
          ).to.equal(sim.published);
          if (failFirst) expect(sim.outbox.lost).to.be.at.least(3);
        },
      ),
      runParameters(300, 20_000),
    );
  });
});
