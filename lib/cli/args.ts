/**
 * The command line's words: its help, its version, and `parse()`, which turns
 * argv into what to do or into a {@link CliError}, one line with the fix that
 * the CLI prints on stderr before exiting with code 2.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ASYNC_MODES } from '../../schedulers/scheduler.js';
import { suggestFix } from '../option-names.js';

/** What `--help` prints (and a run with no arguments). */
export const HELP = `Usage: socketio-actors run <app> [options]

Loads <app> (a .js or .ts module exporting a SocketIO instance as its default
export or as \`io\`) and serves it.

Options:
  --host <host>          interface to listen on (default 127.0.0.1)
  --port <port>          port to listen on (default 5000)
  --async-mode <mode>    ${ASYNC_MODES.join(' | ')} (default: the app's option,
                         else SOCKETIO_ASYNC_MODE, else event-loop)
  --workers <n>          worker-pool threads (default: the number of cores)
  --processes <n>        run n server processes behind a sticky front; they share
                         clients through the app's messageQueue
  --reload               restart when a source file in the app's folder changes
  -h, --help             show this help
  -v, --version          show the version
`;

/** A mistake on the command line: one line with the fix, exit code 2. */
export class CliError extends Error {}

/** Throws a {@link CliError}. */
export function fail(message: string): never {
  throw new CliError(message);
}

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'async-mode': { type: 'string' },
  workers: { type: 'string' },
  processes: { type: 'string' },
  reload: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/** What to run, from the command line. */
export interface Parsed {
  readonly app: string;
  readonly host: string;
  readonly port: number;
  readonly asyncMode: string | undefined;
  readonly workers: number | undefined;
  readonly processes: number;
  readonly reload: boolean;
}

function positiveInt(name: string, value: string | undefined, max = 65535): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max)
    fail(`--${name} takes a whole number from 0 to ${max}, got "${value}"`);
  return n;
}

/** parseArgs's own message, made the CLI's one line (with a guess for a misspelt flag). */
function argumentMistake(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
  if (unknown !== undefined) {
    const flags = Object.keys(OPTIONS).map((name) => `--${name}`);
    const fix = suggestFix(unknown.replace(/=.*$/, ''), flags) ?? 'see socketio-actors --help';
    return `unknown option ${unknown}; ${fix}`;
  }
  return `${message.split('\n')[0] ?? 'bad arguments'}; see socketio-actors --help`;
}

/**
 * What the command line asks for: help, the version, or an app to run.
 *
 * @example
 * ```ts
 * parse(['run', 'app.js', '--port', '8000']); // { app: 'app.js', port: 8000, … }
 * parse([]); // 'help'
 * parse(['run', 'app.js', '--prot', '1']); // throws CliError: unknown option --prot; did you mean --port?
 * ```
 */
export function parse(argv: readonly string[]): Parsed | 'help' | 'version' {
  if (argv.length === 0) return 'help';
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS });
  } catch (error) {
    fail(argumentMistake(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true) return 'help';
  if (values.version === true) return 'version';
  const [command, app, ...extra] = positionals;
  if (command !== 'run')
    fail(`unknown command ${JSON.stringify(command ?? '')}; try: socketio-actors run app.js`);
  if (app === undefined) fail('missing the app module; try: socketio-actors run app.js');
  if (extra.length > 0)
    fail(`unexpected argument ${JSON.stringify(extra[0])}; see socketio-actors --help`);
  const asyncMode = values['async-mode'];
  if (asyncMode !== undefined && !(ASYNC_MODES as readonly string[]).includes(asyncMode)) {
    fail(`--async-mode must be one of ${ASYNC_MODES.join(', ')}, got "${asyncMode}"`);
  }
  const workers = positiveInt('workers', values.workers, 256);
  if (workers === 0) fail('--workers takes a whole number from 1 to 256');
  return {
    app,
    host: values.host ?? '127.0.0.1',
    port: positiveInt('port', values.port) ?? 5000,
    asyncMode,
    workers,
    processes: positiveInt('processes', values.processes, 64) || 1,
    reload: values.reload === true,
  };
}

/**
 * This package's version, from the package.json above this file (in dist/lib/cli/ or,
 * run from source, lib/cli/).
 *
 * @example
 * ```ts
 * version(); // '0.1.0'
 * ```
 */
export function version(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'socketio-actors' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here: look further up.
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
