/**
 * A piscina pool thread: loads the app module (the way gunicorn loads
 * `module:app`), reports which handlers it has, then runs jobs and tasks.
 */
import { performance } from 'node:perf_hooks';
import type { WireJob } from './job-batches.js';
import {
  flushOutbox,
  jobRunner,
  openChannel,
  poolWorkerData,
  post,
  postOutcome,
  sharedPartOf,
  threadId,
} from './worker-runtime.js';
import type { JobRunner } from './worker-runtime.js';

const data = poolWorkerData();
if (data === undefined) throw new Error('worker-pool-thread.js runs only inside the worker pool');

// Listen for forgotten shared parts from the start (the channel keeps the thread alive only
// while it waits for a reply).
openChannel();
const app = (await import(data.appModule)) as Record<string, unknown>;
post({
  kind: 'ready',
  thread: threadId,
  keys: jobRunner()?.keys() ?? [],
  functions: Object.values(app).flatMap((value) =>
    typeof value === 'function' ? [value.name] : [],
  ),
});

/** A batch of jobs (handler invocations) or a background task (an exported function). */
export type PoolTask =
  | { readonly kind: 'jobs'; readonly jobs: readonly WireJob[] }
  | { readonly kind: 'task'; readonly exportName: string; readonly args: unknown[] };

/**
 * Runs one job: its synchronous part now (so the jobs of a batch start in the order they
 * came; one whose shared part this thread has dropped starts once the main thread has sent
 * it again), its outcome buffered once it ends.
 */
async function runJob(runner: JobRunner, job: WireJob): Promise<void> {
  let shared = job.shared === undefined ? undefined : sharedPartOf(job.id, job.shared);
  if (shared instanceof Promise) shared = await shared;
  const start = performance.now();
  const running = runner.run(job.request, shared);
  const ms = performance.now() - start;
  postOutcome({ id: job.id, outcome: await running, ms });
}

export default async function runPoolTask(task: PoolTask): Promise<unknown> {
  if (task.kind === 'task') {
    const fn = app[task.exportName];
    if (typeof fn !== 'function')
      throw new Error(`the app module exports no function ${task.exportName}`);
    try {
      return await (fn as (...a: unknown[]) => unknown)(...task.args);
    } finally {
      // The task's effects reach the main thread before its result does.
      flushOutbox();
    }
  }
  const runner = jobRunner();
  if (runner === undefined) {
    throw new Error(
      `${data?.appModule ?? 'the app module'} created no SocketIO instance with asyncMode 'worker-pool'`,
    );
  }
  // A client's events in one batch (asyncHandlers lets them overlap) run one after the
  // other, as they did one task at a time: a handler's outcome carries its session.
  const lanes = new Map<string, Promise<void>>();
  const runs = task.jobs.map((job) => {
    const before = job.lane === undefined ? undefined : lanes.get(job.lane);
    const run = before === undefined ? runJob(runner, job) : before.then(() => runJob(runner, job));
    if (job.lane !== undefined) lanes.set(job.lane, run);
    return run;
  });
  await Promise.all(runs);
  // Every outcome leaves before the task ends, in one message when they all could.
  flushOutbox();
  return null;
}
