/**
 * Namespace names and patterns: what registrations and the context functions both read, in a
 * module of its own so that neither imports the other for it.
 */
import { UsageError } from '../errors.js';

/**
 * A dynamic namespace: the names a `RegExp` matches, or those a predicate accepts for a
 * client's `auth` (it may answer asynchronously).
 */
export type NamespacePattern =
  | RegExp
  | ((name: string, auth: Record<string, unknown> | undefined) => boolean | Promise<boolean>);

/** Where a handler is registered: a namespace name, or a pattern of names. */
export type NamespaceOption = string | NamespacePattern;

/**
 * Whether a registration names a pattern rather than one namespace.
 *
 * @example
 * ```ts
 * isPattern(/^\/room-\d+$/); // true
 * isPattern('/chat'); // false
 * ```
 */
export function isPattern(namespace: unknown): namespace is NamespacePattern {
  return namespace instanceof RegExp || typeof namespace === 'function';
}

/**
 * Normalises a namespace name: '' and 'chat' become '/' and '/chat'.
 *
 * @example
 * ```ts
 * namespaceName('chat'); // '/chat'
 * ```
 */
export function namespaceName(nsp: string | undefined): string {
  if (nsp === undefined || nsp === '' || nsp === '/') return '/';
  if (typeof nsp !== 'string')
    throw new UsageError(`namespace must be a string such as '/chat', got ${String(nsp)}`);
  return nsp.startsWith('/') ? nsp : `/${nsp}`;
}
