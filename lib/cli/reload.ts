/**
 * `socketio-actors run app.js --reload`: runs the app in a child process and
 * starts a new one when a source file in the app's folder changes (see
 * source-watcher.ts for what counts). An app that exits on its own (a syntax
 * error, say) stays down, with its error shown in full, until the next change
 * starts it again; the watching never stops.
 *
 * ```
 *            change                      exit
 *  running ──────────► stopping ──────────────────► running (a new child)
 *     │  exit on its own    ▲ change
 *     └──────────────► exited (waits for a change) ──► running
 * ```
 */
import type { ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { SourceWatcher } from './source-watcher.js';

/** How long a child may take to stop after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 5000;

/** Where the supervisor is; the child is the one running or stopping. */
type Phase =
  | { readonly name: 'running'; readonly child: ChildProcess }
  | { readonly name: 'stopping'; readonly child: ChildProcess; readonly then: 'restart' | 'quit' }
  | { readonly name: 'exited' };

/** What the supervisor needs from the CLI. */
export interface ReloadOptions {
  /** The app module: its folder is watched. */
  readonly appPath: string;
  /** Starts the app in a new child process. */
  readonly start: () => ChildProcess;
  /** One line for the user (on stderr). */
  readonly log: (line: string) => void;
}

/**
 * Supervises the app's child process, restarting it on changes, until SIGINT or SIGTERM
 * (which stop the child, then this process).
 *
 * @example
 * ```ts
 * superviseReload({
 *   appPath: '/srv/app/app.js',
 *   start: () => spawn(process.execPath, ['app.js'], { stdio: 'inherit' }),
 *   log: (line) => console.error(`socketio-actors: ${line}`),
 * });
 * ```
 */
export function superviseReload(options: ReloadOptions): void {
  let phase: Phase = { name: 'exited' };

  const start = (): void => {
    const child = options.start();
    phase = { name: 'running', child };
    child.once('exit', (code, signal) => {
      if (phase.name === 'running' && phase.child === child) {
        phase = { name: 'exited' };
        const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
        options.log(`the app ${how}; restarting when a file changes`);
      } else if (phase.name === 'stopping' && phase.child === child) {
        if (phase.then === 'restart') start();
        else process.exit(0);
      }
    });
  };

  const stop = (then: 'restart' | 'quit'): void => {
    if (phase.name === 'exited') {
      if (then === 'restart') start();
      else process.exit(0);
      return;
    }
    const { child } = phase;
    if (phase.name === 'running') {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => clearTimeout(timer));
    }
    phase = { name: 'stopping', child, then };
  };

  const watcher = new SourceWatcher(dirname(options.appPath), (files) => {
    const [first = 'a file', ...more] = files;
    options.log(
      `${first}${more.length > 0 ? ` (and ${more.length} more)` : ''} changed; restarting`,
    );
    stop('restart');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      watcher.close();
      stop('quit');
    });
  }
  start();
}
