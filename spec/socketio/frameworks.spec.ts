/**
 * Inside a real Node app: plain `http`, Express, Fastify and Koa each serve their
 * own pages and `/socket.io/` on one port, set up exactly as the README shows,
 * with the official client over every transport.
 */
import { createServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { io as connect } from 'socket.io-client';
import { SocketIO, emit } from '../../lib/index.js';
import { CLIENT_TRANSPORTS, within } from '../helpers/socketio.js';
import type { ClientTransport } from '../helpers/socketio.js';

/** One app with Socket.IO on its port, started the README's way. */
interface Served {
  readonly io: SocketIO;
  readonly origin: string;
  stop(): Promise<void>;
}

function portOf(server: HttpServer): number {
  return (server.address() as AddressInfo).port;
}

function listenOn(server: HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(portOf(server))));
}

/** Attaches a server with the handlers to `server` (as the README shows) and starts it. */
async function servedOn(server: HttpServer): Promise<Served> {
  const io = withHandlers(new SocketIO(server));
  const origin = `http://127.0.0.1:${await listenOn(server)}`;
  return { io, origin, stop: () => io.stop() };
}

/** The handlers every app registers: an ack echo and a greeting on connect. */
function withHandlers(io: SocketIO): SocketIO {
  io.on('connect', () => emit('welcome', 'hi'));
  io.on('echo', (value: unknown) => value);
  return io;
}

const FRAMEWORKS: readonly { readonly name: string; start(): Promise<Served> }[] = [
  {
    name: 'plain http (new SocketIO(server))',
    start() {
      const server = createServer((req, res) => {
        if (req.url === '/hello') return void res.end('hello from http');
        res.writeHead(404).end('no such page');
      });
      return servedOn(server);
    },
  },
  {
    name: 'Express (new SocketIO(http.createServer(app)))',
    async start() {
      const app = express();
      app.get('/hello', (_req, res) => void res.send('hello from express'));
      const server = createServer(app);
      return servedOn(server);
    },
  },
  {
    name: 'Express (io.run(app, { port }))',
    async start() {
      const app = express();
      app.get('/hello', (_req, res) => void res.send('hello from express'));
      const io = withHandlers(new SocketIO());
      const { port } = await io.run(app, { port: 0 });
      return { io, origin: `http://127.0.0.1:${port}`, stop: () => io.stop() };
    },
  },
  {
    name: 'Fastify (new SocketIO(fastify.server))',
    async start() {
      const app = Fastify();
      app.get('/hello', () => 'hello from fastify');
      const io = withHandlers(new SocketIO(app.server));
      const origin = await app.listen({ port: 0, host: '127.0.0.1' });
      return {
        io,
        origin,
        async stop() {
          await io.stop();
          await app.close();
        },
      };
    },
  },
  {
    name: 'Koa (new SocketIO(http.createServer(app.callback())))',
    async start() {
      const app = new Koa();
      app.use((ctx) => {
        if (ctx.path === '/hello') ctx.body = 'hello from koa';
      });
      const handle = app.callback();
      const server = createServer((req, res) => void handle(req, res));
      return servedOn(server);
    },
  },
  {
    name: 'Koa (io.run(app, { port }))',
    async start() {
      const app = new Koa();
      app.use((ctx) => {
        if (ctx.path === '/hello') ctx.body = 'hello from koa';
      });
      const io = withHandlers(new SocketIO());
      const { port } = await io.run(app, { port: 0 });
      return { io, origin: `http://127.0.0.1:${port}`, stop: () => io.stop() };
    },
  },
];

async function echoOver(origin: string, transport: ClientTransport): Promise<unknown[]> {
  const socket = connect(origin, { forceNew: true, reconnection: false, ...transport.options });
  try {
    const welcome = new Promise<unknown>((resolve) => socket.once('welcome', resolve));
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      }),
      `a ${transport.name} connection`,
    );
    const answer: unknown = await within(socket.emitWithAck('echo', { n: 1 }), 'the echo ack');
    return [await within(welcome, 'the welcome event'), answer];
  } finally {
    socket.disconnect();
  }
}

for (const framework of FRAMEWORKS) {
  describe(`Socket.IO inside ${framework.name}`, function () {
    let served: Served;
    before(async function () {
      served = await framework.start();
    });
    after(() => served.stop());

    for (const transport of CLIENT_TRANSPORTS) {
      it(`serves the official client over ${transport.name}`, async function () {
        expect(await echoOver(served.origin, transport)).to.deep.equal(['hi', { n: 1 }]);
      });
    }

    it("leaves the app's own pages to the app, and its 404s", async function () {
      const hello = await fetch(`${served.origin}/hello`);
      expect(hello.status).to.equal(200);
      expect(await hello.text()).to.match(/^hello from /);
      expect((await fetch(`${served.origin}/nowhere`)).status).to.equal(404);
    });

    it('serves the browser client bundle beside the endpoint', async function () {
      const bundle = await fetch(`${served.origin}/socket.io/socket.io.min.js`);
      expect(bundle.status).to.equal(200);
      expect(bundle.headers.get('content-type')).to.match(/javascript/);
      expect((await bundle.text()).length).to.be.greaterThan(10_000);
    });
  });
}
