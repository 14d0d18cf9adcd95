/**
 * `socketio-actors run app.js --processes N`: N server processes behind a
 * sticky front on one port. The front proxies every HTTP request and WebSocket
 * upgrade to the process that owns its session (session ids start with `p<i>.`),
 * so long-polling never meets "Session ID unknown"; handshakes go round-robin.
 * The processes share clients through the app's message queue.
 *
 * ```
 *  client ──> front :5000 ──(sid p1.…)──> process 1 :ephemeral ─┐
 *                         └─(no sid)───> process i (round-robin) ├─ message queue
 *                                         process N ─────────────┘
 * ```
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { FRONT_ENV, FRONT_TOKEN_HEADER } from './engine/cluster-front.js';
import { isWorkerReport } from './cluster/worker.js';

/** A process refused to start (a usage mistake such as the status page's rule), in one line. */
export class ProcessRefused extends Error {}

/** What the front needs to start its processes. */
export interface ClusterOptions {
  readonly script: string;
  readonly args: readonly string[];
  readonly processes: number;
  readonly host: string;
  readonly port: number;
  readonly log: (line: string) => void;
}

interface Member {
  readonly child: ChildProcess;
  port: number;
}

function sidOf(req: IncomingMessage): string | undefined {
  const query = (req.url ?? '').split('?')[1];
  return query === undefined ? undefined : (new URLSearchParams(query).get('sid') ?? undefined);
}

/** Starts the processes and the front; resolves with the front once everything listens. */
export async function runCluster(
  options: ClusterOptions,
): Promise<{ front: Server; stop(): Promise<void> }> {
  const members: Member[] = [];
  const token = randomBytes(16).toString('hex');
  for (let i = 0; i < options.processes; i++) {
    const child = fork(options.script, [...options.args], {
      env: {
        ...process.env,
        [FRONT_ENV.index]: String(i),
        [FRONT_ENV.host]: options.host,
        [FRONT_ENV.token]: token,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let refusal: string | undefined;
    const port = await new Promise<number>((resolve, reject) => {
      child.on('message', (m) => {
        if (!isWorkerReport(m)) return;
        if (m.type === 'listening') resolve(m.port);
        else refusal = m.message;
      });
      child.once('exit', (code) =>
        reject(
          refusal !== undefined
            ? new ProcessRefused(refusal)
            : new Error(`process ${i} exited before listening (code ${String(code)})`),
        ),
      );
    }).catch((error: unknown) => {
      for (const { child } of members) child.kill('SIGTERM');
      throw error;
    });
    members.push({ child, port });
  }
  let next = 0;
  const pick = (req: IncomingMessage): Member => {
    const index = /^p(\d+)\./.exec(sidOf(req) ?? '')?.[1];
    const owner = index === undefined ? undefined : members[Number(index)];
    return owner ?? (members[next++ % members.length] as Member);
  };
  const forwarded = (req: IncomingMessage): Record<string, string | string[] | undefined> => ({
    ...req.headers,
    'x-forwarded-for': [req.headers['x-forwarded-for'], req.socket.remoteAddress]
      .filter(Boolean)
      .join(', '),
    [FRONT_TOKEN_HEADER]: token,
  });

  const front = createServer((req, res) => {
    const member = pick(req);
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: member.port,
        method: req.method,
        path: req.url,
        headers: forwarded(req),
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end('the server process is unavailable');
    });
    req.pipe(upstream);
  });
  front.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const member = pick(req);
    const upstream = connect(member.port, '127.0.0.1', () => {
      const headers = Object.entries(forwarded(req))
        .flatMap(([k, v]) =>
          Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : v === undefined ? [] : [`${k}: ${v}`],
        )
        .join('\r\n');
      upstream.write(`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n${headers}\r\n\r\n`);
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    const drop = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop);
    socket.on('error', drop);
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(options.port, options.host, () => resolve());
  });
  options.log(`${options.processes} processes behind a sticky front`);
  return {
    front,
    async stop() {
      await new Promise<void>((resolve) => front.close(() => resolve()));
      front.closeAllConnections();
      await Promise.all(
        members.map(
          ({ child }) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
