/**
 * A load-generator process of the peer benchmark: holds its share of the
 * clients and runs the jobs the orchestrator sends over IPC, one at a time,
 * answering each with figures and the CPU time it spent.
 */
import { Agent } from 'node:http';
import { packetId } from './delivery-tally.js';
import { DeliveryWindow, PingGaps } from './load-watch.js';
import { absoluteNow, sourceAddress } from './load-jobs.js';
import type { ClientKind, CpuSpent, LoadJob, LoadReply } from './load-jobs.js';
import type { LoadClient } from './load-client.js';
import { WsLoadClient } from './load-client.js';
import { PollingLoadClient } from './load-polling.js';

/** How long after a window's end unanswered acks count as lost. */
const ACK_GRACE_MS = 5000;

let clients: LoadClient[] = [];
/** The broadcast ids being counted (the `expect` job), per client; null before the first. */
let deliveries: DeliveryWindow | null = null;
const pings = new PingGaps();
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

/** Measures CPU and wall time of `fn`. */
async function metered<T>(fn: () => Promise<T>): Promise<T & CpuSpent> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await fn();
  const used = process.cpuUsage(cpu);
  return { ...result, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - start };
}

function open(
  kind: ClientKind,
  port: number,
  path: string,
  localAddress: string | undefined,
): Promise<LoadClient> {
  if (kind === 'sio-polling') return PollingLoadClient.connect(port, agent);
  return WsLoadClient.connect(port, kind === 'raw-ws', path, localAddress);
}

/** Hooks a new client's broadcasts and pings to this process's counters. */
function adopt(client: LoadClient): void {
  const index = clients.length;
  clients.push(client);
  client.onEvent = (packet) => deliveries?.arrive(index, packetId(packet));
  client.onPing = () => pings.arrive(index);
}

async function connect(job: Extract<LoadJob, { type: 'connect' }>): Promise<LoadReply> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | null = null;
  const stopped = (): boolean =>
    job.limits !== null && (absoluteNow() > job.limits.stopAt || failed >= job.limits.maxFailures);
  const reply = await metered(async () => {
    for (let i = 0; i < job.count && !stopped(); i += job.batch) {
      const size = Math.min(job.batch, job.count - i);
      const batch = await Promise.allSettled(
        Array.from({ length: size }, async (_, k) => {
          const start = performance.now();
          const source =
            job.sourceIndex === null ? undefined : sourceAddress(job.sourceIndex + i + k);
          const client = await open(job.kind, job.port, job.path, source);
          if (job.timeEach) latencies.push(performance.now() - start);
          return client;
        }),
      );
      for (const outcome of batch) {
        if (outcome.status === 'fulfilled') adopt(outcome.value);
        else {
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
  const senders = clients.slice(0, job.senders);
  if (senders.length < job.senders)
    return { type: 'failed', error: `${job.senders} senders asked, ${clients.length} clients` };
  const bodies = Array.from({ length: job.count }, (_, k) =>
    JSON.stringify([job.event, { i: job.firstId + k, text: job.text }]),
  );
  const startedAt = absoluteNow();
  bodies.forEach((body, k) => senders[k % senders.length]?.emit(body));
  return { type: 'emitted', startedAt };
}

async function awaitDeliveries(
  job: Extract<LoadJob, { type: 'await-deliveries' }>,
): Promise<LoadReply> {
  const window = deliveries;
  if (window === null) return { type: 'failed', error: 'await-deliveries before expect' };
  const reply = await metered(async () => {
    await window.settled(job.idleMs, job.firstMs);
    return window.figures;
  });
  return { type: 'deliveries', ...reply };
}

function closeAll(): LoadReply {
  for (const client of clients) client.close();
  clients = [];
  deliveries = null;
  pings.reset();
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
    case 'expect':
      deliveries = new DeliveryWindow(job.firstId, job.count, clients.length);
      return { type: 'expecting' };
    case 'await-deliveries':
      return awaitDeliveries(job);
    case 'ping-gaps':
      return { type: 'ping-gaps', gaps: await pings.during(job.seconds) };
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
