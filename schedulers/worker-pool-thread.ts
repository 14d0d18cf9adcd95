/**
 * A piscina pool thread: loads the app module (the way gunicorn loads
 * `module:app`), reports which handlers it has, then runs jobs and tasks.
 */
import { jobRunner, poolWorkerData, post, threadId } from './worker-runtime.js';

const data = poolWorkerData();
if (data === undefined) throw new Error('worker-pool-thread.js runs only inside the worker pool');

const app = (await import(data.appModule)) as Record<string, unknown>;
post({
  kind: 'ready',
  thread: threadId,
  keys: jobRunner()?.keys() ?? [],
  functions: Object.values(app).flatMap((value) =>
    typeof value === 'function' ? [value.name] : [],
  ),
});

/** A job (one handler invocation) or a background task (an exported function). */
export type PoolTask =
  | { readonly kind: 'job'; readonly id: number; readonly request: unknown }
  | { readonly kind: 'task'; readonly exportName: string; readonly args: unknown[] };

export default async function runPoolTask(task: PoolTask): Promise<unknown> {
  if (task.kind === 'task') {
    const fn = app[task.exportName];
    if (typeof fn !== 'function')
      throw new Error(`the app module exports no function ${task.exportName}`);
    return await (fn as (...a: unknown[]) => unknown)(...task.args);
  }
  const runner = jobRunner();
  if (runner === undefined) {
    throw new Error(
      `${data?.appModule ?? 'the app module'} created no SocketIO instance with asyncMode 'worker-pool'`,
    );
  }
  const outcome = await runner.run(task.request);
  try {
    post({ kind: 'done', id: task.id, outcome });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    post({
      kind: 'failed',
      id: task.id,
      message: `a handler's result must survive structured clone to leave the worker thread (${why})`,
    });
  }
  return null;
}
