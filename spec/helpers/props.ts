/**
 * Run settings shared by the model-based property specs: the number of runs
 * (`FC_RUNS`), a time budget per property, and the replay of a failure
 * (`FC_SEED`, `FC_PATH` and, for command lists, `FC_REPLAY_PATH`), all read
 * from the environment so a failure printed by fast-check can be replayed with
 *
 * ```sh
 * FC_SEED=<seed> FC_PATH=<path> make test-props
 * ```
 *
 * Under `npm test` (CI) every property runs on a fixed seed, and one that its time
 * budget cuts short fails: a green CI run means every run of every property passed,
 * the same runs each time. `make test-props` sets `FC_RANDOM=1`: a new seed per
 * property, printed, so that a failure can be replayed.
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
  markInterruptAsFailure: boolean;
  seed: number;
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
  const random = process.env.FC_RANDOM === '1';
  const path = process.env.FC_PATH || undefined;
  let seed = integer(process.env.FC_SEED);
  if (seed === undefined && random) {
    seed = (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) | 0;
    console.log(`    (fast-check seed ${seed}: replay with FC_SEED=${seed})`);
  }
  return {
    numRuns: positiveInt(process.env.FC_RUNS, defaultRuns),
    // The budget guards against a hang; a loaded machine gets three times the time a run
    // needs here before a property that did not finish its runs fails.
    plugins: [fc.interruptAfterTimeLimit(budgetMs * 3)],
    markInterruptAsFailure: true,
    seed: seed ?? FIXED_SEED,
    ...(path === undefined ? {} : { path }),
  };
}

/** The seed of every property under `npm test`. */
export const FIXED_SEED = 20261204;
