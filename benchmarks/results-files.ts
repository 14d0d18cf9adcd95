/**
 * Where the benchmarks keep their figures (benchmarks/results/), so that every
 * figure and range in the README can be traced to a file: each scenario's latest
 * JSON, and a dated JSON of each full run that is never overwritten.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

/** benchmarks/results/ (made when missing). */
export const RESULTS_DIR = new URL('../../benchmarks/results/', import.meta.url);

/** A timestamp for a file name: `2026-12-05T19-20-03Z` (sortable, no colons). */
export function fileStamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replaceAll(':', '-');
}

/**
 * Writes `data` as benchmarks/results/`name`.json; returns the path, relative to the
 * repository, for the report.
 *
 * @example
 * ```ts
 * writeResult(`soak-${fileStamp()}`, { connections, rssPerConnection }); // 'benchmarks/results/soak-….json'
 * ```
 */
export function writeResult(name: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(new URL(`${name}.json`, RESULTS_DIR), `${JSON.stringify(data, null, 2)}\n`);
  return `benchmarks/results/${name}.json`;
}

/** Reads benchmarks/results/`name`.json back, or undefined when a run did not write it. */
export function readResult(name: string): unknown {
  try {
    return JSON.parse(readFileSync(new URL(`${name}.json`, RESULTS_DIR), 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}
