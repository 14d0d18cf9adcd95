/**
 * The async modes the Socket.IO integration specs run under: every describe
 * block of spec/socketio/ is generated once per entry.
 */
import type { AsyncMode, SocketIOOptions } from '../../lib/index.js';

export const ASYNC_MODES_UNDER_TEST = [
  'event-loop',
  'cooperative',
  'worker-pool',
] as const satisfies readonly AsyncMode[];

/** The server options that select a mode in the specs. */
export function modeOptions(mode: AsyncMode): SocketIOOptions {
  if (mode === 'worker-pool') {
    return {
      asyncMode: mode,
      appModule: new URL('../fixtures/pool-app.js', import.meta.url).href,
      workers: 1,
    };
  }
  return { asyncMode: mode };
}
