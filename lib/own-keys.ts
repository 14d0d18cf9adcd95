/**
 * Prototype-safe objects for data that comes from the network or a broker: a key such as
 * `__proto__` stays a plain key. Both lib/socketio and lib/queues build sessions from such
 * data, so this sits below them.
 */

/**
 * Sets `key` as an own data property. Defined, not assigned: a key such as `__proto__`
 * from client data stays a plain property instead of changing the object's prototype.
 *
 * @example
 * ```ts
 * setOwn(session, '__proto__', { admin: true }); // just a key
 * ```
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * A session: no prototype, so a key such as `__proto__` from client data stays plain data.
 *
 * @example
 * ```ts
 * const session = newSession();
 * session.__proto__ = { admin: true }; // an own key, not a prototype change
 * ```
 */
export function newSession(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

/**
 * A plain object with `value`'s own enumerable entries, each value passed through `map`
 * (keys set with {@link setOwn}).
 *
 * @example
 * ```ts
 * mapEntries(JSON.parse('{"__proto__":{"x":1}}'), (v) => v); // own key __proto__
 * ```
 */
export function mapEntries(
  value: object,
  map: (entry: unknown) => unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) setOwn(out, k, map(v));
  return out;
}
