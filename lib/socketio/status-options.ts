/**
 * The status page's option types: the server's options name them, and the page itself
 * (status.ts) reads the server's state, so they live apart from both.
 */

/** What the auth check sees of a request (the page's GET and the status namespace's connect). */
export interface StatusRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly remoteAddress: string;
}

/**
 * Options of the status page.
 *
 * @example
 * ```ts
 * new SocketIO({ statusPage: { path: '/status', auth: (req) => req.headers['x-admin'] === token } });
 * ```
 */
export interface StatusPageOptions {
  /** Where the page is served. Default '/status'. */
  path?: string;
  /** The namespace its updates use. Default '/socketio-status'. */
  namespace?: string;
  /** Return true to let a request in; required when the server listens beyond loopback. */
  auth?: (req: StatusRequest) => boolean | Promise<boolean>;
}
