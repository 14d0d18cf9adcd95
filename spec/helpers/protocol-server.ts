/**
 * A SocketIO server with the protocol handlers (spec/fixtures/protocol-handlers.ts)
 * in a given async mode; in worker-pool mode its pool threads load
 * spec/fixtures/protocol-app.ts, so the handlers run in the pool.
 */
import { SocketIO } from '../../lib/index.js';
import type { AsyncMode, SocketIOOptions } from '../../lib/index.js';
import { registerProtocolHandlers } from '../fixtures/protocol-handlers.js';

/** Server options that select `mode`, with the protocol app module for worker-pool. */
export function protocolModeOptions(mode: AsyncMode): SocketIOOptions {
  if (mode === 'worker-pool') {
    return {
      asyncMode: mode,
      appModule: new URL('../fixtures/protocol-app.js', import.meta.url).href,
      workers: 1,
    };
  }
  return { asyncMode: mode };
}

/** A server running on 127.0.0.1 (port 0) with the protocol handlers. */
export interface ProtocolServer {
  readonly io: SocketIO;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The raw WebSocket URL. */
  readonly wsUrl: string;
  /** The polling URL (without sid). */
  readonly pollingUrl: string;
}

/**
 * Starts a server in `mode` with the protocol handlers; `setup` may register
 * more (main-thread) handlers before it listens.
 *
 * @example
 * ```ts
 * const server = await startProtocolServer('cooperative', { seed: 7 });
 * await server.io.stop();
 * ```
 */
export async function startProtocolServer(
  mode: AsyncMode,
  options: SocketIOOptions = {},
  setup: (io: SocketIO) => void = () => undefined,
): Promise<ProtocolServer> {
  const io = new SocketIO({ ...protocolModeOptions(mode), ...options });
  registerProtocolHandlers(io);
  setup(io);
  const { port } = await io.run(undefined, { host: '127.0.0.1', port: 0 });
  const origin = `http://127.0.0.1:${port}`;
  return {
    io,
    port,
    origin,
    wsUrl: `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
    pollingUrl: `${origin}/socket.io/?EIO=4&transport=polling`,
  };
}
