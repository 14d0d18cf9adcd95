/**
 * Option names are checked, never silently ignored: an unknown name (a socket.io
 * option, a Flask-SocketIO snake_case name, a typo) fails with one line that
 * names the fix. Used by both layers, so it sits below them.
 */
import { closest, distance } from 'fastest-levenshtein';
import { UnknownOptionError } from './errors.js';

/** Where a name is known under another spelling: the hint to give instead of a guess. */
export type OptionHints = Readonly<Record<string, string>>;

/** What socket.io (and Flask-SocketIO) call what this project calls otherwise. */
const PEER_HINTS: OptionHints = {
  cors: "did you mean corsAllowedOrigins? (socket.io's cors.origin; cors.credentials is corsCredentials)",
  allowRequest:
    'check requests with io.engine.use((req, res, next) => …) (Connect-style middleware) instead',
  adapter: "did you mean messageQueue? (e.g. 'redis://127.0.0.1:6379/0')",
  client_manager: "did you mean messageQueue? (e.g. 'redis://127.0.0.1:6379/0')",
  allowEIO3:
    'Engine.IO v3 clients (socket.io-client 2.x) are not supported; use socket.io-client 3 or newer',
  wsEngine: 'the WebSocket server is ws and cannot be replaced',
  write_only:
    'an external emitter is new SocketIO({ messageQueue }) with no app; it only publishes',
};

function camelCase(name: string): string {
  return name.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The fix for an unknown name: a known hint, the camelCase of a snake_case name, or the
 * nearest known name when it is close enough to be a typo.
 *
 * @example
 * ```ts
 * suggestFix('include_self', ['includeSelf', 'to']); // 'did you mean includeSelf?'
 * ```
 */
export function suggestFix(
  name: string,
  known: readonly string[],
  hints: OptionHints = {},
): string | undefined {
  if (Object.hasOwn(hints, name)) return hints[name];
  if (Object.hasOwn(PEER_HINTS, name)) return PEER_HINTS[name];
  const camel = camelCase(name);
  if (camel !== name && known.includes(camel)) return `did you mean ${camel}?`;
  if (known.length === 0) return undefined;
  const nearest = closest(camel, known);
  const tolerance = Math.max(2, Math.floor(nearest.length / 4));
  if (distance(camel.toLowerCase(), nearest.toLowerCase()) <= tolerance)
    return `did you mean ${nearest}?`;
  // A name that contains a known one or is part of one ('hostname', 'timeout').
  const lower = camel.toLowerCase();
  const related = known.filter((k) => {
    const other = k.toLowerCase();
    return (
      Math.min(other.length, lower.length) >= 3 && (other.includes(lower) || lower.includes(other))
    );
  });
  if (related.length > 0) return `did you mean ${orList(related)}?`;
  return undefined;
}

function orList(names: readonly string[]): string {
  return names.length === 1
    ? (names[0] as string)
    : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1] as string}`;
}

/**
 * Throws {@link UnknownOptionError} for the first name of `given` not in `known`.
 *
 * @example
 * ```ts
 * checkOptionNames('new SocketIO()', { cors: '*' }, SOCKETIO_OPTION_NAMES);
 * // UnknownOptionError: new SocketIO(): unknown option "cors"; did you mean corsAllowedOrigins? …
 * ```
 */
export function checkOptionNames(
  where: string,
  given: object,
  known: ReadonlySet<string>,
  hints?: OptionHints,
): void {
  for (const name in given) {
    if (known.has(name)) continue;
    const fix = suggestFix(name, [...known], hints);
    throw new UnknownOptionError(where, name, fix ?? `the options are: ${[...known].join(', ')}`);
  }
}
