/**
 * The server side of harness.ts's IPC protocol, shared by every benchmark
 * server: `rss` answers the process's resident set size (after a full garbage
 * collection when the process runs with `--expose-gc`, as the harness starts
 * it, so every server is measured on what it keeps, not on garbage it has not
 * collected yet), `stop` runs `stop` and exits.
 */

/** Answers the harness's `rss` and `stop` messages. */
export function answerHarness(stop: () => Promise<unknown>): void {
  process.on('message', (message) => {
    if (message === 'rss') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.({ rss: process.memoryUsage().rss });
    }
    if (message === 'stop') void stop().then(() => process.exit(0));
  });
}
