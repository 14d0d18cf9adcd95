/**
 * Run settings shared by the model-based property specs: the number of runs
 * (`FC_RUNS`), a time budget per property, and the replay of a failure
 * (`FC_SEED`, `FC_PATH` and, for command lists, `FC_REPLAY_PATH`), all read
 * from the environment so a failure printed by fast-check can be replayed with
 *
 * ```sh
 * FC_SEED=<seed> FC_PATH=<path> make test-props
 * ```
 */
import fc from 'fast-check';

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function integer(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  return Number.isInteger(n) ? n : undefined;
}

/** `replayPath` for `fc.commands` (fast-check prints it in the counterexample), if given. */
export const COMMANDS_REPLAY_PATH: string | undefined = process.env.FC_REPLAY_PATH || undefined;

/** The subset of `fc.Parameters` these specs set. */
export interface RunParameters {
  numRuns: number;
  plugins: fc.Plugin<unknown>[];
  seed?: number;
  path?: string;
}

/**
 * Parameters for `fc.assert`: `FC_RUNS` runs (else `defaultRuns`), stopped after
 * `budgetMs` milliseconds, replaying `FC_SEED` / `FC_PATH` when set.
 *
 * @example
 * ```ts
 * await fc.assert(property, runParameters(25, 8_000));
 * ```
 */
export function runParameters(defaultRuns: number, budgetMs: number): RunParameters {
  const seed = integer(process.env.FC_SEED);
  const path = process.env.FC_PATH || undefined;
  const params: RunParameters = {
    numRuns: positiveInt(process.env.FC_RUNS, defaultRuns),
    plugins: [fc.interruptAfterTimeLimit(budgetMs)],
  };
  if (seed !== undefined) params.seed = seed;
  if (path !== undefined) params.path = path;
  return params;
}
