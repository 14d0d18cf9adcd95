/**
 * Helpers for the message-queue specs: server processes forked from
 * spec/fixtures/queue-server.ts and driven over IPC, official clients spread
 * over them, unique channels, free ports, /usr/bin/python3, a private
 * redis-server and a TCP relay that can cut a broker's connections.
 */
import { execFile, fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { connect as amqpConnect } from 'amqplib';
import { Redis } from 'ioredis';
import { io as connect } from 'socket.io-client';
import type {
  QueueServerMessage,
  QueueServerReport,
  QueueServerRequest,
} from '../fixtures/queue-server.js';
import { delay, waitFor } from './raw-engine.js';
import { SioPeer, within } from './socketio.js';
import type { ClientOptions } from './socketio.js';

/** The system Redis and RabbitMQ (started by scripts/services.sh). */
export const REDIS_URL = 'redis://127.0.0.1:6379/0';
export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672/';

/** The brokers every cross-process spec runs on. */
export const BROKERS = [
  { name: 'Redis', url: REDIS_URL, port: 6379 },
  { name: 'RabbitMQ', url: AMQP_URL, port: 5672 },
] as const;

/** The Python that has python3-socketio and python3-redis (not the `python3` on PATH). */
export const PYTHON = '/usr/bin/python3';

/** The queue counters a server reports. */
export interface Stats {
  published: number;
  received: number;
  lost: number;
  missed: number;
  reconnects: number;
  buffered: number;
  skipped: number;
  connected: boolean;
}

/** How a server process is started beyond its URL and channel. */
export interface ServerSetup {
  /** No `logger` option: what the default logger prints reaches `logs`. */
  readonly defaultLogger?: boolean;
  /** `messageQueueOptions`. */
  readonly queueOptions?: Record<string, unknown>;
  /** Connection state recovery on (10 s), with cuts noticed within a second. */
  readonly recovery?: boolean;
  /** With `recovery`: sessions kept in Redis (`store: 'redis'`) rather than in memory. */
  readonly recoveryStore?: 'redis';
  /** With `recovery`: its `maxDisconnectionDuration`. */
  readonly recoverySeconds?: number;
}

/** One log line a server process sent. */
export interface LogLine {
  readonly level: string;
  readonly text: string;
}

let channels = 0;

/** A channel no other test (or concurrent run) uses. */
export function uniqueChannel(label: string): string {
  return `spec-${label}-${process.pid}-${++channels}-${randomBytes(4).toString('hex')}`;
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls an async predicate until it holds (true) or `ms` pass (false). */
export async function eventually(
  predicate: () => Promise<boolean> | boolean,
  ms: number,
  every = 25,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() > deadline) return false;
    await delay(every);
  }
}

/** Waits until a child exits (or `ms` pass). */
export async function exited(child: ChildProcess, ms = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await within(
    new Promise<void>((resolve) => child.once('exit', () => resolve())),
    `process ${child.pid} to exit`,
    ms,
  );
}

/** Kills a child (SIGKILL unless told) and waits for it to exit. */
export async function killChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await exited(child);
}

const FIXTURE = new URL('../fixtures/queue-server.js', import.meta.url);

