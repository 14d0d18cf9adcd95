/**
 * Mounting an engine on Node web servers: its request and upgrade listeners go in
 * front of the server's own, and come off again leaving the server as it was.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

/**
 * A Node web server the engine can attach to.
 *
 * @group Application API
 */
export type WebServer = HttpServer | HttpsServer;

/** What a mounted engine answers. */
export interface Mountable {
  /** Whether a request is the engine's (its endpoint, served files, routes). */
  handles(req: IncomingMessage): boolean;
  /** Whether an upgrade is the engine's (its endpoint only). */
  upgrades(req: IncomingMessage): boolean;
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

interface Mounted {
  readonly earlier: RequestListener[];
  readonly request: RequestListener;
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/**
 * The servers one engine is mounted on.
 *
 * @example
 * ```ts
 * const mounts = new Mounts(engine);
 * mounts.mount(server, expressApp); // the endpoint, then the app
 * mounts.unmount(server);
 * ```
 */
export class Mounts {
  readonly #mounted = new Map<WebServer, Mounted>();

  constructor(private readonly engine: Mountable) {}

  /**
   * Takes the engine's requests and upgrades of `server`; everything else goes to
   * `fallback` or to the server's earlier request listeners (else a 404). Idempotent.
   */
  mount(server: WebServer, fallback?: RequestListener): void {
    if (this.#mounted.has(server)) return;
    const engine = this.engine;
    const earlier = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    const request = (req: IncomingMessage, res: ServerResponse): void => {
      if (engine.handles(req)) return engine.handleRequest(req, res);
      if (fallback) return void fallback(req, res);
      if (earlier.length > 0) {
        for (const listener of earlier) void listener.call(server, req, res);
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('Not Found');
    };
    const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      // Only the endpoint upgrades: not the served files or routes, which are plain pages.
      if (engine.upgrades(req)) engine.handleUpgrade(req, socket, head);
      else if (server.listenerCount('upgrade') === 1) socket.destroy();
    };
    server.on('request', request);
    server.on('upgrade', upgrade);
    this.#mounted.set(server, { earlier, request, upgrade });
  }

  /** Gives `server` its earlier request listeners back and stops taking its upgrades. */
  unmount(server: WebServer): void {
    const mounted = this.#mounted.get(server);
    if (mounted === undefined) return;
    this.#mounted.delete(server);
    server.off('request', mounted.request);
    server.off('upgrade', mounted.upgrade);
    for (const listener of mounted.earlier) server.on('request', listener);
  }
}
