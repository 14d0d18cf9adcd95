import { expect } from 'chai';
import fc from 'fast-check';
import { resolveEngineOptions } from '../../lib/engine/options.js';
import type { EngineOptions } from '../../lib/engine/options.js';
import { OptionError, UnknownOptionError } from '../../lib/errors.js';
import { runParameters } from '../helpers/props.js';

const RUNS = positiveInt(process.env.FC_RUNS, 200);
const BUDGET_MS = 2_000;
const params = runParameters(RUNS, BUDGET_MS);

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Options as they arrive from JavaScript callers or config files: untyped. */
function untyped(options: Record<string, unknown>): EngineOptions {
  return options;
}

/** Resolves and returns the OptionError thrown, failing when nothing is thrown. */
function rejection(options: Record<string, unknown>): OptionError {
  try {
    resolveEngineOptions(untyped(options));
  } catch (error) {
    expect(error).to.be.instanceOf(OptionError);
    const optionError = error as OptionError;
    expect(optionError.code).to.equal('ERR_INVALID_OPTION');
    return optionError;
  }
  expect.fail(`expected ${JSON.stringify(options)} to be rejected`);
}

const TIME_OPTIONS = ['pingInterval', 'pingTimeout', 'upgradeTimeout'] as const;
const MS_KEY = {
  pingInterval: 'pingIntervalMs',
  pingTimeout: 'pingTimeoutMs',
  upgradeTimeout: 'upgradeTimeoutMs',
} as const;