/** One forked server process (spec/fixtures/queue-server.ts). */
export class ServerProcess {
  /** Every line the server logged at info, warn or error. */
  readonly logs: LogLine[] = [];
  port = 0;
  #nextId = 1;
  readonly #pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void }
  >();
  #exit: string | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly index: number,
  ) {
    child.on('message', (message: QueueServerReport) => {
      if (message.type === 'log') this.logs.push({ level: message.level, text: message.text });
      else if (message.type === 'reply') {
        const waiter = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.ok) waiter?.resolve(message.value);
        else {
          const error = Object.assign(new Error(message.error), { code: message.code });
          waiter?.reject(error);
        }
      }
    });
    child.on('exit', (code, signal) => {
      this.#exit = `exited with ${signal ?? code}`;
      for (const waiter of this.#pending.values())
        waiter.reject(new Error(`server ${index} ${this.#exit}`));
      this.#pending.clear();
    });
  }

  /** Forks a server on `url`/`channel` and waits until it listens. */
  static async fork(
    index: number,
    url: string,
    channel: string,
    setup: ServerSetup = {},
  ): Promise<ServerProcess> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      QUEUE_URL: url,
      QUEUE_CHANNEL: channel,
      SERVER_INDEX: `${index}`,
    };
    if (setup.defaultLogger === true) env.QUEUE_LOGGER = 'default';
    if (setup.queueOptions !== undefined) env.QUEUE_OPTIONS = JSON.stringify(setup.queueOptions);
    if (setup.recovery === true) env.QUEUE_RECOVERY = '1';
    if (setup.recoveryStore !== undefined) env.QUEUE_RECOVERY_STORE = setup.recoveryStore;
    if (setup.recoverySeconds !== undefined)
      env.QUEUE_RECOVERY_SECONDS = `${setup.recoverySeconds}`;
    const child = fork(FIXTURE, [], {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const server = new ServerProcess(child, index);
    const listening = new Promise<number>((resolve, reject) => {
      child.on('message', (message: QueueServerReport) => {
        if (message.type === 'listening') resolve(message.port);
      });
      child.once('exit', (code) => reject(new Error(`server ${index} exited with ${code}`)));
    });
    server.port = await within(listening, `server process ${index} to listen`, 15_000);
    return server;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.#exit === undefined && this.child.exitCode === null;
  }

  /** Why the process ended, if it did. */
  get exitReason(): string | undefined {
    return this.#exit;
  }

  /** Sends a request; resolves with the reply's value (rejects with the server's error). */
  request(request: QueueServerRequest, ms = 10_000): Promise<unknown> {
    if (!this.alive) return Promise.reject(new Error(`server ${this.index} ${this.#exit}`));
    const id = this.#nextId++;
    const reply = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const message: QueueServerMessage = { ...request, id };
      // A child that died meanwhile fails the send: reject instead of an uncaught EPIPE.
      this.child.send(message, (error) => {
        if (error !== null) {
          this.#pending.delete(id);
          reject(error);
        }
      });
    });
    return within(reply, `server ${this.index} to answer "${request.op}"`, ms);
  }

  /** Replaces the server with one on a new channel; returns the new port. */
  async restart(url: string, channel: string): Promise<number> {
    this.port = (await this.request({ op: 'restart', url, channel }, 15_000)) as number;
    this.logs.length = 0;
    return this.port;
  }

  /** `io.emit(event, args(...values), options)` in the server process. */
  async emit(
    event: string,
    values: unknown[],
    options: Extract<QueueServerRequest, { op: 'emit' }>['options'] = {},
  ): Promise<void> {
    await this.request({ op: 'emit', event, values, options });
  }

  /** `io.queueStats()` in the server process. */
  async stats(): Promise<Stats> {
    const stats = (await this.request({ op: 'stats' })) as Stats | null;
    if (stats === null) throw new Error(`server ${this.index} has no queue`);
    return stats;
  }

  /** Kills the process and waits for it. */
  async kill(): Promise<void> {
    await killChild(this.child);
  }
}

/** An official client of one server process: websocket only, its own connection, no reconnection. */
export function openPeer(port: number, options: ClientOptions = {}): SioPeer {
  return new SioPeer(
    connect(`http://127.0.0.1:${port}`, {
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
      ...options,
    }),
  );
}

/** Several server processes sharing one queue, and the clients the spec opened on them. */
export class Cluster {
  readonly #peers: SioPeer[] = [];
  url: string;
  channel: string;

  private constructor(
    readonly servers: readonly ServerProcess[],
    url: string,
    channel: string,
  ) {
    this.url = url;
    this.channel = channel;
  }

  /** Forks `size` server processes on `url`, all on one fresh channel. */
  static async start(
    url: string,
    size: number,
    label: string,
    setup: ServerSetup = {},
  ): Promise<Cluster> {
    const channel = uniqueChannel(label);
    const started = await Promise.allSettled(
      Array.from({ length: size }, (_, i) => ServerProcess.fork(i, url, channel, setup)),
    );
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(servers.map((s) => s.kill()));
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return new Cluster(servers, url, channel);
  }

