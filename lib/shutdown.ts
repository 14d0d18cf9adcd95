/**
 * Stopping on SIGINT/SIGTERM, for `io.run()` from plain `node app.js` and for
 * the CLI alike: every server that runs is stopped (its clients get a clean
 * `server shutdown` close, its message queue is flushed), then the process
 * exits, 0 if all stopped cleanly, 1 (with one line each) if one did not
 * deliver everything. One handler per signal, whatever the number of servers;
 * none at all while nothing runs, so that a second Ctrl-C during a stop ends
 * the process at once, as Node would.
 */

/** What can be stopped: a `SocketIO` instance. */
export interface Stoppable {
  stop(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

const running = new Set<Stoppable>();

function onSignal(): void {
  stopAllAndExit();
}

function listen(on: boolean): void {
  for (const signal of SIGNALS) {
    if (on) process.once(signal, onSignal);
    else process.removeListener(signal, onSignal);
  }
}

/**
 * Stops `server` on SIGINT or SIGTERM and exits; returns the function that stops watching
 * for it (call it when the server stops by other means).
 *
 * @example
 * ```ts
 * const forget = stopOnSignals(io);
 * // … the app stops the server itself:
 * forget();
 * await io.stop();
 * ```
 */
export function stopOnSignals(server: Stoppable): () => void {
  if (running.size === 0) listen(true);
  running.add(server);
  return () => {
    if (running.delete(server) && running.size === 0) listen(false);
  };
}

/**
 * Stops every server {@link stopOnSignals} watches, then exits: 0 when all stopped cleanly,
 * 1 after a line on stderr for each that did not (a message queue that did not take
 * everything emitted).
 *
 * @example
 * ```ts
 * process.once('disconnect', stopAllAndExit); // the parent process is gone
 * ```
 */
export function stopAllAndExit(): void {
  const servers = [...running];
  running.clear();
  listen(false);
  void Promise.allSettled(servers.map((server) => server.stop())).then((results) => {
    let code = 0;
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      const error: unknown = result.reason;
      console.error('socketio-actors:', error instanceof Error ? error.message : error);
      code = 1;
    }
    process.exit(code);
  });
}
