/**
 * A load-generator process of the peer benchmark: holds its share of the
 * clients and runs the jobs the orchestrator sends over IPC, one at a time,
 * answering each with figures and the CPU time it spent.
 */
import { Agent } from 'node:http';
import { absoluteNow } from './load-jobs.js';
import type { ClientKind, CpuSpent, LoadJob, LoadReply } from './load-jobs.js';
import type { LoadClient } from './load-client.js';
import { WsLoadClient } from './load-client.js';
import { PollingLoadClient } from './load-polling.js';

/** How long after a window's end unanswered acks count as lost. */
const ACK_GRACE_MS = 5000;

let clients: LoadClient[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

/** Measures CPU and wall time of `fn`. */
async function metered<T>(fn: () => Promise<T>): Promise<T & CpuSpent> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await fn();
  const used = process.cpuUsage(cpu);
  return { ...result, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - start };
}

function open(kind: ClientKind, port: number, path: string): Promise<LoadClient> {
  if (kind === 'sio-polling') return PollingLoadClient.connect(port, agent);
  return WsLoadClient.connect(port, kind === 'raw-ws', path);
}

async function connect(job: Extract<LoadJob, { type: 'connect' }>): Promise<LoadReply> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | null = null;
  const reply = await metered(async () => {
    for (let i = 0; i < job.count; i += job.batch) {
      const size = Math.min(job.batch, job.count - i);
      const batch = await Promise.allSettled(
        Array.from({ length: size }, async () => {
          const start = performance.now();
          const client = await open(job.kind, job.port, job.path);
          if (job.timeEach) latencies.push(performance.now() - start);
          return client;
        }),
      );
      for (const outcome of batch) {
        if (outcome.status === 'fulfilled') {
          outcome.value.onEvent = countEvent;
          clients.push(outcome.value);
        } else {
          failed++;
          firstError ??= String(outcome.reason);
        }
      }
    }
    return {};
  });
  return { type: 'connected', count: clients.length, failed, latencies, firstError, ...reply };
}

/**
 * Keeps `inFlight` acks outstanding per client until `seconds` have passed,
 * then waits for the stragglers (up to a grace period; the rest are lost).
 */
function ackWindow(
  body: string,
  inFlight: number,
  seconds: number,
  latencies: number[] | null,
): Promise<{ count: number; lost: number }> {
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  let outstanding = 0;
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(grace);
      for (const client of clients) client.onAck = () => undefined;
      resolve({ count, lost: outstanding });
    };
    const grace = setTimeout(finish, seconds * 1000 + ACK_GRACE_MS);
    for (const client of clients) {
      client.onAck = (rtt) => {
        count++;
        outstanding--;
        latencies?.push(rtt);
        if (performance.now() < deadline) {
          outstanding++;
          client.ack(body);
        } else if (outstanding === 0) finish();
      };
      for (let i = 0; i < inFlight; i++) {
        outstanding++;
        client.ack(body);
      }
    }
    if (outstanding === 0) finish();
  });
}

async function ack(job: Extract<LoadJob, { type: 'ack' }>): Promise<LoadReply> {
  const body = JSON.stringify([job.event, job.data]);
  const latencies: number[] = [];
  const reply = await metered(() =>
    ackWindow(body, job.inFlight, job.seconds, job.collectLatency ? latencies : null),
  );
  // Microsecond resolution is plenty and halves the IPC message.
  const rounded = latencies.map((ms) => Math.round(ms * 1000) / 1000);
  return { type: 'acked', latencies: rounded, ...reply };
}

function emit(job: Extract<LoadJob, { type: 'emit' }>): LoadReply {
  const sender = clients[0];
  if (sender === undefined) return { type: 'failed', error: 'no client to send from' };
  const body = JSON.stringify([job.event, job.data]);
  const startedAt = absoluteNow();
  for (let i = 0; i < job.times; i++) sender.emit(body);
  return { type: 'emitted', startedAt };
}

/** Events received since the clients connected, and when the last one came. */
let received = 0;
let lastAt = 0;
const countEvent = (): void => {
  received++;
  lastAt = absoluteNow();
};

/**
 * Waits until every client has `perClient` events, or none arrives for `idleMs`
 * (`firstMs` until the first one of this job).
 */
async function awaitEvents(job: Extract<LoadJob, { type: 'await-events' }>): Promise<LoadReply> {
  const expected = clients.length * job.perClient;
  const before = received;
  const reply = await metered(
    () =>
      new Promise<object>((resolve) => {
        const since = absoluteNow();
        const check = setInterval(() => {
          const allowed = received === before ? job.firstMs : job.idleMs;
          if (received >= expected || absoluteNow() - Math.max(lastAt, since) > allowed) {
            clearInterval(check);
            resolve({});
          }
        }, 5);
      }),
  );
  return { type: 'events', received, expected, lastAt, ...reply };
}

function closeAll(): LoadReply {
  for (const client of clients) client.close();
  clients = [];
  received = 0;
  lastAt = 0;
  return { type: 'closed' };
}

async function run(job: LoadJob): Promise<LoadReply> {
  switch (job.type) {
    case 'connect':
      return connect(job);
    case 'ack':
      return ack(job);
    case 'emit':
      return emit(job);
    case 'await-events':
      return awaitEvents(job);
    case 'close':
      return closeAll();
  }
}

// Jobs run strictly one after another, in arrival order.
let queue: Promise<void> = Promise.resolve();
process.on('message', (job: LoadJob) => {
  queue = queue.then(async () => {
    const reply = await run(job).catch((error: unknown): LoadReply => ({
      type: 'failed',
      error: String(error),
    }));
    process.send?.(reply);
  });
});
process.on('disconnect', () => process.exit(0));
