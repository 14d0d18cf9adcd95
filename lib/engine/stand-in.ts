/**
 * A stand-in for a handshake request the engine did not keep (or a client that has
 * no HTTP connection, such as the in-process test client): an `IncomingMessage`
 * with the handshake's method, URL and headers, on a socket that never connects.
 */
import { IncomingMessage } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';

/**
 * Makes a stand-in GET request.
 *
 * @example
 * ```ts
 * standInRequest('/socket.io/?EIO=4&transport=websocket', { cookie: 'sid=1' }).headers.cookie;
 * ```
 */
export function standInRequest(url: string, headers: IncomingHttpHeaders): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.method = 'GET';
  request.url = url;
  request.headers = headers;
  return request;
}
