/**
 * `manageSession: false`: handlers share the web session with the HTTP routes, as
 * Flask-SocketIO does with Flask-Session. Handlers never touch the store's session
 * object itself (express-session's `Session`, whose `cookie` and methods a handler
 * could break): they get a stable, prototype-less view of its data. Before an event
 * the view is refreshed from the store; after a handler, only what it changed is
 * written onto a freshly reloaded session and saved, so a route's concurrent writes
 * survive, an untouched session is never saved (no store entry per anonymous
 * visitor), and a session a logout removed is never written back.
 *
 *   event ──> reload ──> view := data ──> handler edits view ──> changed?
 *                                                 no: done │ yes: reload, apply diff, save
 */
import { SessionStoreError } from '../errors.js';
import { newSession, setOwn } from './packets.js';

/**
 * A server-side HTTP session that can be reloaded from and saved to its store (express-session's).
 *
 * @group Application API
 */
export interface HttpSession {
  reload(callback: (error?: unknown) => void): unknown;
  save(callback: (error?: unknown) => void): unknown;
}

/**
 * Whether a value is an HTTP session with a store behind it.
 *
 * @example
 * ```ts
 * isHttpSession(req.session); // true with express-session
 * ```
 */
export function isHttpSession(value: unknown): value is Record<string, unknown> & HttpSession {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<HttpSession>).reload === 'function' &&
    typeof (value as Partial<HttpSession>).save === 'function'
  );
}

/**
 * The store's keys of a session, which handlers neither see nor write: its cookie, and
 * anything that is not an own enumerable property (methods on the prototype, and the ones
 * express-session wraps onto each session, `id`, `req`).
 */
function isStoreKey(session: object, key: string): boolean {
  return (
    key === 'cookie' ||
    (key in session && !Object.prototype.propertyIsEnumerable.call(session, key))
  );
}

/**
 * JSON text of a value, or undefined when it has none (a BigInt, a cycle).
 *
 * @example
 * ```ts
 * jsonOf({ a: 1 }); // '{"a":1}'
 * ```
 */
export function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * A session's data as a new prototype-less object: a deep copy of its own entries
 * but the store's (express-session's `cookie`), through JSON as a store keeps them.
 * What JSON cannot carry is dropped.
 *
 * @example
 * ```ts
 * const session = sessionData(req.session); // { user: …, theme: 'dark' }, no cookie
 * ```
 */
export function sessionData(source: unknown): Record<string, unknown> {
  const out = newSession();
  if (typeof source !== 'object' || source === null) return out;
  for (const [key, value] of Object.entries(source)) {
    if (isStoreKey(source, key)) continue;
    const text = jsonOf(value);
    if (text !== undefined) setOwn(out, key, JSON.parse(text) as unknown);
  }
  return out;
}

/** Calls `reload` or `save`; resolves with the store's error, if any (never throws). */
function storeCall(session: HttpSession, method: 'reload' | 'save'): Promise<unknown> {
  return new Promise((resolve) => {
    try {
      session[method]((error?: unknown) => resolve(error ?? undefined));
    } catch (error) {
      resolve(error ?? 'threw');
    }
  });
}

/**
 * One client's share of a web session.
 *
 * @example
 * ```ts
 * const shared = new SharedHttpSession(() => req.session);
 * await shared.refresh(true); // before an event
 * shared.view.theme = 'dark';
 * await shared.commit();
 * ```
 */
export class SharedHttpSession {
  /** What `session()` returns: the same object for the client's whole life. */
  readonly view: Record<string, unknown>;
  /** The view's JSON when it last matched the store. */
  #synced: string;
  /** Whether the store has had this session (a visitor's fresh session has not, until saved). */
  #stored: boolean | undefined;
  /** A reload failed after the store had it: logged out or expired. */
  #gone = false;

  constructor(
    /** The current store session (express-session replaces `req.session` on every reload). */
    private readonly current: () => unknown,
  ) {
    this.view = sessionData(current());
    this.#synced = jsonOf(this.view) ?? '';
  }

  /**
   * Reloads the session before a handler and refreshes the view. With `strict`
   * (events), a session that is gone fails with {@link SessionStoreError}; otherwise
   * (a disconnect handler) the handler runs on what was known.
   */
  async refresh(strict: boolean): Promise<void> {
    const session = this.current();
    if (!isHttpSession(session)) return;
    const error = await storeCall(session, 'reload');
    if (error === undefined) {
      this.#stored = true;
      this.#gone = false;
      this.#pull();
      return;
    }
    // A fresh session the store never had is not gone: it just has nothing to reload.
    if (this.#stored !== true) return;
    this.#gone = true;
    if (strict) throw new SessionStoreError('reloaded', error);
  }

  /**
   * After a handler: writes what it changed onto the freshly reloaded session and saves
   * it. Resolves with the error to log when it could not.
   */
  async commit(): Promise<SessionStoreError | undefined> {
    if (this.#gone) return undefined;
    const now = jsonOf(this.view);
    if (now === this.#synced) return undefined;
    if (now === undefined)
      return new SessionStoreError('saved', 'session() holds a value JSON cannot store');
    const before = JSON.parse(this.#synced || '{}') as Record<string, unknown>;
    const changes = JSON.parse(now) as Record<string, unknown>;
    let session = this.current();
    if (!isHttpSession(session)) return undefined;
    // Read, modify, write: what a route wrote meanwhile stays unless this handler changed it too.
    if (this.#stored !== false) {
      const error = await storeCall(session, 'reload');
      if (error === undefined) this.#stored = true;
      else if (this.#stored === true) {
        this.#gone = true;
        return undefined;
      }
      session = this.current();
      if (!isHttpSession(session)) return undefined;
    }
    for (const key of new Set([...Object.keys(before), ...Object.keys(changes)])) {
      if (isStoreKey(session, key)) continue;
      if (!Object.hasOwn(changes, key)) delete session[key];
      else if (jsonOf(changes[key]) !== jsonOf(before[key])) setOwn(session, key, changes[key]);
    }
    const error = await storeCall(session, 'save');
    if (error !== undefined) return new SessionStoreError('saved', error);
    this.#stored = true;
    this.#pull();
    return undefined;
  }

  /** The view becomes the store session's data again (same object, new contents). */
  #pull(): void {
    const data = sessionData(this.current());
    for (const key of Object.keys(this.view)) delete this.view[key];
    for (const [key, value] of Object.entries(data)) setOwn(this.view, key, value);
    this.#synced = jsonOf(this.view) ?? '';
  }
}
