/**
 * The cluster front against a process that takes a connection and dies before it
 * answers (what a process killed with `kill -9` does to the connections in its
 * accept queue). A handshake must go to another process instead of failing; a
 * request for the dead process's session gets the protocol's unknown-session answer.
 *
 * Regression: CI saw one WebSocket handshake fail 17 ms after a `kill -9` in
 * spec/cli/process-restart.spec.ts ("sessions begun in the 1.5 s after the kill").
 */
import { expect } from 'chai';
import { createServer, request } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { createFront } from '../../lib/cluster/front.js';
import type { Routes } from '../../lib/cluster/front.js';
import type { Target } from '../../lib/cluster/supervisor.js';

const TOKEN = 'front-spec-token';

function portOf(server: NetServer | HttpServer): number {
  return (server.address() as AddressInfo).port;
}

/** Takes every connection and closes it without a byte: a process dying under it. */
async function dyingProcess(): Promise<NetServer> {
  const server = createNetServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Answers polling with "ok <port>" and takes WebSocket upgrades, echoing each message. */
async function healthyProcess(): Promise<HttpServer> {
  const server = createServer((_req, res) => res.end(`ok ${portOf(server)}`));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Routes that offer the processes in turn, starting with the first. */
function routesOver(targets: readonly Target[]): Routes & { offered: number[] } {
  let turn = 0;
  const offered: number[] = [];
  return {
    offered,
    target: (index) => targets.find((t) => t.index === index),
    next(skip) {
      for (let i = 0; i < targets.length; i++) {
        const target = targets[(turn + i) % targets.length] as Target;
        if (skip.has(target.port)) continue;
        turn = (turn + i + 1) % targets.length;
        offered.push(target.index);
        return target;
      }
      return undefined;
    },
    whenChanged: (ms) => new Promise((resolve) => setTimeout(() => resolve(false), ms)),
  };
}

function get(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    })
      .on('error', reject)
      .end();
  });
}

/** Opens a WebSocket through the front and sends one message; resolves with its echo. */
function echoOverWebSocket(url: string, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => ws.send(message));
    ws.on('message', (data: Buffer) => {
      ws.close();
      resolve(data.toString());
    });
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res) =>
      reject(new Error(`unexpected answer ${String(res.statusCode)}`)),
    );
  });
}

describe('cluster front: a process that takes a connection and dies before answering', function () {
  let dying: NetServer;
  let healthy: HttpServer;
  let front: HttpServer;
  let routes: ReturnType<typeof routesOver>;

  beforeEach(async function () {
    dying = await dyingProcess();
    healthy = await healthyProcess();
    routes = routesOver([
      { index: 0, port: portOf(dying) },
      { index: 1, port: portOf(healthy) },
    ]);
    front = createFront(routes, TOKEN);
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
  });

  afterEach(async function () {
    front.closeAllConnections();
    healthy.closeAllConnections();
    await Promise.all(
      [front, healthy, dying].map((s) => new Promise((resolve) => s.close(resolve))),
    );
  });

  it('a WebSocket handshake offered to it first is retried on another process', async function () {
    for (let i = 0; i < 4; i++) {
      const echo = await echoOverWebSocket(
        `ws://127.0.0.1:${portOf(front)}/socket.io/?EIO=4&transport=websocket`,
        `hello ${i}`,
      );
      expect(echo).to.equal(`hello ${i}`);
    }
    expect(routes.offered, 'the dying process was offered each handshake').to.include(0);
  });

  it('a polling handshake offered to it first is retried on another process', async function () {
    for (let i = 0; i < 4; i++) {
      const answer = await get(portOf(front), '/socket.io/?EIO=4&transport=polling');
      expect(answer).to.deep.equal({ status: 200, text: `ok ${portOf(healthy)}` });
    }
    expect(routes.offered).to.include(0);
  });

  it("an upgrade for its session gets the protocol's unknown-session answer", async function () {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(
        `ws://127.0.0.1:${portOf(front)}/socket.io/?EIO=4&transport=websocket&sid=p0.abc`,
      );
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('the upgrade was taken')));
      ws.on('error', reject);
    });
    expect(status).to.equal(400);
  });
});
