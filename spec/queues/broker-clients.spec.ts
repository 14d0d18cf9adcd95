/**
 * ioredis and amqplib are optional: a plain `import { SocketIO }` loads
 * neither, a queue URL loads its broker's client at construction, and a
 * missing client fails `new SocketIO(...)` with a message that names the fix.
 * Each case runs in a fresh Node process, whose module cache is its own.
 */
import { execFile } from 'node:child_process';
import { expect } from 'chai';

const INDEX = new URL('../../lib/index.js', import.meta.url).href;

/** Runs an ES module body in a fresh process; resolves with what it printed as JSON. */
function inFreshProcess(body: string): Promise<unknown> {
  const source = `
    import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(INDEX)});
    const loaded = () => [...new Set(Object.keys(require.cache).flatMap((path) => {
      const m = /node_modules\\/(ioredis|amqplib|piscina)\\//.exec(path);
      return m === null ? [] : [m[1]];
    }))].sort();
    ${body}
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', source],
      { timeout: 15_000 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as unknown);
      },
    );
  });
}

/** Makes `require(name)` fail as if the packages were not installed (body prefix). */
const UNINSTALL = (names: string[]): string => `
  import Module from 'node:module';
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    if (${JSON.stringify(names)}.includes(request)) {
      throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
    }
    return resolve.call(this, request, ...rest);
  };
`;

describe('broker client packages', function () {
  this.timeout(30_000);

  it('are not loaded by importing the package, and each loads when its URL is used', async function () {
    const result = await inFreshProcess(`
      const { SocketIO } = await import(${JSON.stringify(INDEX)});
      const steps = { imported: loaded() };
      const plain = new SocketIO();
      await plain.stop();
      steps.plain = loaded();
      const redis = new SocketIO({ messageQueue: 'redis://127.0.0.1:1/0' });
      steps.redis = loaded();
      const amqp = new SocketIO({ messageQueue: 'amqp://127.0.0.1:1/' });
      steps.amqp = loaded();
      await Promise.allSettled([redis.stop(), amqp.stop()]);
      console.log(JSON.stringify(steps));
    `);
    expect(result).to.deep.equal({
      imported: [],
      plain: [],
      redis: ['ioredis'],
      amqp: ['amqplib', 'ioredis'],
    });
  });

  it('missing, fail new SocketIO() at once with one line naming the fix', async function () {
    const result = await inFreshProcess(`
      ${UNINSTALL(['ioredis', 'amqplib'])}
      const { SocketIO } = await import(${JSON.stringify(INDEX)});
      const errors = {};
      for (const url of ['redis://:secret@127.0.0.1:6379/0', 'amqps://127.0.0.1/']) {
        try {
          new SocketIO({ messageQueue: url });
        } catch (error) {
          errors[url] = { code: error.code, message: error.message };
        }
      }
      const plain = new SocketIO();
      await plain.stop();
      console.log(JSON.stringify(errors));
    `);
    expect(result).to.deep.equal({
      'redis://:secret@127.0.0.1:6379/0': {
        code: 'ERR_MISSING_PACKAGE',
        message:
          "messageQueue 'redis://:***@127.0.0.1:6379/0' needs the ioredis package: npm install ioredis",
      },
      'amqps://127.0.0.1/': {
        code: 'ERR_MISSING_PACKAGE',
        message: "messageQueue 'amqps://127.0.0.1/' needs the amqplib package: npm install amqplib",
      },
    });
  });
});
