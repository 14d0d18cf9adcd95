/**
 * The layer rules of the design, checked by `npm run lint` (dependency-cruiser):
 *
 *   lib/socketio  ->  lib/engine  ->  schedulers/
 *        |                 (lib/queues imports neither lib/socketio nor lib/engine)
 *        v
 *   lib/queues    ->  lib/*.ts (errors, logging, encoded packets, emit requests, own keys)
 *
 * A new cycle or an upward import fails the lint with the rule's name and comment.
 */

/** A rule that `from` must not import `to` (paths are regular expressions). */
const forbid = (name, comment, from, to) => ({ name, severity: 'error', comment, from, to });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    forbid(
      'no-circular',
      'An import cycle. Move what both modules need into a lower module that imports neither ' +
        '(see lib/log.ts, lib/encoded-parts.ts, lib/emit-requests.ts for the pattern).',
      { path: '^(lib|schedulers)/' },
      { circular: true },
    ),
    forbid(
      'schedulers-below-lib',
      'schedulers/ is the bottom layer: it imports nothing from lib/.',
      { path: '^schedulers/' },
      { path: '^lib/' },
    ),
    forbid(
      'engine-knows-no-socketio',
      'lib/engine is Engine.IO only: it imports nothing from lib/socketio or lib/queues ' +
        '(pass what it needs in from above).',
      { path: '^lib/engine/' },
      { path: '^lib/(socketio|queues)/' },
    ),
    forbid(
      'queues-below-socketio',
      'lib/queues never imports lib/socketio or lib/engine: what both need lives in a module ' +
        'directly under lib/ (lib/log.ts, lib/encoded-parts.ts, lib/emit-requests.ts, lib/own-keys.ts).',
      { path: '^lib/queues/' },
      { path: '^lib/(socketio|engine)/' },
    ),
    forbid(
      'nothing-imports-the-index',
      'lib/index.ts is the public entry point; modules import the module that defines a name.',
      { path: '^(lib|schedulers)/', pathNot: '^lib/index\\.ts$' },
      { path: '^lib/index\\.ts$' },
    ),
  ],
  options: {
    includeOnly: '^(lib|schedulers)/',
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
