/**
 * Runs the command line (`node dist/lib/cli.js ...`) from the repository root,
 * either to completion (for the error paths) or as a server in a process group
 * of its own (as is an app that runs itself with plain `node`), so that the front of `--processes`, the supervisor of `--reload`
 * and the tsx child of a TypeScript app all end with it (SIGTERM, then SIGKILL).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { REPO_ROOT } from './browser.js';
import { delay, rawRequest } from './raw-engine.js';
import { SioPeer, within } from './socketio.js';
import type { ClientOptions } from './socketio.js';

/** The built CLI. */
export const CLI = join(REPO_ROOT, 'dist', 'lib', 'cli.js');

/** The environment of a CLI run: this one, without an async mode chosen by variable. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.SOCKETIO_ASYNC_MODE;
  delete env.SOCKETIO_APP_MODULE;
  delete env.SOCKETIO_PROCESS_INDEX;
  delete env.SOCKETIO_FRONT_HOST;
  delete env.SOCKETIO_FRONT_TOKEN;
  delete env.SOCKETIO_ACTORS_TSX;
  return env;
}

/** How a finished run ended. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` to completion (killed after `ms` milliseconds); a non-zero exit resolves too. */
export function runCommand(
  command: string,
  args: readonly string[],
  where: { readonly cwd: string; readonly env: NodeJS.ProcessEnv },
  ms = 10_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...where, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not exit within ${ms} ms`));
    }, ms);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the CLI to completion (killed after `ms` milliseconds). */
export function runCli(args: readonly string[], ms = 10_000): Promise<CliResult> {
  return runCommand(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: cliEnv() }, ms);
}

/** A server process started by a spec: the CLI, or an app module run with plain `node`. */
export class CliServer {
  #stdout = '';
  #stderr = '';
  #exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly args: readonly string[],
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.#stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString('utf8')));
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
    });
  }

  /** Starts `node dist/lib/cli.js <args>` in a new process group. */
  static start(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliServer {
    return CliServer.#spawn([CLI, ...args], args, env);
  }

  /** Starts `node <script>`, an app that runs itself without the CLI, in a new process group. */
  static script(script: string, env: NodeJS.ProcessEnv = {}): CliServer {
    return CliServer.#spawn([script], [], env);
  }

  /** A server process the spec spawned itself (detached, so that it leads its group). */
  static adopt(child: ChildProcess, args: readonly string[] = []): CliServer {
    return new CliServer(child, args);
  }

  static #spawn(
    argv: readonly string[],
    args: readonly string[],
    env: NodeJS.ProcessEnv,
  ): CliServer {
    const child = spawn(process.execPath, argv, {
      cwd: REPO_ROOT,
      env: cliEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new CliServer(child, args);
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Whether the CLI process has exited. */
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Waits until stdout+stderr match `pattern`; resolves with the match. */
  async waitForOutput(pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = (this.#stdout + this.#stderr).match(pattern);
      if (match !== null) return match;
      if (this.exited || Date.now() > deadline) {
        throw new Error(
          `${this.exited ? 'the CLI exited' : `timed out after ${ms} ms`} before printing ${String(pattern)}; stdout: ${JSON.stringify(this.#stdout)}; stderr: ${JSON.stringify(this.#stderr)}`,
        );
      }
      await delay(25);
    }
  }

  /** Sends `signal` to the whole process group (the CLI and every child it started). */
  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  /** SIGTERM to the group; SIGKILL to it after `graceMs` if the CLI has not exited by then. */
  async stop(graceMs = 3000): Promise<void> {
    this.#signalGroup('SIGTERM');
    const exited = await Promise.race([
      this.#exited.then(() => true),
      delay(graceMs).then(() => false),
    ]);
    // Children that outlive the CLI (or a CLI that ignored SIGTERM) go too.
    this.#signalGroup('SIGKILL');
    if (!exited) await Promise.race([this.#exited, delay(1000)]);
  }
}

/** GETs the Engine.IO handshake at `port` until it answers 200 (true) or `ms` pass (false). */
export async function waitForHandshake(port: number, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const status = await rawRequest(
      `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`,
    ).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return true;
    await delay(50);
  }
  return false;
}

/** What the fixture app's `whoami` answers. */
export interface WhoAmI {
  readonly pid: number;
  readonly mode: string;
  readonly module: string;
}

/** Official clients against a CLI server, all disconnected by {@link CliClients.close}. */
export class CliClients {
  readonly #peers: SioPeer[] = [];

  /** A client connected to `port` (rejects when it cannot connect). */
  async connect(port: number, options: ClientOptions = {}): Promise<SioPeer> {
    const peer = new SioPeer(
      connect(`http://127.0.0.1:${port}`, { forceNew: true, reconnection: false, ...options }),
    );
    this.#peers.push(peer);
    await within(peer.opened, `a client on port ${port}`, 5000);
    return peer;
  }

  /** Asks the fixture app who answers. */
  async whoami(peer: SioPeer): Promise<WhoAmI> {
    const [answer] = await peer.emitAck('whoami');
    return answer as WhoAmI;
  }

  /** Disconnects every client. */
  close(): void {
    for (const peer of this.#peers.splice(0)) peer.socket.disconnect();
  }
}

/** The servers and clients of a describe block, all ended after each of its tests. */
export function endedAfterEach(): { readonly servers: CliServer[]; readonly clients: CliClients } {
  const servers: CliServer[] = [];
  const clients = new CliClients();
  afterEach(async function () {
    clients.close();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });
  return { servers, clients };
}
