/**
 * Clients that reset their TCP connection right after an upgrade request the
 * server refuses (or accepts): the answer's write then fails with ECONNRESET on
 * a socket Node's HTTP server handed over without an error listener. The server
 * must swallow it, never crash, and keep serving.
 */
import { connect } from 'node:net';
import { expect } from 'chai';
import { withEngine } from '../helpers/engine.js';
import { trapProcessErrors } from '../helpers/hostile.js';
import { delay } from '../helpers/raw-engine.js';

/** Sends an upgrade request for `query`, then resets the connection at once. */
async function upgradeAndReset(port: number, query: string, headers = ''): Promise<void> {
  await new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET /socket.io/?${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${headers}\r\n`,
      );
      setImmediate(() => {
        socket.resetAndDestroy();
        resolve();
      });
    });
    socket.on('error', () => undefined);
  });
}

const CASES: readonly { title: string; query: string; headers?: string; closeFirst?: boolean }[] = [
  { title: 'an unsupported protocol version', query: 'EIO=3&transport=websocket' },
  { title: 'an unknown sid', query: 'EIO=4&transport=websocket&sid=nope' },
  {
    title: 'a refused origin',
    query: 'EIO=4&transport=websocket',
    headers: 'Origin: http://evil.example\r\n',
  },
  { title: 'a server shutting down', query: 'EIO=4&transport=websocket', closeFirst: true },
  { title: 'an accepted upgrade', query: 'EIO=4&transport=websocket' },
];

describe('clients that reset a WebSocket upgrade', function () {
  for (const c of CASES) {
    it(
      `survive 200 resets after ${c.title}`,
      withEngine({ corsAllowedOrigins: ['http://good.example'] }, async (h) => {
        const trap = trapProcessErrors();
        try {
          if (c.closeFirst === true) h.engine.close();
          for (let i = 0; i < 200; i++) await upgradeAndReset(h.port, c.query, c.headers);
          await delay(100);
          expect(trap.errors).to.deep.equal([]);
        } finally {
          trap.dispose();
        }
        // A closed engine refuses new sessions until resumed (or attached again).
        if (c.closeFirst === true) h.engine.resume();
        await h.expectHealthy();
      }),
    );
  }
});
