/**
 * The fixture apps the parametrised specs run: each is a `register` function for the
 * test's server and the app module that registers the same in worker-pool threads.
 */
import type { SocketIO } from '../../lib/index.js';
import { registerCompressHandlers } from '../fixtures/compress-handlers.js';
import { registerMiddlewareHandlers } from '../fixtures/middleware-handlers.js';
import { registerOperatorHandlers } from '../fixtures/operator-handlers.js';
import { registerRecoveryHandlers } from '../fixtures/recovery-handlers.js';

/** An app: its handlers, and the module a pool thread loads to have them too. */
export interface FixtureApp {
  readonly poolApp: URL;
  readonly register: (io: SocketIO) => void;
}

const app = (module: string, register: (io: SocketIO) => void): FixtureApp => ({
  poolApp: new URL(`../fixtures/${module}.js`, import.meta.url),
  register,
});

/** `io.use` / `io.beforeEvent` (spec/socketio/middleware.spec.ts). */
export const MIDDLEWARE_APP = app('middleware-app', registerMiddlewareHandlers);

/** Operators and sockets as objects (operators.spec.ts, sockets.spec.ts). */
export const OPERATOR_APP = app('operator-app', registerOperatorHandlers);

/** Emits sent compressed or not from handlers (compress.spec.ts). */
export const COMPRESS_APP = app('compress-app', registerCompressHandlers);
/** Connection state recovery (recovery.spec.ts). */
export const RECOVERY_APP = app('recovery-app', registerRecoveryHandlers);
