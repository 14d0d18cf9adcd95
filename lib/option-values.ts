/**
 * Option values are checked, never taken on trust: a time is in seconds within
 * bounds (a value past them is almost always milliseconds passed where seconds
 * are expected), a count is a whole number. Used by both layers, so it sits
 * below them, with option-names.ts.
 */
import { OptionError } from './errors.js';

/**
 * A time option in seconds, between `min` and `max`; resolves milliseconds (`fallback`
 * seconds when unset). Throws `OptionError` naming the option and the unit.
 *
 * @example
 * ```ts
 * secondsOption('connectTimeout', 5, 45, 1, 86_400); // 5000
 * ```
 */
export function secondsOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return Math.round(fallback * 1000);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw new OptionError(
      name,
      `a number of seconds between ${min} and ${max} (not milliseconds)`,
      value,
    );
  return Math.round(value * 1000);
}

/**
 * A count option: a whole number >= `min` (`fallback` when unset).
 *
 * @example
 * ```ts
 * wholeOption('maxAttachments', undefined, 10); // 10
 * ```
 */
export function wholeOption(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new OptionError(name, `a whole number >= ${min}`, value);
  return value;
}
