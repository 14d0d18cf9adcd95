/**
 * Flask-SocketIO, the system this project ports, as a peer server: benchmarks/peer-flask.py
 * run by Debian's python3 (scripts/bench-deps.sh installs it). It cannot speak Node's IPC,
 * so the harness's protocol goes another way:
 *
 * ```
 *  harness                                   peer-flask.py
 *  spawn /usr/bin/python3 peer-flask.py ───▶
 *                                       ◀─── stdout: {"port":N,"mode":"gevent"}
 *  GET http://127.0.0.1:N/bench/rss     ───▶
 *                                       ◀─── {"rss":bytes} (VmRSS after gc.collect())
 *  SIGTERM                              ───▶ exits
 * ```
 *
 * Its async mode is gevent, with gevent-websocket (BENCH_FLASK_MODE=eventlet runs the other).
 * Side by side on the same 2-core machine, gevent answered 3.8x to 6x the acked echoes per
 * second of eventlet with 100 in flight per client (eventlet also lost acks there) and 1.5x
 * the long-polling echoes; one echo in flight and the CPU-bound handler went either way
 * between rounds. And eventlet's WSGI server, as `socketio.run()` starts it, serves at most
 * 1,024 connections at once (its default `max_size`): the connect and idle scenarios' clients
 * past that timed out.
 * The threading mode has no WebSocket without simple-websocket, which Debian does not package.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopChild } from './harness.js';
import type { ServerHandle } from './harness.js';

/** Debian's interpreter, where apt installs python3-flask-socketio (not a pyenv shim). */
const PYTHON = '/usr/bin/python3';

const SCRIPT = fileURLToPath(new URL('../../benchmarks/peer-flask.py', import.meta.url));

/** Python startup with Flask and gevent imports takes seconds on a busy machine. */
const READY_TIMEOUT_MS = 30_000;

let missing: string | null | undefined;

/**
 * Why the Flask-SocketIO peer cannot run here, or null when it can (checked once).
 *
 * @example
 * ```ts
 * const reason = flaskMissing();
 * if (reason !== null) console.error(`flask-socketio skipped: ${reason}`);
 * ```
 */
export function flaskMissing(): string | null {
  if (missing !== undefined) return missing;
  try {
    execFileSync(PYTHON, ['-c', 'import flask_socketio, gevent, geventwebsocket'], {
      stdio: 'ignore',
    });
    missing = null;
  } catch {
    missing = `${PYTHON} cannot import flask_socketio, gevent and geventwebsocket (scripts/bench-deps.sh installs them from Debian's packages as root or with password-less sudo)`;
  }
  return missing;
}

/**
 * Starts peer-flask.py and waits for the port it listens on.
 *
 * @example
 * ```ts
 * const flask = await startFlask<{ port: number }>();
 * console.log(await flask.rss());
 * await flask.stop();
 * ```
 */
export async function startFlask<Ready extends { port: number }>(): Promise<ServerHandle<Ready>> {
  const child = spawn(PYTHON, [SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`peer-flask.py did not report its port within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as Ready);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`peer-flask.py exited early (code ${String(code)})`));
    });
  });
  const ask = async <Answer>(message: string): Promise<Answer> => {
    const response = await fetch(`http://127.0.0.1:${ready.port}/bench/${message}`);
    if (!response.ok) throw new Error(`peer-flask.py: /bench/${message}: ${response.status}`);
    return (await response.json()) as Answer;
  };
  return {
    child,
    ready,
    running: () => child.exitCode === null && child.signalCode === null,
    rss: async () => (await ask<{ rss: number }>('rss')).rss,
    ask,
    stop: () => stopChild(child, () => child.kill('SIGTERM')),
  };
}