  /** The server process `i`. */
  server(i: number): ServerProcess {
    const server = this.servers[i];
    if (server === undefined) throw new Error(`no server ${i}`);
    return server;
  }

  /** Fresh servers on a new channel (or `channel`) in every process: a clean slate for one test. */
  async restart(label: string, url = this.url, channel = uniqueChannel(label)): Promise<string> {
    this.disconnectPeers();
    this.url = url;
    this.channel = channel;
    await Promise.all(this.servers.map((s) => s.restart(url, this.channel)));
    return this.channel;
  }

  /** {@link restart}, then waits until every process counts the others (their heartbeats). */
  async restartMet(label: string): Promise<void> {
    await this.restart(label);
    const others = this.servers.length - 1;
    const met = await eventually(async () => {
      const counts = await Promise.all(this.servers.map((s) => s.request({ op: 'peers' })));
      return counts.every((c) => c === others);
    }, 5000);
    if (!met) throw new Error(`the ${this.servers.length} processes did not meet within 5 s`);
  }

  /** A client of server `i` that has connected. */
  async connect(i: number, options: ClientOptions = {}): Promise<SioPeer> {
    const peer = openPeer(this.server(i).port, options);
    this.#peers.push(peer);
    await within(peer.opened, `a client of server ${i} to connect`, 5000);
    return peer;
  }

  /** `perServer` clients of every server, grouped by server. */
  async spread(perServer: number): Promise<SioPeer[][]> {
    return Promise.all(
      this.servers.map((_, i) =>
        Promise.all(Array.from({ length: perServer }, () => this.connect(i))),
      ),
    );
  }

  disconnectPeers(): void {
    for (const peer of this.#peers.splice(0)) peer.socket.disconnect();
  }

  async kill(): Promise<void> {
    this.disconnectPeers();
    await Promise.all(this.servers.map((s) => s.kill()));
  }
}

/** Emits with an ack and a timeout; resolves with the ack arguments. */
export function ackOf(peer: SioPeer, event: string, ...values: unknown[]): Promise<unknown[]> {
  return new Promise<unknown[]>((resolve, reject) => {
    peer.socket
      .timeout(5000)
      .emit(event, ...values, (error: Error | null, ...response: unknown[]) => {
        if (error !== null) reject(new Error(`no ack for "${event}": ${error.message}`));
        else resolve(response);
      });
  });
}

/** The argument lists of every `event` a peer received so far. */
export function received(peer: SioPeer, event: string): unknown[][] {
  return peer.inbox(event).items;
}

/**
 * Waits until every peer in `expected` has `count` `event`s, then a quiet
 * window more (so duplicates, if any, would have arrived).
 */
export async function settle(
  peers: readonly SioPeer[],
  event: string,
  count: number,
  quietMs = 200,
): Promise<void> {
  await waitFor(() => peers.every((p) => received(p, event).length >= count), 5000);
  await delay(quietMs);
}

/** The result of running a program. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Each python-socketio serializer and the server parser that speaks it. */
export const PYTHON_SERIALIZERS = [
  { serializer: 'default', parser: 'json' },
  { serializer: 'msgpack', parser: 'msgpack' },
] as const;

/** Runs /usr/bin/python3 with `args` (stdin optional); never rejects. */
export function runPython(args: readonly string[], stdin?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      PYTHON,
      [...args],
      { timeout: 20_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr: stderr || (error?.message ?? '') });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** Why python-socketio cannot be used here, or undefined when it can. */
export async function pythonSocketioMissing(): Promise<string | undefined> {
  const result = await runPython(['-c', 'import socketio, redis']);
  if (result.code === 0) return undefined;
  return `${PYTHON} -c 'import socketio, redis' failed (${result.stderr.trim().split('\n').pop() ?? ''}); install python3-socketio and python3-redis (.ci/run does)`;
}

/** Whether the run opted out of the python-socketio interop specs (`SKIP_PYTHON_INTEROP=1`). */
export function pythonOptedOut(): boolean {
  return process.env.SKIP_PYTHON_INTEROP === '1';
}

/** Prints a skip reason so nobody mistakes a skipped interop spec for a passing one. */
export function warnSkip(reason: string): void {
  console.warn(`\n  !!! SKIPPED python-socketio interop: ${reason}\n`);
}

/** A private redis-server child on its own port, which a spec may kill and restart. */
export class PrivateRedis {
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  /** Starts redis-server (again) on the same port; resolves once it accepts connections. */
  async up(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        `${this.port}`,
        '--bind',
        '127.0.0.1',
        // DEBUG SLEEP pauses the server (Redis 7 refuses DEBUG unless told).
        '--enable-debug-command',
        'local',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    this.#child = child;
    const up = await eventually(() => portOpen(this.port), 5000, 20);
    if (!up) throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Kills redis-server (its clients see their connections drop). */
  async down(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child !== undefined) await killChild(child);
  }

