/**
 * What `socketio-actors run --reload` watches: the app's source folder, through
 * chokidar (which follows a folder's names rather than a file's inode, so an
 * editor's write-and-rename save is seen, and so are the edits after it), minus
 * node_modules, dist, logs and dotfiles, and only files whose extension is
 * source. A burst of changes (one save is often three events) ends in one call
 * after a quiet spell.
 *
 * ```
 *  editor: write app.ts.tmp ─ rename over app.ts       server.log grows
 *                 │                 │                        │
 *  chokidar:   (not source)     change app.ts            (not source)
 *                                   └── 100 ms quiet ──► onChange(['app.ts'])
 * ```
 */
import { watch } from 'chokidar';
import type { FSWatcher } from 'chokidar';
import { extname, relative, sep } from 'node:path';

/** The files whose change restarts the app. */
export const SOURCE_EXTENSIONS: readonly string[] = [
  '.js',
  '.mjs',
  '.cjs',
  '.ts',
  '.mts',
  '.cts',
  '.json',
];

/** Folders never watched: dependencies, build output, logs. Dotfolders are skipped too. */
export const IGNORED_FOLDERS: readonly string[] = ['node_modules', 'dist', 'logs'];

/** How long the folder must stay quiet after a change before `onChange` is called. */
export const DEFAULT_DEBOUNCE_MS = 100;

function ignoredName(name: string): boolean {
  return name.startsWith('.') || IGNORED_FOLDERS.includes(name);
}

/**
 * Whether a change to `path` (relative to the watched root) restarts the app: a source
 * file outside the ignored folders, neither it nor any folder on its way a dotfile.
 *
 * @example
 * ```ts
 * isWatchedSource('handlers/chat.ts'); // true
 * isWatchedSource('server.log'); // false
 * isWatchedSource('node_modules/ws/index.js'); // false
 * ```
 */
export function isWatchedSource(path: string): boolean {
  const parts = path.split(sep);
  return !parts.some(ignoredName) && SOURCE_EXTENSIONS.includes(extname(path));
}

/**
 * Watches the source files under `root` and calls `onChange` with the relative paths that
 * changed, once per burst, after `debounceMs` of quiet.
 *
 * @example
 * ```ts
 * const watcher = new SourceWatcher('/srv/app', (files) => console.log(files, 'changed'));
 * // later
 * watcher.close();
 * ```
 */
export class SourceWatcher {
  readonly #watcher: FSWatcher;
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    readonly root: string,
    private readonly onChange: (files: readonly string[]) => void,
    private readonly debounceMs = DEFAULT_DEBOUNCE_MS,
  ) {
    this.#watcher = watch(root, {
      ignoreInitial: true,
      // Not descended into at all: dependencies, build output, logs, dotfolders.
      ignored: (path) => {
        const inside = relative(root, path);
        return inside !== '' && inside.split(sep).some(ignoredName);
      },
    });
    for (const event of ['add', 'change', 'unlink'] as const)
      this.#watcher.on(event, (path: string) => this.#seen(relative(root, path)));
    // A folder that vanishes or cannot be read is not worth a crash of the supervisor.
    this.#watcher.on('error', () => undefined);
  }

  /** Stops watching; no call of `onChange` follows. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#pending.clear();
    void this.#watcher.close();
  }

  /** A file was added, changed or removed: a source file counts. */
  #seen(file: string): void {
    if (this.#closed || !isWatchedSource(file)) return;
    this.#pending.add(file);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const files = [...this.#pending];
      this.#pending.clear();
      this.onChange(files);
    }, this.debounceMs);
  }
}
