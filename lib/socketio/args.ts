/**
 * Several values where one is expected: the TypeScript counterpart of a Python
 * tuple in Flask-SocketIO (`emit('x', ('a', 'b'))`, `return 'one', 2`).
 */

/**
 * A list of arguments; see {@link args} and {@link ack}.
 *
 * @example
 * ```ts
 * new Args(['one', 2]).values; // ['one', 2]
 * ```
 *
 * @group Application API
 */
export class Args<A extends readonly unknown[] = readonly unknown[]> {
  readonly values: A;
  constructor(values: A) {
    this.values = values;
  }
}

/**
 * Several arguments for one emit.
 *
 * @example
 * ```ts
 * emit('my response', args('foo', 'bar', { n: 1 })); // the client's handler gets ('foo', 'bar', {n: 1})
 * ```
 *
 * @group Application API
 */
export function args<A extends unknown[]>(...values: A): Args<A> {
  return new Args(values);
}

/**
 * Several acknowledgement arguments, returned from a handler.
 *
 * @example
 * ```ts
 * io.on('question', () => ack('one', 2)); // the client's ack callback gets ('one', 2)
 * ```
 *
 * @group Application API
 */
export function ack<A extends unknown[]>(...values: A): Args<A> {
  return new Args(values);
}

/** Whether a value is an {@link Args} (of values not known here: `instanceof` would say any). */
export function isArgs(value: unknown): value is Args {
  return value instanceof Args;
}

/** Turns `data` (undefined, one value, or an Args) into an argument list. */
export function toArgs(data: unknown): readonly unknown[] {
  if (data === undefined) return [];
  if (isArgs(data)) return data.values;
  return [data];
}
