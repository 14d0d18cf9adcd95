#!/usr/bin/env node
/**
 * The command line: `socketio-actors run app.js [options]` loads an app module
 * that exports a SocketIO instance (default export or `io`) and serves it, like
 * `flask run`. TypeScript apps run directly through tsx, when it is installed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setCliAsyncMode } from '../schedulers/select.js';
import { CliError, HELP, fail, parse, version } from './cli/args.js';
import type { Parsed } from './cli/args.js';
import { superviseReload } from './cli/reload.js';
import { ProcessRefused, runCluster } from './cluster.js';
import { clusterWorker } from './cluster/worker.js';
import { FRONT_ENV } from './engine/cluster-front.js';

interface ServableApp {
  run(
    app: undefined,
    where: { host: string; port: number },
  ): Promise<{ host: string; port: number }>;
  stop(): Promise<void>;
  readonly asyncMode: string;
}

function isServable(value: unknown): value is ServableApp {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ServableApp).run === 'function' &&
    typeof (value as ServableApp).stop === 'function'
  );
}

/** tsx is an optional peer dependency: only TypeScript apps need it. */
function resolveTsx(): string {
  try {
    return import.meta.resolve('tsx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND')
      fail('running a TypeScript app needs tsx: npm install tsx');
    throw error;
  }
}

/** Re-runs this command as a child (for --reload and for TypeScript apps), forwarding exit codes. */
function respawn(
  nodeArgs: string[],
  argv: string[],
  env: NodeJS.ProcessEnv,
): ReturnType<typeof spawn> {
  return spawn(process.execPath, [...nodeArgs, fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env,
  });
}

/**
 * Why the app module did not load, in full: a compiler's message (tsx's `Transform failed with
 * 1 error:`) names the file, line and column on the lines after its first.
 */
function describeLoadError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.trimEnd() || 'unknown error';
}

/** Why the system would not listen where asked, for the errors a flag can fix. */
const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use; pick another --port',
  EACCES: 'not allowed (ports below 1024 need privileges); pick another --port',
  EADDRNOTAVAIL: 'no interface of this machine has that address; check --host',
  ENOTFOUND: 'no such host; check --host',
};

/** Throws a listen error a flag can fix as one line, and any other error as it is. */
function failToListen(error: unknown, where: { host: string; port: number }): never {
  const code = (error as { code?: unknown } | null)?.code;
  const why =
    typeof code === 'string' && Object.hasOwn(LISTEN_ERRORS, code)
      ? LISTEN_ERRORS[code]
      : undefined;
  if (why !== undefined) fail(`cannot listen on ${where.host}:${where.port}: ${why}`);
  throw error;
}

async function serve(options: Parsed, appPath: string): Promise<void> {
  setCliAsyncMode(options.asyncMode);
  const url = pathToFileURL(appPath).href;
  process.env.SOCKETIO_APP_MODULE ??= url;
  if (options.workers !== undefined) process.env.SOCKETIO_WORKERS = String(options.workers);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    fail(`cannot load ${options.app}: ${describeLoadError(error)}`);
  }
  const io = [mod.default, mod.io].find(isServable);
  if (io === undefined)
    fail(
      `${options.app} exports no SocketIO instance; add \`export default io\` or \`export const io = new SocketIO(...)\``,
    );
  const worker = clusterWorker();
  const where =
    worker !== undefined
      ? { host: '127.0.0.1', port: 0 }
      : { host: options.host, port: options.port };
  let address;
  try {
    address = await io.run(undefined, where);
  } catch (error) {
    // The app's options refuse where it is asked to serve (the status page's rule): a usage
    // mistake, told in one line like the command line's own. The code, not the class: the app
    // may have loaded another copy of the package.
    if ((error as { code?: unknown }).code === 'SIO_ERR_USAGE') fail((error as Error).message);
    failToListen(error, where);
  }
  if (worker !== undefined) await worker.report({ type: 'listening', port: address.port });
  else
    console.log(
      `socketio-actors: serving ${options.app} on http://${address.host}:${address.port}/ (${io.asyncMode} mode)`,
    );
  // io.run() stops the server on SIGINT/SIGTERM and exits (lib/shutdown.ts), 1 when the message
  // queue did not take everything emitted. A front that is gone (killed, say) leaves nobody
  // to route to this process: the same stop, through the app's own copy of the package.
  worker?.onFrontGone(() => process.kill(process.pid, 'SIGTERM'));
}

async function main(argv: string[]): Promise<void> {
  const options = parse(argv);
  if (options === 'help') return void process.stdout.write(HELP);
  if (options === 'version') return void process.stdout.write(`${version()}\n`);
  const appPath = resolve(options.app);
  if (!existsSync(appPath))
    fail(`cannot find ${options.app} (looked for ${appPath}); give the path of your app module`);
  const tsx =
    /\.[cm]?tsx?$/.test(appPath) && process.env.SOCKETIO_ACTORS_TSX === undefined
      ? resolveTsx()
      : undefined;
  if (options.reload) {
    const args = argv.filter((a) => a !== '--reload');
    return superviseReload({
      appPath,
      start: () => respawn([], args, process.env),
      log: (line) => console.error(`socketio-actors: ${line}`),
    });
  }
  if (tsx !== undefined) {
    // Run under tsx so TypeScript apps (and their pool threads) load directly.
    const child = respawn(['--import', tsx], argv, { ...process.env, SOCKETIO_ACTORS_TSX: '1' });
    child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.on(signal, () => child.kill(signal));
    return;
  }
  if (options.processes > 1 && process.env[FRONT_ENV.index] === undefined) {
    const script = fileURLToPath(import.meta.url);
    const cluster = await runCluster({
      script,
      args: argv.filter(
        (a, i) =>
          a !== '--processes' && argv[i - 1] !== '--processes' && !a.startsWith('--processes='),
      ),
      processes: options.processes,
      host: options.host,
      port: options.port,
      log: (line) => console.log(`socketio-actors: ${line}`),
    }).catch((error: unknown) => {
      if (error instanceof ProcessRefused) fail(error.message);
      return failToListen(error, options);
    });
    const address = cluster.front.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    console.log(
      `socketio-actors: serving ${options.app} on http://${options.host}:${port}/ (${options.processes} processes)`,
    );
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => void cluster.stop().then(() => process.exit(0)));
    return;
  }
  await serve(options, appPath);
}

main(process.argv.slice(2)).catch(async (error: unknown) => {
  if (error instanceof CliError) {
    // A process of a cluster leaves the telling to the front, so the user sees one line.
    const worker = clusterWorker();
    if (worker !== undefined) await worker.report({ type: 'refused', message: error.message });
    else console.error(`socketio-actors: ${error.message}`);
    process.exit(2);
  }
  console.error('socketio-actors:', error);
  process.exit(1);
});
