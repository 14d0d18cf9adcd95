/**
 * `socketio-actors run app --reload` against real files in a temporary folder:
 * its own output redirected into that folder restarts nothing (nor do changes
 * under node_modules, dist or a dotfolder), a syntax error is shown in full and
 * the next save starts the app again, and an editor's write-and-rename save is
 * seen, and so are the edits after it. Each case counts the restarts.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, eventually } from '../helpers/browser.js';
import { CLI, CliServer, cliEnv, endedAfterEach } from '../helpers/cli.js';
import { freePort } from '../helpers/queues.js';
import { delay } from '../helpers/raw-engine.js';

const LIBRARY = pathToFileURL(join(REPO_ROOT, 'dist', 'lib', 'index.js')).href;

/** An app module that answers `version` with `version`. */
function appSource(version: number, typescript = false): string {
  return [
    `import { SocketIO } from ${JSON.stringify(LIBRARY)};`,
    `const version${typescript ? ': number' : ''} = ${version};`,
    'const io = new SocketIO();',
    "io.on('version', () => version);",
    'export default io;',
    '',
  ].join('\n');
}

function count(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

/** The n-th occurrence of `pattern` (a pattern to wait for). */
function nth(pattern: RegExp, n: number): RegExp {
  return new RegExp(`(?:${pattern.source}[^]*?){${n}}`);
}

const SERVING = /socketio-actors: serving /;
const RESTARTING = /changed; restarting/;

describe('socketio-actors run --reload', function () {
  this.timeout(90_000);
  let scratch: string;
  const { servers, clients } = endedAfterEach();

  beforeEach(async function () {
    scratch = await mkdtemp(join(tmpdir(), 'socketio-actors-reload-'));
  });

  afterEach(async function () {
    await rm(scratch, { recursive: true, force: true });
  });

  /** The version the app serving on `port` answers, once it is `expected`. */
  async function versionIs(port: number, expected: number): Promise<number> {
    const answer = await eventually(
      `version ${expected} to answer`,
      async () => (await (await clients.connect(port)).emitAck('version'))[0],
      (version) => version === expected,
      20_000,
    );
    return answer as number;
  }

  it('with its output redirected into the folder, restarts once per change and never for its log, node_modules, dist or dotfiles', async function () {
    const app = join(scratch, 'app.mjs');
    await writeFile(app, appSource(1));
    const port = await freePort();
    const logPath = join(scratch, 'server.log');
    const log = openSync(logPath, 'w');
    // As `socketio-actors run app.mjs --reload > server.log 2>&1` would.
    const child = spawn(process.execPath, [CLI, 'run', app, '--reload', '--port', String(port)], {
      cwd: scratch,
      env: cliEnv(),
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    servers.push(CliServer.adopt(child));
    const output = (): Promise<string> => readFile(logPath, 'utf8');
    const waitFor = async (pattern: RegExp): Promise<string> =>
      eventually('the log to say so', output, (text) => pattern.test(text), 20_000);

    await waitFor(SERVING);
    expect(await versionIs(port, 1)).to.equal(1);
    await writeFile(app, appSource(2));
    await waitFor(nth(SERVING, 2));
    expect(await versionIs(port, 2)).to.equal(2);

    // None of these is the app's source.
    for (const dir of ['node_modules/dep', 'dist', 'logs', '.cache'])
      await mkdir(join(scratch, dir), { recursive: true });
    await writeFile(join(scratch, 'node_modules/dep/index.js'), 'export {};\n');
    await writeFile(join(scratch, 'dist/app.mjs'), 'export {};\n');
    await writeFile(join(scratch, 'logs/today.js'), 'export {};\n');
    await writeFile(join(scratch, '.cache/a.json'), '{}\n');
    await writeFile(join(scratch, 'notes.txt'), 'not source\n');
    // Ten times the debounce, and a restart or two of the app had the log restarted it.
    await delay(2000);

    const text = await output();
    expect(count(text, RESTARTING), text).to.equal(1);
    expect(count(text, SERVING), text).to.equal(2);
    expect(text).to.include('socketio-actors: app.mjs changed; restarting');
    expect(await versionIs(port, 2)).to.equal(2);
  });

  it('after a syntax error, shows the whole error, keeps watching and restarts once the file is fixed', async function () {
    const app = join(scratch, 'app.ts');
    await writeFile(app, appSource(1, true));
    const port = await freePort();
    const server = CliServer.start(['run', app, '--reload', '--port', String(port)]);
    servers.push(server);
    await server.waitForOutput(SERVING, 30_000);
    expect(await versionIs(port, 1)).to.equal(1);

    await writeFile(app, appSource(2, true).replace('const version', 'const version version'));
    await server.waitForOutput(
      /the app exited with code 2; restarting when a file changes/,
      30_000,
    );
    // tsx's message goes on after its first line with the place of the error.
    expect(server.stderr).to.match(
      /socketio-actors: cannot load .*app\.ts: Transform failed with 1 error:\n.*app\.ts:2:\d+: ERROR: /,
    );
    expect(server.exited, 'the supervisor is still running').to.equal(false);

    await writeFile(app, appSource(3, true));
    await server.waitForOutput(nth(SERVING, 2), 30_000);
    expect(await versionIs(port, 3)).to.equal(3);
    const text = server.stdout + server.stderr;
    expect(count(text, RESTARTING), text).to.equal(2);
    expect(count(text, SERVING), text).to.equal(2);
  });

  it("after an editor's write-and-rename save, sees that save and the edits after it", async function () {
    const app = join(scratch, 'app.mjs');
    await writeFile(app, appSource(1));
    const port = await freePort();
    const server = CliServer.start(['run', app, '--reload', '--port', String(port)]);
    servers.push(server);
    await server.waitForOutput(SERVING, 20_000);
    expect(await versionIs(port, 1)).to.equal(1);

    // As vim and many editors save: write a temporary file, rename it over the original.
    const temporary = join(scratch, '.app.mjs.swp');
    await writeFile(temporary, appSource(2));
    await rename(temporary, app);
    await server.waitForOutput(nth(SERVING, 2), 20_000);
    expect(await versionIs(port, 2)).to.equal(2);

    // The file is a new inode now: a plain edit of it must still be seen.
    await writeFile(app, appSource(3));
    await server.waitForOutput(nth(SERVING, 3), 20_000);
    expect(await versionIs(port, 3)).to.equal(3);
    const text = server.stdout + server.stderr;
    expect(count(text, RESTARTING), text).to.equal(2);
    expect(count(text, SERVING), text).to.equal(3);
  });
});
