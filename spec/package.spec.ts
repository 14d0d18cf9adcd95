/**
 * The package as a user installs it: `npm pack` of the built tree, `npm install` of the
 * tarball into an empty project in a temporary folder, then an ESM app started with plain
 * `node` that serves the browser client and answers the official client, a CommonJS
 * `require()`, a strict TypeScript consumer type-checked against the shipped .d.ts
 * (`skipLibCheck: false`) and one with typed events (type arguments and module augmentation),
 * the one-line messages for the optional peers that are not installed (ioredis, tsx), source
 * maps that point at shipped sources, and the warning when the client bundle is missing. Needs the npm registry for the project's dependencies (the
 * cache is warm after `npm ci`); pack uses --ignore-scripts since `npm test` built dist/.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/browser.js';
import { CliClients, CliServer, cliEnv, runCommand } from './helpers/cli.js';
import type { CliResult } from './helpers/cli.js';

/** This environment without what `npm test` exports to its scripts (npm_config_* is config). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = cliEnv();
  for (const key of Object.keys(env)) if (/^npm_/i.test(key)) delete env[key];
  return env;
}

/** Runs `command` in `cwd` with {@link cleanEnv}; never rejects on a non-zero exit. */
function exec(command: string, args: readonly string[], cwd: string): Promise<CliResult> {
  return runCommand(command, args, { cwd, env: cleanEnv() }, 120_000);
}

