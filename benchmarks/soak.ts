/**
 * `make soak`: holds SOAK_CONNECTIONS (default 10,000) connections for
 * SOAK_SECONDS (default 60) with random traffic (acked echoes and room
 * broadcasts), then prints connections held, messages sent/received/lost, peak
 * RSS and RSS per connection, and writes them to benchmarks/results/soak-<date>.json.
 * Not part of CI.
 */
import { progress, startServer } from './harness.js';
import { fileStamp, writeResult } from './results-files.js';
import type { ServerReady } from './server-process.js';
import { connectMany } from './wire.js';
import type { BenchClient } from './wire.js';

const connections = Number(process.env.SOAK_CONNECTIONS ?? 10_000);
const seconds = Number(process.env.SOAK_SECONDS ?? 60);
const mode = process.env.SOAK_MODE ?? 'event-loop';

const server = await startServer<ServerReady>('./server-process.js', {
  BENCH_MODE: mode,
  BENCH_PING_INTERVAL: '25',
});
const baseRss = await server.rss();
progress(`connecting ${connections} clients to a ${mode} server`);
const clients: BenchClient[] = await connectMany(server.ready.port, connections, 100);
let peakRss = await server.rss();
const heldRss = peakRss;
progress(`holding ${clients.length} connections for ${seconds} s with random traffic`);

let sent = 0;
let acked = 0;
let broadcastsSent = 0;
const pending = new Set<Promise<number>>();
const deadline = performance.now() + seconds * 1000;
let next = 0;
while (performance.now() < deadline) {
  // About 2,000 echoes and one broadcast per second, spread over random clients.
  for (let i = 0; i < 200; i++) {
    const client = clients[Math.floor(Math.random() * clients.length)];
    if (client === undefined) continue;
    sent++;
    const p = client.ack('echo', { n: i, text: 'soak' });
    pending.add(p);
    void p.then(() => {
      acked++;
      pending.delete(p);
    });
  }
  if (next++ % 10 === 0) {
    clients[0]?.emit('broadcast', { at: Date.now() });
    broadcastsSent++;
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  if (next % 10 === 0) peakRss = Math.max(peakRss, await server.rss());
}
await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 5000))]);
const deliveries = (): number => clients.reduce((n, c) => n + (c.events.get('news') ?? 0), 0);
// The last broadcasts may still be on their way to 10,000 clients read by this one process:
// count once every delivery arrived, or once none arrived for 3 s (the rest are lost).
let broadcastDeliveries = deliveries();
for (let quietMs = 0; broadcastDeliveries < broadcastsSent * clients.length && quietMs < 3000;) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  const now = deliveries();
  quietMs = now === broadcastDeliveries ? quietMs + 100 : 0;
  broadcastDeliveries = now;
}
const held = clients.length;
for (const c of clients) c.close();
await server.stop();

const file = writeResult(`soak-${fileStamp()}`, {
  date: new Date().toISOString(),
  mode,
  seconds,
  connectionsAsked: connections,
  connectionsHeld: held,
  echoes: { sent, acked, lost: sent - acked },
  broadcasts: {
    sent: broadcastsSent,
    deliveriesExpected: broadcastsSent * held,
    deliveriesReceived: broadcastDeliveries,
  },
  rssBytes: { idle: baseRss, holding: heldRss, peak: peakRss },
  rssPerConnectionBytes: (heldRss - baseRss) / held,
});

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
console.log(`
## Soak (${mode} mode, ${seconds} s)

| figure | value |
|---|---:|
| connections held | ${held.toLocaleString('en-US')} |
| acked echoes sent / received / lost | ${sent.toLocaleString('en-US')} / ${acked.toLocaleString('en-US')} / ${(sent - acked).toLocaleString('en-US')} |
| broadcasts / deliveries expected / received | ${broadcastsSent} / ${(broadcastsSent * held).toLocaleString('en-US')} / ${broadcastDeliveries.toLocaleString('en-US')} |
| server RSS idle / holding / peak | ${mb(baseRss)} / ${mb(heldRss)} / ${mb(peakRss)} |
| RSS per connection | ${((heldRss - baseRss) / held / 1024).toFixed(1)} KB |

JSON: ${file}
`);
