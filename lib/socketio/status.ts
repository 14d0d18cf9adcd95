/**
 * The opt-in live status page (`statusPage: { path: '/status', auth }`): an HTML
 * page at `path` that updates itself over its own Socket.IO namespace with the
 * actors per phase, clients per namespace, rooms, the scheduler's load and
 * packets per second.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UsageError } from '../errors.js';
import { checkOptionNames } from '../option-names.js';
import { clientAddress, forwardedByProxy } from '../engine/cluster-front.js';
import type { PhaseCounts } from '../engine/server.js';
import type { AsyncMode, Scheduler } from '../../schedulers/scheduler.js';
import { request } from './context.js';
import type { Hub } from './hub.js';
import { STATUS_PAGE_HTML } from './status-page.js';
import { traffic } from './socket.js';

import type { StatusPageOptions, StatusRequest } from './status-options.js';

export type { StatusPageOptions, StatusRequest };

const STATUS_OPTIONS: ReadonlySet<string> = new Set(
  Object.keys({ path: true, namespace: true, auth: true } satisfies Record<
    keyof StatusPageOptions,
    true
  >),
);

/** One update of the page. */
export interface StatusSnapshot {
  readonly asyncMode: AsyncMode;
  readonly phases: PhaseCounts & { closedLastMinute: number };
  readonly namespaces: Record<string, number>;
  readonly rooms: { namespace: string; room: string; size: number }[];
  readonly load: { queued: number; busy: number };
  readonly packetsInPerSecond: number;
  readonly packetsOutPerSecond: number;
  readonly at: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** A peer address on this machine (127.0.0.0/8, ::1, or 127.x mapped into IPv6). */
function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

/**
 * Serves the page and feeds its namespace.
 *
 * @example
 * ```ts
 * new SocketIO({ statusPage: { path: '/status', auth: (req) => req.headers.authorization === 'Bearer s3cret' } });
 * ```
 */
export class StatusPage {
  readonly path: string;
  readonly namespace: string;
  #last = { in: traffic.in, out: traffic.out, at: performance.now() };
  #feeding = false;

  constructor(
    private readonly options: StatusPageOptions,
    private readonly hub: Hub,
    private readonly scheduler: Scheduler,
    private readonly engine: { phaseCounts(): PhaseCounts; closedLastMinute(): number },
  ) {
    checkOptionNames('statusPage', options, STATUS_OPTIONS);
    this.path = options.path ?? '/status';
    this.namespace = options.namespace ?? '/socketio-status';
    if (!this.path.startsWith('/')) throw new UsageError("statusPage.path must start with '/'");
    hub.registry.on(this.namespace, 'connect', async () => {
      const req = request();
      if (!(await this.#allowed({ headers: req.headers, remoteAddress: req.remoteAddress })))
        return false;
      this.#feed();
      return undefined;
    });
  }

  /** Refuses to serve the page unguarded beyond loopback (`host` undefined: every interface). */
  checkHost(host: string | undefined): void {
    if (this.options.auth === undefined && (host === undefined || !LOOPBACK.has(host))) {
      throw new UsageError(
        `statusPage needs an auth check when the server listens on ${host ?? 'every interface'}: pass statusPage: { auth: (req) => … }`,
      );
    }
  }

  async #allowed(req: StatusRequest): Promise<boolean> {
    // Unguarded, the page is for this machine only, whichever server it was attached to; a
    // request a proxy forwarded comes from elsewhere even when the proxy is on this machine.
    if (this.options.auth === undefined)
      return isLoopbackAddress(req.remoteAddress) && !forwardedByProxy(req.headers);
    try {
      return (await this.options.auth(req)) === true;
    } catch {
      return false;
    }
  }

  /** Answers the page's GET; returns false when the request is not for the page. */
  handles(req: IncomingMessage): boolean {
    return (req.url ?? '').split('?')[0] === this.path;
  }

  async answer(req: IncomingMessage, res: ServerResponse, socketPath: string): Promise<void> {
    if (
      !(await this.#allowed({
        headers: req.headers,
        remoteAddress: clientAddress(req.headers, req.socket.remoteAddress ?? ''),
      }))
    ) {
      res
        .writeHead(401, {
          'Content-Type': 'text/plain',
          'WWW-Authenticate': 'Basic realm="status"',
        })
        .end('unauthorized');
      return;
    }
    const html = STATUS_PAGE_HTML.replaceAll('__SOCKET_PATH__', `/${socketPath}`).replaceAll(
      '__NAMESPACE__',
      this.namespace,
    );
    res
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' })
      .end(html);
  }

  /** The figures the page shows. */
  snapshot(): StatusSnapshot {
    const now = performance.now();
    const seconds = Math.max(0.001, (now - this.#last.at) / 1000);
    const inRate = (traffic.in - this.#last.in) / seconds;
    const outRate = (traffic.out - this.#last.out) / seconds;
    this.#last = { in: traffic.in, out: traffic.out, at: now };
    const namespaces: Record<string, number> = {};
    for (const socket of this.hub.sockets.values())
      namespaces[socket.nsp] = (namespaces[socket.nsp] ?? 0) + 1;
    const rooms: StatusSnapshot['rooms'] = [];
    for (const nsp of this.hub.rooms.namespaces()) {
      for (const [room, size] of this.hub.rooms.sizes(nsp)) {
        if (!this.hub.sockets.has(room)) rooms.push({ namespace: nsp, room, size });
      }
    }
    rooms.sort((a, b) => b.size - a.size);
    return {
      asyncMode: this.scheduler.mode,
      phases: { ...this.engine.phaseCounts(), closedLastMinute: this.engine.closedLastMinute() },
      namespaces,
      rooms: rooms.slice(0, 50),
      load: this.scheduler.load?.() ?? { queued: 0, busy: 0 },
      packetsInPerSecond: Math.round(inRate),
      packetsOutPerSecond: Math.round(outRate),
      at: Date.now(),
    };
  }

  /** Sends a snapshot every second while anyone watches. */
  #feed(): void {
    if (this.#feeding) return;
    this.#feeding = true;
    this.scheduler.startBackgroundTask(async () => {
      try {
        while (this.hub.namespaceSize(this.namespace) > 0) {
          this.hub.emit({
            nsp: this.namespace,
            event: 'status',
            args: [this.snapshot()],
            to: undefined,
            ignoreQueue: true,
          });
          await this.scheduler.sleep(1);
        }
      } finally {
        this.#feeding = false;
      }
    });
  }
}
