/**
 * Optional dependencies (piscina for the worker-pool mode, ioredis and amqplib
 * for the message queues), loaded synchronously when first used, so a server
 * that does not use them runs without them installed. It lives below both the
 * schedulers and lib/queues, which both load through it.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * An optional package that a chosen feature needs is not installed; the message names the
 * feature and the fix.
 *
 * @example
 * ```ts
 * new MissingPackageError('ioredis', "messageQueue 'redis://127.0.0.1:6379/0'").message;
 * // "messageQueue 'redis://127.0.0.1:6379/0' needs the ioredis package: npm install ioredis"
 * ```
 *
 * @group Errors
 */
export class MissingPackageError extends Error {
  readonly code = 'ERR_MISSING_PACKAGE';
  constructor(
    readonly packageName: string,
    feature: string,
  ) {
    super(`${feature} needs the ${packageName} package: npm install ${packageName}`);
    this.name = 'MissingPackageError';
  }
}

/** Whether `error` says that `name` itself (not one of its own imports) cannot be found. */
function isMissing(error: unknown, name: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
    error.message.startsWith(`Cannot find module '${name}'`)
  );
}

/**
 * Loads an optional package for `feature`; its type comes from an `import type` at the caller.
 * Throws {@link MissingPackageError} when it is not installed; an installed package that fails
 * to load throws its own error.
 *
 * @example
 * ```ts
 * import type { Redis } from 'ioredis';
 * const ioredis = requireOptional<{ Redis: typeof Redis }>('ioredis', "messageQueue 'redis://…'");
 * const client = new ioredis.Redis('redis://127.0.0.1:6379/0');
 * ```
 */
export function requireOptional<T>(name: string, feature: string): T {
  try {
    return load(name) as T;
  } catch (error) {
    if (isMissing(error, name)) throw new MissingPackageError(name, feature);
    throw error;
  }
}