/** Like {@link exec}, but a non-zero exit fails with the command's output. */
async function ok(command: string, args: readonly string[], cwd: string): Promise<string> {
  const result = await exec(command, args, cwd);
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

const APP = `import { createServer } from 'node:http';
import { SocketIO } from 'socketio-actors';

const server = createServer((req, res) => res.end('my page'));
const io = new SocketIO(server);
io.on('echo', (text) => \`echo: \${text}\`);
server.listen(0, '127.0.0.1', () => console.log(\`listening on \${server.address().port}\`));
`;

const REQUIRE = `const { SocketIO, emit } = require('socketio-actors');
const { version } = require('socketio-actors/package.json');
console.log(typeof SocketIO, typeof emit, version);
`;

const CONSUMER = `import { createServer } from 'node:http';
import { SocketIO, emit, MissingPackageError } from 'socketio-actors';
import type { SocketIOOptions } from 'socketio-actors';

const options: SocketIOOptions = { corsAllowedOrigins: '*', asyncMode: 'event-loop' };
const io = new SocketIO(createServer(), options);
io.on('chat', (text: string) => emit('chat', text, { broadcast: true }));
export const missing: boolean = new Error() instanceof MissingPackageError;
`;

/** Typed events through the shipped .d.ts: a server's type arguments and the module's augmentation. */
const TYPED = `import { SocketIO, args, emit, session } from 'socketio-actors';

declare module 'socketio-actors' {
  interface ServerToClientEvents {
    chat: (text: string, from: string) => void;
  }
  interface SessionData {
    count?: number;
  }
}

interface ClientToServer {
  add: (a: number, b: number, ack: (sum: number) => void) => void;
}
const io = new SocketIO<ClientToServer>();
io.on('add', (a, b) => {
  const data = session();
  data.count = (data.count ?? 0) + 1;
  emit('chat', args(String(a + b), 'server'));
  return a + b;
});
// @ts-expect-error the ack is a number
io.on('add', (a, b) => String(a + b));
// @ts-expect-error chat takes (text, from)
io.emit('chat', 'hi');
// @ts-expect-error count is a number
io.on('add', () => void (io.session().count = 'one'));
`;

/** Node's one-liner: runs `code` as an ES module in `cwd`, with `flags` before it. */
function nodeEval(cwd: string, code: string, flags: readonly string[] = []): Promise<CliResult> {
  return exec(process.execPath, [...flags, '--input-type=module', '-e', code], cwd);
}

describe('the npm package: pack, install into an empty project, run', function () {
  this.timeout(60_000);
  let scratch: string;
  let project: string;
  const clients = new CliClients();
  let server: CliServer | undefined;
  let packedFiles: string[] = [];

  before(async function () {
    this.timeout(180_000);
    scratch = await mkdtemp(join(tmpdir(), 'socketio-actors-pack-'));
    const packed = JSON.parse(
      await ok(
        'npm',
        ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch],
        REPO_ROOT,
      ),
    ) as { filename: string; files: { path: string }[] }[];
    const tarball = join(scratch, packed[0]?.filename ?? 'missing.tgz');
    packedFiles = packed[0]?.files.map((file) => file.path) ?? [];
    project = join(scratch, 'project');
    await mkdir(project);
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'pack-check', version: '1.0.0', private: true }),
    );
    await ok(
      'npm',
      ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
      project,
    );
    await writeFile(join(project, 'app.mjs'), APP);
  });

  afterEach(async function () {
    clients.close();
    await server?.stop();
    server = undefined;
  });

  after(async function () {
    await rm(scratch, { recursive: true, force: true });
  });

  it('packs the build, the sources its maps point at and the LICENSE, and no specs', function () {
    for (const file of [
      'LICENSE',
      'README.md',
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/lib/index.js.map',
      'dist/lib/cli.js',
      'lib/index.ts',
      'schedulers/worker-pool-thread.ts',
    ])
      expect(packedFiles).to.include(file);
    expect(packedFiles.filter((file) => /(^|\/)(spec|benchmarks|examples)\//.test(file))).to.be
      .empty;
  });

  it('serves /socket.io/socket.io.min.js and answers an emit with an ack, started with plain node', async function () {
    server = CliServer.script(join(project, 'app.mjs'));
    const [, port] = await server.waitForOutput(/listening on (\d+)/);
    const bundle = await fetch(`http://127.0.0.1:${port}/socket.io/socket.io.min.js`);
    expect(bundle.status).to.equal(200);
    expect(bundle.headers.get('content-type')).to.match(/^application\/javascript/);
    expect(await bundle.text()).to.match(/Socket\.IO v4/);
    const peer = await clients.connect(Number(port));
    expect(await peer.emitAck('echo', 'hi')).to.deep.equal(['echo: hi']);
    expect(server.stderr).to.equal('');
  });

  it('loads with require() from a CommonJS file', async function () {
    await writeFile(join(project, 'require.cjs'), REQUIRE);
    const result = await exec(process.execPath, ['require.cjs'], project);
    expect(result.code, result.stderr).to.equal(0);
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(result.stdout.trim()).to.equal(`function function ${version}`);
  });

  /** Type-checks `files` of the project: strict, skipLibCheck off; '' when they compile. */
  async function typeCheck(files: string[]): Promise<{ output: string; code: number | null }> {
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          // @types/node from this repository, so the project installs nothing else.
          typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        files,
      }),
    );
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    return { output: result.stdout + result.stderr, code: result.code };
  }

  it('type-checks a strict TypeScript consumer with skipLibCheck off (only @types/node needed)', async function () {
    await writeFile(join(project, 'consumer.mts'), CONSUMER);
    expect(await typeCheck(['consumer.mts'])).to.deep.equal({ output: '', code: 0 });
  });

  it('types events through the shipped .d.ts: type arguments, and the declarations an app augments', async function () {
    // A program of its own: the augmentation would type consumer.mts's events too.
    await writeFile(join(project, 'typed.mts'), TYPED);
    expect(await typeCheck(['typed.mts'])).to.deep.equal({ output: '', code: 0 });
  });

  it("a redis:// messageQueue without ioredis throws one line naming 'npm install ioredis'", async function () {
    const result = await nodeEval(
      project,
      `import { SocketIO } from 'socketio-actors';
       try { new SocketIO({ messageQueue: 'redis://127.0.0.1:6379/0' }); }
       catch (error) { console.log(error.code, error.message); }`,
    );
    expect(result.stdout).to.equal(
      "ERR_MISSING_PACKAGE messageQueue 'redis://127.0.0.1:6379/0' needs the ioredis package: npm install ioredis\n",
    );
  });

  it('npx socketio-actors run app.ts without tsx prints the install line and exits 2', async function () {
    await writeFile(join(project, 'app.ts'), 'export {};\n');
    const result = await exec('npx', ['--no-install', 'socketio-actors', 'run', 'app.ts'], project);
    expect(result.stderr).to.equal(
      'socketio-actors: running a TypeScript app needs tsx: npm install tsx\n',
    );
    expect(result.code).to.equal(2);
  });

  it('stack traces under --enable-source-maps point at TypeScript sources that ship', async function () {
    const result = await nodeEval(
      project,
      `import { SocketIO } from 'socketio-actors';
       try { new SocketIO({ cors: true }); } catch (error) { console.log(error.stack); }`,
      ['--enable-source-maps'],
    );
    const files = [...result.stdout.matchAll(/\((\/[^():]+):\d+:\d+\)/g)].map((m) => m[1] ?? '');
    const shipped = files.filter((file) => file.includes('/node_modules/socketio-actors/'));
    expect(shipped, result.stdout).to.not.be.empty;
    for (const file of shipped) {
      expect(file).to.match(/\/node_modules\/socketio-actors\/(lib|schedulers)\/.+\.ts$/);
      expect(existsSync(file), file).to.be.true;
    }
  });

  it('warns once at construction, naming the fix, when socket.io-client is missing', async function () {
    await rm(join(project, 'node_modules', 'socket.io-client'), { recursive: true });
    const result = await nodeEval(
      project,
      `import { SocketIO } from 'socketio-actors'; new SocketIO();`,
    );
    expect(result.stderr).to.equal(
      'socketio-actors: serveClient: socket.io-client is not installed, so /socket.io/socket.io.min.js is a 404; npm install socket.io-client, or pass serveClient: false\n',
    );
  });
});
