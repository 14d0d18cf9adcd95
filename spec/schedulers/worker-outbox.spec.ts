/**
 * What a pool thread posts to the main thread (schedulers/worker-runtime.ts): the first
 * effect after a quiet spell leaves at once, the rest of a burst and the outcomes leave
 * together in one ordered 'batch' message at the end of the thread's turn, and an effect
 * that cannot be structured-cloned throws where it was made even when it would have waited.
 * Driven through a real worker thread (spec/fixtures/outbox-thread.ts).
 */
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import type { PoolMessage } from '../../schedulers/worker-runtime.js';
import { waitFor } from '../helpers/raw-engine.js';

describe('pool thread outbox (worker-runtime)', function () {
  let worker: Worker;
  let received: unknown[] = [];

  before(function () {
    worker = new Worker(new URL('../fixtures/outbox-thread.js', import.meta.url), {
      // A 200 ms window: the statements of one burst stay inside it even on a loaded machine.
      workerData: {
        socketioActorsPool: {
          appModule: 'unused',
          channel: `outbox-${process.pid}`,
          effectBurstMs: 200,
        },
      },
    });
    worker.on('message', (message: unknown) => received.push(message));
  });

  after(async function () {
    await worker.terminate();
  });

  /** Sends a command and returns what the thread posted, once `count` messages came. */
  async function run(command: string, count: number): Promise<unknown[]> {
    received = [];
    worker.postMessage(command);
    expect(await waitFor(() => received.length >= count, 10_000), `${count} messages`).to.equal(
      true,
    );
    // Nothing more follows.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return received;
  }

  const effect = (n: unknown): PoolMessage => ({
    kind: 'effect',
    thread: worker.threadId,
    effect: { n },
  });

  it('sends the first effect of a burst at once, the rest with the outcomes in one ordered batch', async function () {
    const messages = await run('burst', 2);
    const done: PoolMessage = {
      kind: 'done',
      thread: worker.threadId,
      jobs: [7, 8].map((id) => ({ id, outcome: 'ok', ms: 0 })),
    };
    expect(messages).to.deep.equal([
      effect(1),
      { kind: 'batch', messages: [effect(2), done, effect(3)] } satisfies PoolMessage,
    ]);
  });

  it('sends effects made more than the burst window apart each at once', async function () {
    expect(await run('spaced', 2)).to.deep.equal([effect('a'), effect('b')]);
  });

  it('an effect that waits is copied where it is made: what the handler changes afterwards does not reach it', async function () {
    expect(await run('mutate', 2)).to.deep.equal([effect(1), effect(2)]);
  });

  it('throws DataCloneError where an effect that cannot be cloned is made, though it would have waited', async function () {
    const messages = await run('unclonable', 2);
    expect(messages).to.deep.equal([effect(0), { kind: 'thrown', name: 'DataCloneError' }]);
  });
});
