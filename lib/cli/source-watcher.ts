/**
 * What `socketio-actors run --reload` watches: the app's source folder, one
 * `fs.watch` per directory (never per file, so that an editor's
 * write-and-rename save is seen as a change of the name, and so are the edits
 * after it), minus node_modules, dist, logs and dotfiles, and only files whose
 * extension is source. A burst of changes (one save is often three events) ends
 * in one call after a quiet spell.
 *
 * ```
 *  editor: write app.ts.tmp ─ rename over app.ts       server.log grows
 *                 │                 │                        │
 *  dir watch:  (not source)     change app.ts            (not source)
 *                                   └── 100 ms quiet ──► onChange(['app.ts'])
 * ```
 *
 * Node's own `fs.watch(dir, { recursive: true })` is not used: on Linux before
 * Node 22 it watches each file's inode, so after a rename it misses every later
 * edit, and it walks node_modules too.
 */
import { readdirSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, extname, join, relative, sep } from 'node:path';

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
  /** One watcher per watched directory, by absolute path. */
  readonly #folders = new Map<string, FSWatcher>();
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly root: string,
    private readonly onChange: (files: readonly string[]) => void,
    private readonly debounceMs = DEFAULT_DEBOUNCE_MS,
  ) {
    this.#watchTree(root);
  }

  /** Stops watching; no call of `onChange` follows. */
  close(): void {
    clearTimeout(this.#timer);
    for (const watcher of this.#folders.values()) watcher.close();
    this.#folders.clear();
    this.#pending.clear();
  }

  /** Watches `dir` and every folder under it that is not ignored. */
  #watchTree(dir: string): void {
    if (this.#folders.has(dir) || (dir !== this.root && ignoredName(basename(dir)))) return;
    let watcher: FSWatcher;
    let entries;
    try {
      watcher = watch(dir, { persistent: true }, (_event, name) => {
        if (name !== null) this.#seen(join(dir, name));
      });
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      // Gone (or unreadable) before we got to it: nothing to watch.
      return;
    }
    // A folder removed under us ends its watcher with an error: forget it.
    watcher.on('error', () => this.#forget(dir));
    this.#folders.set(dir, watcher);
    for (const entry of entries) if (entry.isDirectory()) this.#watchTree(join(dir, entry.name));
  }

  #forget(dir: string): void {
    for (const [path, watcher] of this.#folders) {
      if (path === dir || path.startsWith(dir + sep)) {
        watcher.close();
        this.#folders.delete(path);
      }
    }
  }

  /** A name changed in a watched folder: a new folder to watch, a source file, or neither. */
  #seen(path: string): void {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      // Removed (or renamed away): a folder's watchers go; a file's removal is a change.
      isDirectory = false;
      if (this.#folders.has(path)) this.#forget(path);
    }
    if (isDirectory) return this.#watchTree(path);
    const file = relative(this.root, path);
    if (!isWatchedSource(file)) return;
    this.#pending.add(file);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const files = [...this.#pending];
      this.#pending.clear();
      this.onChange(files);
    }, this.debounceMs);
  }
}
