/**
 * Puts an {@link EngineServer} on the network: on the app's own `http.Server` or
 * `https.Server`, in front of a request listener (Express, Connect, a Koa app's
 * callback), or on a server of its own; and tells a developer what to pass
 * instead when the app is none of those.
 */
import { createServer } from 'node:http';
import type { RequestListener, Server as HttpServer } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import type { EngineServer, WebServer } from './server.js';

export type { WebServer } from './server.js';

/**
 * A Koa application (anything with `callback()` returning a request listener).
 *
 * @group Application API
 */
export interface KoaLike {
  callback(): RequestListener;
}

/**
 * What a server can be attached to: an `http.Server` / `https.Server` (Fastify's
 * `fastify.server` is one), a request listener (an Express or Connect app, a Koa
 * app's `callback()`), a Koa app, or nothing.
 *
 * @group Application API
 */
export type AppLike = WebServer | RequestListener | KoaLike | undefined;

/** An app after resolution: the server to attach to, or the listener to put behind the engine. */
export type ResolvedApp =
  | { readonly server: WebServer; readonly listener?: undefined }
  | { readonly server?: undefined; readonly listener: RequestListener | undefined };

/**
 * Whether a value is an `http.Server` or `https.Server`.
 *
 * @example
 * ```ts
 * isWebServer(http.createServer()); // true
 * isWebServer(express()); // false: a request listener
 * ```
 */
export function isWebServer(value: unknown): value is WebServer {
  return value instanceof NetServer && typeof (value as HttpServer).listeners === 'function';
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const keys = Object.keys(value).slice(0, 4);
  return keys.length === 0 ? 'an empty object' : `an object with ${keys.join(', ')}`;
}

/**
 * Turns what the user passed as the app into a server or a request listener, or
 * throws a one-line error that names what to pass instead.
 *
 * @example
 * ```ts
 * resolveApp(expressApp, 'io.run()'); // { listener: expressApp }
 * resolveApp(koaApp, 'io.run()'); // { listener: koaApp.callback() }
 * ```
 */
export function resolveApp(app: unknown, where: string): ResolvedApp {
  if (app === undefined) return { listener: undefined };
  if (isWebServer(app)) return { server: app };
  if (typeof app === 'function') return { listener: app as RequestListener };
  if (typeof app === 'object' && app !== null) {
    const candidate = app as Partial<KoaLike> & {
      server?: unknown;
      host?: unknown;
      port?: unknown;
    };
    if (isWebServer(candidate.server)) {
      throw new UsageError(
        `${where}: pass the framework's http.Server (for Fastify: fastify.server) and start it with the framework's own listen()`,
      );
    }
    if (typeof candidate.callback === 'function') return { listener: candidate.callback() };
    if ('host' in candidate || 'port' in candidate) {
      throw new UsageError(
        `${where}: { host, port } went where the app goes; write io.run(undefined, { host, port }) (or io.run(app, { host, port }))`,
      );
    }
  }
  if (typeof app === 'number')
    throw new UsageError(
      `${where}: ${app} is a port; write io.listen(${app}) or io.run(undefined, { port: ${app} })`,
    );
  throw new UsageError(
    `${where}: the app must be an http.Server or https.Server, a request listener such as an Express app, or a Koa app; got ${kindOf(app)}`,
  );
}

/**
 * Attaches the engine to a resolved app, creating an http.Server when the app is a
 * request listener or absent.
 *
 * @example
 * ```ts
 * const server = attachApp(engine, resolveApp(expressApp, 'io.run()'));
 * server.listen(3000);
 * ```
 */
export function attachApp(engine: EngineServer, app: ResolvedApp): WebServer {
  if (app.server !== undefined) return engine.attach(app.server);
  return engine.attach(createServer(), app.listener);
}

/**
 * Where a server listens.
 *
 * @group Application API
 */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Starts listening (`host` undefined: every interface, as Node does); resolves
 * once the port is bound (port 0 picks a free one).
 *
 * @example
 * ```ts
 * const address = await listen(server, { host: '127.0.0.1', port: 0 });
 * ```
 */
export function listen(
  server: WebServer,
  where: { readonly host: string | undefined; readonly port: number },
): Promise<ListenAddress> {
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
export function unlisten(server: WebServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
