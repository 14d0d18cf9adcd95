/**
 * Optional packages load on first use; a missing one fails with one line that
 * names the feature that needs it and the install command.
 */
import { expect } from 'chai';
import { MissingPackageError, requireOptional } from '../../schedulers/optional-dependency.js';
import { loadBrokerClient } from '../../lib/queues/queue.js';

/** A package name nobody installed. */
const ABSENT = 'socketio-actors-no-such-package';

describe('optional dependencies', function () {
  it('loads an installed package', function () {
    const ioredis = requireOptional<{ Redis: unknown }>('ioredis', 'a spec');
    expect(ioredis.Redis).to.be.a('function');
  });

  it('names the feature, the package and the fix when the package is missing', function () {
    expect(() => requireOptional(ABSENT, "async mode 'worker-pool'"))
      .to.throw(MissingPackageError)
      .that.includes({
        code: 'ERR_MISSING_PACKAGE',
        name: 'MissingPackageError',
        packageName: ABSENT,
        message: `async mode 'worker-pool' needs the ${ABSENT} package: npm install ${ABSENT}`,
      });
  });

  it("names the queue's URL, password hidden, for a broker client", function () {
    expect(() => loadBrokerClient(ABSENT, 'redis://:secret@127.0.0.1:6379/0'))
      .to.throw(MissingPackageError)
      .with.property(
        'message',
        `messageQueue 'redis://:***@127.0.0.1:6379/0' needs the ${ABSENT} package: npm install ${ABSENT}`,
      );
  });
});