  /** Runs one command on a connection of its own (e.g. `CLIENT KILL TYPE pubsub`); resolves its reply. */
  async command(...args: string[]): Promise<unknown> {
    const admin = new Redis(this.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      const [name, ...rest] = args;
      return await admin.call(name ?? 'PING', ...rest);
    } finally {
      admin.disconnect();
    }
  }
}

/**
 * Publishes `payload` as it is on a channel (a Redis PUBLISH, or to the RabbitMQ fanout
 * exchange), as another program on the channel would.
 */
export async function publishRaw(url: string, channel: string, payload: string): Promise<void> {
  if (url.startsWith('redis')) {
    const client = new Redis(url, { maxRetriesPerRequest: 0 });
    try {
      await client.publish(channel, payload);
    } finally {
      client.disconnect();
    }
    return;
  }
  const model = await amqpConnect(url);
  try {
    const confirm = await model.createConfirmChannel();
    confirm.publish(channel, '', Buffer.from(payload));
    await confirm.waitForConfirms();
  } finally {
    await model.close();
  }
}

/** Runs `rabbitmqctl` with `args`; resolves what it printed (rejects when it fails). */
export function rabbitmqctl(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('rabbitmqctl', ['-q', ...args], { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error !== null)
        reject(new Error(`rabbitmqctl ${args.join(' ')}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Closes, as `rabbitmqctl close_connection` does (the broker says goodbye with
 * CONNECTION_FORCED), every RabbitMQ connection whose client side is on one of
 * `ports`; resolves how many it closed.
 */
export async function closeRabbitConnections(ports: readonly number[]): Promise<number> {
  const listing = await rabbitmqctl(['list_connections', '--no-table-headers', 'pid', 'peer_port']);
  const pids = listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, port]) => pid !== undefined && ports.includes(Number(port)))
    .map(([pid]) => pid as string);
  await Promise.all(
    pids.map((pid) => rabbitmqctl(['close_connection', pid, 'spec: closed by the broker'])),
  );
  return pids.length;
}

/**
 * A TCP relay in front of a broker or a server: it can stop accepting and cut every
 * relayed connection (the broker "disappears"), then accept again, to the same target or
 * (a load balancer sending a client elsewhere) another.
 */
export class Relay {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #outbound: Socket[] = [];

  constructor(
    readonly port: number,
    public target: number,
  ) {}

  static async create(target: number): Promise<Relay> {
    return new Relay(await freePort(), target);
  }

  /** Starts accepting on `port` and relaying to `target`. */
  async listen(): Promise<void> {
    const server = createServer((inbound) => {
      const outbound = createConnection({ host: '127.0.0.1', port: this.target });
      this.#sockets.add(inbound).add(outbound);
      this.#outbound = [...this.#outbound.filter((s) => !s.destroyed), outbound];
      const drop = (): void => {
        inbound.destroy();
        outbound.destroy();
        this.#sockets.delete(inbound);
        this.#sockets.delete(outbound);
      };
      inbound.on('error', drop).on('close', drop);
      outbound.on('error', drop).on('close', drop);
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  /** Stops accepting and cuts every relayed connection. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** How many connections are being relayed. */
  get connections(): number {
    return this.#sockets.size / 2;
  }

  /** The local ports of the relay's connections to the broker (its clients' ports, as the broker sees them). */
  get brokerSidePorts(): number[] {
    return this.#outbound.flatMap((s) =>
      s.localPort === undefined || s.destroyed ? [] : [s.localPort],
    );
  }
}
