/**
 * Files served beside the Engine.IO endpoint (`/<path>/<name>`), such as the
 * Socket.IO client bundle, with ETag validation (304) and caching headers.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface StaticFile {
  readonly path: string;
  readonly type: string;
  loaded?: Promise<{ body: Buffer; etag: string }>;
}

/**
 * A small set of named files, read once and kept in memory.
 *
 * @example
 * ```ts
 * files.add('socket.io.js', require.resolve('socket.io-client/dist/socket.io.js'), 'application/javascript');
 * ```
 */
export class StaticFiles {
  readonly #files = new Map<string, StaticFile>();

  add(name: string, path: string, type: string): void {
    this.#files.set(name, { path, type });
  }

  has(name: string): boolean {
    return this.#files.has(name);
  }

  /** Answers a GET/HEAD for `name`: 200 with the file, or 304 when the ETag matches. */
  async answer(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const file = this.#files.get(name);
    if (file === undefined) return void res.writeHead(404).end();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let content: { body: Buffer; etag: string };
    try {
      file.loaded ??= readFile(file.path).then((body) => ({
        body,
        etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
      }));
      content = await file.loaded;
    } catch {
      file.loaded = undefined;
      res
        .writeHead(500, { 'Content-Type': 'text/plain' })
        .end(`${name} is not installed on the server`);
      return;
    }
    const headers = {
      ETag: content.etag,
      'Cache-Control': 'public, max-age=3600',
      'Content-Type': file.type,
    };
    if (req.headers['if-none-match'] === content.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': content.body.length });
    res.end(req.method === 'HEAD' ? undefined : content.body);
  }
}