describe('resolveEngineOptions', function () {
  describe('defaults', function () {
    it('fills in every option, times in milliseconds', function () {
      expect(resolveEngineOptions()).to.deep.equal({
        pingIntervalMs: 25_000,
        pingTimeoutMs: 20_000,
        upgradeTimeoutMs: 10_000,
        maxHttpBufferSize: 1e6,
        maxPacketsPerPayload: undefined,
        outboxHighWaterMark: 16 * 1024 * 1024,
        allowUpgrades: true,
        transports: ['polling', 'websocket'],
        httpCompression: true,
        compressionThreshold: 1024,
        httpZlibOptions: {},
        perMessageDeflate: false,
        cookie: null,
        corsAllowedOrigins: null,
        corsCredentials: true,
        path: 'socket.io',
      });
    });

    it('treats an empty object and explicit undefined like no options', function () {
      const defaults = resolveEngineOptions();
      expect(resolveEngineOptions({})).to.deep.equal(defaults);
      expect(resolveEngineOptions({ pingInterval: undefined, path: undefined })).to.deep.equal(
        defaults,
      );
    });
  });

  describe('times (seconds in, milliseconds out)', function () {
    it('converts seconds to milliseconds', function () {
      const resolved = resolveEngineOptions({
        pingInterval: 10,
        pingTimeout: 5,
        upgradeTimeout: 0.25,
      });
      expect(resolved.pingIntervalMs).to.equal(10_000);
      expect(resolved.pingTimeoutMs).to.equal(5_000);
      expect(resolved.upgradeTimeoutMs).to.equal(250);
    });

    it('accepts the bounds 0.001 s and one hour', function () {
      expect(resolveEngineOptions({ pingInterval: 0.001 }).pingIntervalMs).to.equal(1);
      expect(resolveEngineOptions({ pingTimeout: 3_600 }).pingTimeoutMs).to.equal(3_600_000);
      // 25000 is what someone passing milliseconds writes; it must not become ~7 hours.
      expect(() => resolveEngineOptions({ pingInterval: 25_000 })).to.throw(
        OptionError,
        /not milliseconds/,
      );
    });

    for (const name of TIME_OPTIONS) {
      it(`rejects absurd ${name} values with a message naming the option and seconds`, function () {
        const absurd: unknown[] = [
          -1,
          0,
          0.0009,
          NaN,
          Infinity,
          -Infinity,
          86_401,
          25_000_000, // 25 s written in microseconds, or 25000 s written as ms * 1000
          '25',
          null,
          true,
          [25],
        ];
        for (const value of absurd) {
          const error = rejection({ [name]: value });
          expect(error.message).to.include(`option ${name}:`);
          expect(error.message).to.include('seconds');
          expect(error.message).to.include('not milliseconds');
        }
      });
    }

    it('quotes a string value in the message so it reads as a type mistake', function () {
      expect(rejection({ pingTimeout: '20' }).message).to.match(/got "20"$/);
      expect(rejection({ pingTimeout: -5 }).message).to.match(/got -5$/);
    });

    it('maps every number of seconds in range to its rounded milliseconds', function () {
      fc.assert(
        fc.property(
          fc.constantFrom(...TIME_OPTIONS),
          fc.double({ min: 0.001, max: 3_600, noNaN: true }),
          (name, secondsValue) => {
            const ms = resolveEngineOptions(untyped({ [name]: secondsValue }))[MS_KEY[name]];
            expect(ms).to.equal(Math.round(secondsValue * 1000));
            expect(ms).to.be.within(1, 3_600_000);
          },
        ),
        params,
      );
    });

    it('rejects every number of seconds out of range', function () {
      const outOfRange = fc.oneof(
        fc.double({ max: 0.001, maxExcluded: true }),
        fc.double({ min: 3_600, minExcluded: true }),
      );
      fc.assert(
        fc.property(fc.constantFrom(...TIME_OPTIONS), outOfRange, (name, value) => {
          expect(rejection({ [name]: value }).message).to.include(name);
        }),
        params,
      );
    });
  });

  describe('sizes and counts', function () {
    it('accepts whole numbers at their minimum', function () {
      const resolved = resolveEngineOptions({
        maxHttpBufferSize: 16,
        maxPacketsPerPayload: 1,
        outboxHighWaterMark: 1024,
        compressionThreshold: 0,
      });
      expect(resolved.maxHttpBufferSize).to.equal(16);
      expect(resolved.maxPacketsPerPayload).to.equal(1);
      expect(resolved.outboxHighWaterMark).to.equal(1024);
      expect(resolved.compressionThreshold).to.equal(0);
    });

    const cases: [string, unknown[]][] = [
      ['maxHttpBufferSize', [15, 0, -1, 1.5, NaN, Infinity, '1e6', null]],
      ['maxPacketsPerPayload', [0, -3, 2.5, NaN, '10']],
      ['outboxHighWaterMark', [1023, 0, 4096.5, Infinity, '16mb']],
      ['compressionThreshold', [-1, 0.5, NaN, '1024']],
    ];
    for (const [name, values] of cases) {
      it(`rejects ${name} values that are not whole numbers at or above the minimum`, function () {
        for (const value of values) {
          const error = rejection({ [name]: value });
          expect(error.message).to.include(`option ${name}:`);
          expect(error.message).to.include('whole number');
        }
      });
    }
  });

  describe('flags', function () {
    for (const name of ['allowUpgrades', 'corsCredentials'] as const) {
      it(`takes ${name} as a boolean and rejects anything else`, function () {
        expect(resolveEngineOptions({ [name]: false })[name]).to.equal(false);
        expect(resolveEngineOptions({ [name]: true })[name]).to.equal(true);
        for (const value of [0, 1, 'false', 'yes', null]) {
          expect(rejection({ [name]: value }).message).to.include(`option ${name}:`);
        }
      });
    }
  });

  describe('compression (perMessageDeflate, httpCompression)', function () {
    it('takes perMessageDeflate as false (the default), true, or ws options with a threshold', function () {
      expect(resolveEngineOptions({ perMessageDeflate: false }).perMessageDeflate).to.equal(false);
      expect(resolveEngineOptions({ perMessageDeflate: true }).perMessageDeflate).to.deep.equal({
        threshold: 1024,
      });
      const options = {
        threshold: 0,
        serverNoContextTakeover: true,
        clientMaxWindowBits: 10,
        zlibDeflateOptions: { level: 1 },
        concurrencyLimit: 4,
      };
      expect(resolveEngineOptions({ perMessageDeflate: options }).perMessageDeflate).to.deep.equal(
        options,
      );
    });

    it('rejects a perMessageDeflate that is not a flag or an object of ws options, naming the fix', function () {
      for (const value of ['yes', 1, null, [], () => true])
        expect(rejection({ perMessageDeflate: value }).message).to.match(
          /^option perMessageDeflate: expected true, false, or an object of ws permessage-deflate options such as \{ threshold: 1024 \}, got /,
        );
      const cases: [Record<string, unknown>, string][] = [
        [
          { threshold: -1 },
          'option perMessageDeflate.threshold: expected a whole number >= 0, got -1',
        ],
        [{ threshold: '1kb' }, 'option perMessageDeflate.threshold: expected a whole number >= 0'],
        [{ serverNoContextTakeover: 'yes' }, 'option perMessageDeflate.serverNoContextTakeover'],
        [{ serverMaxWindowBits: 16 }, 'expected a whole number from 8 to 15, got 16'],
        [{ clientMaxWindowBits: 7 }, 'expected a whole number from 8 to 15, got 7'],
        [{ concurrencyLimit: 0 }, 'option perMessageDeflate.concurrencyLimit'],
        [
          { zlibDeflateOptions: { level: 42 } },
          'option perMessageDeflate.zlibDeflateOptions: expected options zlib accepts (',
        ],
        [
          { zlibInflateOptions: 'fast' },
          'option perMessageDeflate.zlibInflateOptions: expected an object',
        ],
      ];
      for (const [value, message] of cases)
        expect(rejection({ perMessageDeflate: value }).message).to.include(message);
    });

    it('refuses an unknown perMessageDeflate or httpCompression key with the nearest name', function () {
      for (const name of ['perMessageDeflate', 'httpCompression'] as const) {
        let thrown: unknown;
        try {
          resolveEngineOptions(untyped({ [name]: { treshold: 10 } }));
        } catch (error) {
          thrown = error;
        }
        expect(thrown).to.be.instanceOf(UnknownOptionError);
        expect((thrown as UnknownOptionError).message).to.equal(
          `option ${name}: unknown option "treshold"; did you mean threshold?`,
        );
      }
      expect(() =>
        resolveEngineOptions(untyped({ perMessageDeflate: { zlibDeflateOptions: { lvl: 1 } } })),
      ).to.throw(
        UnknownOptionError,
        'option perMessageDeflate.zlibDeflateOptions: unknown option "lvl"; did you mean level?',
      );
    });

    it('takes httpCompression as a flag or { threshold, ...zlib options }, compressionThreshold beside a flag', function () {
      expect(resolveEngineOptions({ httpCompression: false }).httpCompression).to.equal(false);
      const object = resolveEngineOptions({ httpCompression: { threshold: 2048, level: 6 } });
      expect([
        object.httpCompression,
        object.compressionThreshold,
        object.httpZlibOptions,
      ]).to.deep.equal([true, 2048, { level: 6 }]);
      expect(
        resolveEngineOptions({ httpCompression: {}, compressionThreshold: 10 })
          .compressionThreshold,
      ).to.equal(10);
      expect(
        resolveEngineOptions({ httpCompression: { threshold: 10 }, compressionThreshold: 10 })
          .compressionThreshold,
      ).to.equal(10);
    });

    it('rejects bad httpCompression values, and two different thresholds', function () {
      for (const value of ['gzip', 0, null])
        expect(rejection({ httpCompression: value }).message).to.include(
          'option httpCompression: expected true, false, or an object such as { threshold: 1024 }',
        );
      expect(rejection({ httpCompression: { threshold: -1 } }).message).to.equal(
        'option httpCompression.threshold: expected a whole number >= 0, got -1',
      );
      expect(rejection({ httpCompression: { level: 12 } }).message).to.include(
        'option httpCompression: expected options zlib accepts (',
      );
      expect(
        rejection({ httpCompression: { threshold: 10 }, compressionThreshold: 20 }).message,
      ).to.equal(
        'option compressionThreshold: expected no second threshold beside httpCompression.threshold (10); keep one of them, got 20',
      );
    });
  });

  describe('transports', function () {
    it('keeps the order given and drops duplicates', function () {
      expect(resolveEngineOptions({ transports: ['websocket'] }).transports).to.deep.equal([
        'websocket',
      ]);
      expect(
        resolveEngineOptions({ transports: ['websocket', 'polling', 'websocket'] }).transports,
      ).to.deep.equal(['websocket', 'polling']);
    });

    it('does not share the caller’s array', function () {
      const transports: ('polling' | 'websocket')[] = ['polling'];
      const resolved = resolveEngineOptions({ transports });
      transports.push('websocket');
      expect(resolved.transports).to.deep.equal(['polling']);
    });

    it('rejects an empty list, unknown names and non-lists', function () {
      for (const value of [[], ['xhr'], ['polling', 'flashsocket'], 'websocket', null, 42]) {
        const error = rejection({ transports: value });
        expect(error.message).to.include('option transports:');
        expect(error.message).to.include('non-empty list');
      }
    });
  });

  describe('path', function () {
    it('strips leading and trailing slashes', function () {
      expect(resolveEngineOptions({ path: '/socket.io/' }).path).to.equal('socket.io');
      expect(resolveEngineOptions({ path: '//engine' }).path).to.equal('engine');
      expect(resolveEngineOptions({ path: '/api/ws/' }).path).to.equal('api/ws');
    });

    it('rejects empty paths, bare slashes and non-strings', function () {
      for (const value of ['', '/', '///', 42, null, ['socket.io']]) {
        expect(rejection({ path: value }).message).to.include('option path:');
      }
    });
  });

  describe('cookie', function () {
    it('is off for null, false or nothing, and keeps a valid name', function () {
      expect(resolveEngineOptions({ cookie: null }).cookie).to.equal(null);
      expect(resolveEngineOptions(untyped({ cookie: false })).cookie).to.equal(null);
      expect(resolveEngineOptions({ cookie: 'io' }).cookie).to.equal('io');
      expect(resolveEngineOptions({ cookie: 'my-session_id.v2' }).cookie).to.equal(
        'my-session_id.v2',
      );
    });

    it('rejects names that are not cookie tokens', function () {
      for (const value of ['', 'my cookie', 'a;b', 'a=b', 'naïve', 'a,b', true, 42]) {
        const error = rejection({ cookie: value });
        expect(error.message).to.include('option cookie:');
        expect(error.message).to.include('cookie name');
      }
    });
  });

  describe('corsAllowedOrigins', function () {
    it('is same-origin only (null) by default and for null', function () {
      expect(resolveEngineOptions({ corsAllowedOrigins: null }).corsAllowedOrigins).to.equal(null);
    });

    it("takes '*', one origin or a list, [] meaning CORS handling off", function () {
      expect(resolveEngineOptions({ corsAllowedOrigins: '*' }).corsAllowedOrigins).to.equal('*');
      expect(
        resolveEngineOptions({ corsAllowedOrigins: 'https://a.example' }).corsAllowedOrigins,
      ).to.deep.equal(['https://a.example']);
      const list = ['https://a.example', 'https://b.example'];
      const resolved = resolveEngineOptions({ corsAllowedOrigins: list });
      expect(resolved.corsAllowedOrigins).to.deep.equal(list);
      expect(resolved.corsAllowedOrigins).to.not.equal(list);
      expect(resolveEngineOptions({ corsAllowedOrigins: [] }).corsAllowedOrigins).to.deep.equal([]);
    });

    it('rejects lists of non-strings and other types', function () {
      for (const value of [42, true, [1], ['https://a.example', null], {}]) {
        expect(rejection({ corsAllowedOrigins: value }).message).to.include(
          'option corsAllowedOrigins:',
        );
      }
    });
  });
});
