/**
 * Puts an {@link EngineServer} on the network: beside an existing `http.Server`,
 * in front of a `(req, res)` listener such as an Express app, or on its own.
 */
import { createServer } from 'node:http';
import type { RequestListener, Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EngineServer } from './server.js';

/** What a server can be attached to: an http.Server, a request listener (Express, Connect), or nothing. */
export type AppLike = HttpServer | RequestListener | undefined;

function isHttpServer(app: AppLike): app is HttpServer {
  return typeof app === 'object' && app !== null && typeof app.listen === 'function';
}

/**
 * Attaches the engine to an app, creating an http.Server when the app is a
 * request listener or absent.
 *
 * @example
 * ```ts
 * const server = attachApp(engine, expressApp);
 * server.listen(3000);
 * ```
 */
export function attachApp(engine: EngineServer, app: AppLike): HttpServer {
  if (isHttpServer(app)) return engine.attach(app);
  return engine.attach(createServer(), app);
}

/** Where a server listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Starts listening; resolves once the port is bound (port 0 picks a free one).
 *
 * @example
 * ```ts
 * const address = await listen(server, { host: '127.0.0.1', port: 0 });
 * ```
 */
export function listen(server: HttpServer, where: ListenAddress): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(where.port, where.host, () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      resolve({ host: address.address, port: address.port });
    });
  });
}

/** Stops listening and drops idle keep-alive sockets; resolves when closed. */
export function unlisten(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
