/**
 * `socketio-actors run app.js --processes 3` when a process dies: the front stops
 * sending new sessions to it at once (a handshake that meets it is retried on
 * another process), restarts it with the same index (its sessions start with
 * `p<i>.` again), spaces the restarts of a process that keeps dying by a doubling
 * back-off, and says each death and each return in its log. Clients of the other
 * processes lose nothing; clients of the dead one reconnect. Real CLI processes,
 * Redis as the message queue, official socket.io-client peers, `kill -9`.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import WebSocket from 'ws';
import { CliClients, CliServer, waitForHandshake } from '../helpers/cli.js';
import type { WhoAmI } from '../helpers/cli.js';
import { REDIS_URL, freePort, portOpen, uniqueChannel } from '../helpers/queues.js';
import { delay, rawRequest, waitFor } from '../helpers/raw-engine.js';
import type { SioPeer } from '../helpers/socketio.js';
import type { ClientOptions } from '../helpers/socketio.js';

const APP_JS = 'dist/spec/fixtures/cli-app.js';
const TRANSPORTS: readonly ClientOptions[] = [
  { transports: ['polling'] },
  { transports: ['websocket'] },
  {}, // polling, then the upgrade
];
const UNKNOWN_SESSION = { code: 1, message: 'Session ID unknown' };

/** Every line the CLI printed, with when it arrived. */
class Log {
  readonly lines: { readonly at: number; readonly text: string }[] = [];

  constructor(server: CliServer) {
    let partial = '';
    const take = (chunk: Buffer): void => {
      const at = performance.now();
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) this.lines.push({ at, text });
    };
    server.child.stdout?.on('data', take);
    server.child.stderr?.on('data', take);
  }

  /** The lines matching `pattern`, with the match. */
  matching(pattern: RegExp): { at: number; match: RegExpMatchArray }[] {
    return this.lines.flatMap(({ at, text }) => {
      const match = text.match(pattern);
      return match === null ? [] : [{ at, match }];
    });
  }

  /** Waits for a line matching `pattern`. */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<{ at: number; match: RegExpMatchArray }> {
    if (!(await waitFor(() => this.matching(pattern).length > 0, ms)))
      throw new Error(`no line matched ${String(pattern)}; the log: ${this.text()}`);
    return this.matching(pattern)[0] as { at: number; match: RegExpMatchArray };
  }

  text(): string {
    return JSON.stringify(this.lines.map((l) => l.text));
  }
}

/** The index of the process that owns a client's session (its Engine.IO sid is `p<i>.…`). */
function indexOf(peer: SioPeer): number {
  const sid = peer.socket.io.engine.id;
  const index = /^p(\d+)\./.exec(sid)?.[1];
  if (index === undefined) throw new Error(`a session id without a process index: ${sid}`);
  return Number(index);
}

/** One new session: its handshake, its namespace connect and a round trip. */
interface Attempt {
  readonly startedAt: number;
  readonly transport: string;
  readonly ok: boolean;
  readonly index: number | undefined;
  readonly error: string | undefined;
}

async function attemptSession(port: number, options: ClientOptions): Promise<Attempt> {
  const startedAt = performance.now();
  const transport = JSON.stringify(options.transports ?? 'polling+upgrade');
  const socket = connect(`http://127.0.0.1:${port}`, {
    forceNew: true,
    reconnection: false,
    timeout: 5000,
    ...options,
  });
  let index: number | undefined;
  // Which process answered the handshake, known before the namespace connects.
  socket.io.once('open', () => (index = Number(/^p(\d+)\./.exec(socket.io.engine.id)?.[1])));
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
      // A session whose process dies before the namespace connect ends without either.
      socket.once('disconnect', (reason) => reject(new Error(`disconnected: ${reason}`)));
      timer = setTimeout(() => reject(new Error('no connect within 5 s')), 5000);
    });
    await socket.timeout(5000).emitWithAck('whoami');
    return { startedAt, transport, ok: true, index, error: undefined };
  } catch (error) {
    return { startedAt, transport, ok: false, index, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
    socket.disconnect();
  }
}

/** New sessions in `lanes` loops, one after another in each, until stopped. */
class SessionLoad {
  readonly attempts: Attempt[] = [];
  #running = true;
  readonly #lanes: Promise<void>[];

  constructor(port: number, lanes: number) {
    this.#lanes = Array.from({ length: lanes }, async (_, lane) => {
      for (let n = lane; this.#running; n++) {
        this.attempts.push(await attemptSession(port, TRANSPORTS[n % TRANSPORTS.length] ?? {}));
      }
    });
  }

  failures(): Attempt[] {
    return this.attempts.filter((a) => !a.ok);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#lanes);
  }
}

/** Whether process `pid` exists (a zombie counts until its parent reaps it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids of the live processes in a process group. */
function groupPids(pgid: number): Promise<number[]> {
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'pid=', '-g', String(pgid)], (_error, stdout) =>
      resolve(
        stdout
          .split('\n')
          .map((line) => Number(line.trim()))
          .filter((pid) => pid > 0),
      ),
    );
  });
}

describe('socketio-actors run --processes 3: a process that dies', function () {
  this.timeout(60_000);
  const servers: CliServer[] = [];
  const clients = new CliClients();
  let scratch: string;

  before(async function () {
    if (!(await portOpen(6379)))
      throw new Error('Redis is not listening on 127.0.0.1:6379; run scripts/services.sh');
    scratch = await mkdtemp(join(tmpdir(), 'socketio-actors-restart-'));
  });

  after(async function () {
    await rm(scratch, { recursive: true, force: true });
  });

  afterEach(async function () {
    clients.close();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function cluster(
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ port: number; server: CliServer; log: Log }> {
    const port = await freePort();
    const server = CliServer.start(['run', APP_JS, '--processes', '3', '--port', String(port)], {
      CLI_SPEC_QUEUE: REDIS_URL,
      CLI_SPEC_CHANNEL: uniqueChannel('restart'),
      ...env,
    });
    servers.push(server);
    const log = new Log(server);
    await server.waitForOutput(/serving .* on http:\/\/\S+/);
    expect(await waitForHandshake(port), 'the handshake answers 200').to.equal(true);
    return { port, server, log };
  }

  /** A client of process `index` (clients are connected until one lands there). */
  async function clientOf(port: number, index: number): Promise<{ peer: SioPeer; who: WhoAmI }> {
    for (let i = 0; i < 12; i++) {
      const peer = await clients.connect(port);
      if (indexOf(peer) === index) return { peer, who: await clients.whoami(peer) };
      peer.socket.disconnect();
    }
    throw new Error(`no session landed on process ${index}`);
  }

  it('kill -9 under load: no handshake fails, other clients lose nothing, it comes back as the same index', async function () {
    const { port, log } = await cluster();
    const victim = 1;

    // Three clients on each process, on every transport, all in one room; they reconnect.
    const peers: { peer: SioPeer; index: number; who: WhoAmI }[] = [];
    for (let i = 0; i < 9; i++) {
      const peer = await clients.connect(port, { ...TRANSPORTS[i % 3], reconnection: true });
      // A client that reconnects joins again: rooms belong to a session.
      peer.socket.on('connect', () => void peer.socket.emit('join', 'everyone'));
      expect(await peer.emitAck('join', 'everyone')).to.deep.equal(['everyone']);
      peers.push({ peer, index: indexOf(peer), who: await clients.whoami(peer) });
    }
    expect(peers.map((p) => p.index).sort()).to.deep.equal([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const doomed = peers.filter((p) => p.index === victim);
    const survivors = peers.filter((p) => p.index !== victim);
    const victimPid = (doomed[0] as { who: WhoAmI }).who.pid;
    const sender = survivors[0] as { peer: SioPeer };

    // Broadcasts from a survivor, one every 10 ms, counted when acknowledged.
    let sent = 0;
    let broadcasting = true;
    const broadcasts = (async () => {
      while (broadcasting) {
        expect(await sender.peer.emitAck('shout', 'everyone', String(sent))).to.deep.equal([true]);
        sent++;
        await delay(10);
      }
    })();
    const load = new SessionLoad(port, 4);
    // A session of the victim's, to ask about after it died.
    const oldSid = await (async () => {
      for (;;) {
        const res = await rawRequest(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
        const sid = (JSON.parse(res.text.slice(1)) as { sid: string }).sid;
        if (sid.startsWith(`p${victim}.`)) return sid;
      }
    })();
    await delay(1000);

    process.kill(victimPid, 'SIGKILL');
    const killedAt = performance.now();
    const failedSince = (at: number): Attempt[] =>
      load.attempts.filter((a) => a.startedAt >= at && !a.ok);
    await delay(1500);
    expect(failedSince(killedAt), 'sessions begun in the 1.5 s after the kill').to.deep.equal([]);
    const died = await log.waitFor(
      new RegExp(
        `process ${victim} \\(pid ${victimPid}\\) was killed by SIGKILL; new sessions go to the others; restarting it in 100 ms`,
      ),
    );

    // The dead process's session: the protocol's unknown session, over polling and upgrade.
    const poll = await rawRequest(
      `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling&sid=${oldSid}`,
    );
    expect(poll.status).to.equal(400);
    expect(JSON.parse(poll.text)).to.deep.equal(UNKNOWN_SESSION);
    const upgrade = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(
        `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&sid=${oldSid}`,
      );
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('open', () => reject(new Error('the upgrade to a dead session was accepted')));
      ws.on('error', () => undefined);
    });
    expect(upgrade.status).to.equal(400);
    expect(JSON.parse(upgrade.body)).to.deep.equal(UNKNOWN_SESSION);

    const back = await log.waitFor(new RegExp(`process ${victim} is back \\(pid (\\d+), port`));
    expect(Number(back.match[1])).to.not.equal(victimPid);
    // New sessions reach it again.
    const servedAgain = await (async () => {
      for (;;) {
        const again = load.attempts.find((a) => a.index === victim && a.startedAt > back.at);
        if (again !== undefined) return again;
        await delay(10);
      }
    })();
    await delay(1000);
    await load.stop();
    broadcasting = false;
    await broadcasts;

    // Every session begun after the kill worked; one begun before it may only have been
    // lost with the victim.
    const afterKill = load.attempts.filter((a) => a.startedAt >= killedAt);
    const lostWithVictim = load.failures().filter((a) => a.startedAt < killedAt);
    expect(failedSince(killedAt), 'sessions begun after the kill').to.deep.equal([]);
    for (const failure of lostWithVictim) expect(failure.index, failure.error).to.equal(victim);
    expect(afterKill.length).to.be.greaterThan(20);

    // The survivors got every broadcast, once each, in order; none of them reconnected.
    const expected = Array.from({ length: sent }, (_, n) => String(n));
    for (const { peer, index } of survivors) {
      const texts = (): string[] =>
        peer.inbox('shout').items.map((args) => (args[0] as { text: string }).text);
      await waitFor(() => texts().length >= sent, 5000);
      expect(texts(), `a client of process ${index}`).to.deep.equal(expected);
      expect(peer.lifecycle).to.deep.equal(['connect']);
    }
    // The victim's clients reconnected, to a live process.
    for (const { peer } of doomed) {
      await waitFor(() => peer.lifecycle.filter((l) => l === 'connect').length === 2, 10_000);
      expect(peer.lifecycle[0]).to.equal('connect');
      expect(peer.lifecycle.filter((l) => l === 'connect')).to.have.length(2);
      expect((await clients.whoami(peer)).pid).to.not.equal(victimPid);
    }

    console.log(
      `      kill -9 of process ${victim}: the front stopped routing to it after ${(died.at - killedAt).toFixed(1)} ms,` +
        ` it was back after ${(back.at - killedAt).toFixed(0)} ms (first new session on it after ${(servedAgain.startedAt - killedAt).toFixed(0)} ms);` +
        ` sessions: ${load.attempts.length} (${afterKill.length} after the kill), failed after the kill: ${failedSince(killedAt).length},` +
        ` lost with the victim before it: ${lostWithVictim.length}; broadcasts: ${sent} sent, each survivor got all`,
    );
  });

  it('restarts a process that keeps dying with a doubling delay, serving on the others meanwhile', async function () {
    const flag = join(scratch, 'crash');
    const { port, log } = await cluster({ CLI_SPEC_CRASH_FLAG: flag });
    const victim = 1;
    const { who } = await clientOf(port, victim);
    await writeFile(`${flag}.${victim}`, 'exit at start\n');
    const load = new SessionLoad(port, 2);
    process.kill(who.pid, 'SIGKILL');

    const deaths = new RegExp(
      `process ${victim} \\(pid \\d+\\) (was killed by SIGKILL|exited with code 3); new sessions go to the others; restarting it in (\\d+) ms`,
    );
    await waitFor(() => log.matching(deaths).length >= 5, 20_000);
    await unlink(`${flag}.${victim}`);
    const back = await log.waitFor(new RegExp(`process ${victim} is back`), 20_000);
    await waitFor(() => load.attempts.some((a) => a.index === victim && a.startedAt > back.at));
    await load.stop();

    const lines = log.matching(deaths);
    const delays = lines.map(({ match }) => Number(match[2]));
    expect(lines[0]?.match[1]).to.equal('was killed by SIGKILL');
    for (const line of lines.slice(1)) expect(line.match[1]).to.equal('exited with code 3');
    expect(delays.slice(0, 5)).to.deep.equal([100, 200, 400, 800, 1600]);
    // Each restart waited its delay: the next death came no sooner.
    for (let i = 1; i < lines.length; i++)
      expect((lines[i]?.at ?? 0) - (lines[i - 1]?.at ?? 0)).to.be.at.least(delays[i - 1] ?? 0);
    expect(load.failures(), 'sessions during the crash loop').to.deep.equal([]);
    // Nothing went to it while it kept dying (its last death was logged 1.6 s before it was back).
    const lastDeath = lines.at(-1)?.at ?? 0;
    expect(
      load.attempts.filter((a) => a.index === victim && a.startedAt < lastDeath),
      'sessions on the dying process',
    ).to.deep.equal([]);
    expect(load.attempts.some((a) => a.index === victim && a.startedAt > back.at)).to.equal(true);
    console.log(
      `      crash loop: restart delays ${delays.join(', ')} ms; ${load.attempts.length} sessions meanwhile, ${load.failures().length} failed`,
    );
  });

  it('stops without restarting: SIGTERM to the front during a back-off ends it and every process', async function () {
    const flag = join(scratch, 'crash-stop');
    const { port, server, log } = await cluster({ CLI_SPEC_CRASH_FLAG: flag });
    const { who } = await clientOf(port, 2);
    await writeFile(`${flag}.2`, 'exit at start\n');
    process.kill(who.pid, 'SIGKILL');
    // Its third death: the next restart is 400 ms away.
    await log.waitFor(/process 2 \(pid \d+\) exited with code 3; .* restarting it in 400 ms/);
    const lines = log.lines.length;
    const pgid = server.child.pid ?? 0;
    process.kill(pgid, 'SIGTERM');
    await waitFor(() => server.exited, 5000);
    expect(server.child.exitCode).to.equal(0);
    await delay(600);
    expect(await groupPids(pgid), 'processes left after the front stopped').to.deep.equal([]);
    expect(log.lines.slice(lines).map((l) => l.text)).to.deep.equal([]);
  });

  it('holds a handshake while every process is down until one is back; 503 when none comes back', async function () {
    const flag = join(scratch, 'crash-all');
    const { port, log } = await cluster({ CLI_SPEC_CRASH_FLAG: flag });
    const pids: number[] = [];
    for (const index of [0, 1, 2]) pids.push((await clientOf(port, index)).who.pid);
    clients.close();

    // All three killed: they come back after 100 ms; a handshake meanwhile waits for one.
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await waitFor(() => pids.every((pid) => !alive(pid)));
    const held = await attemptSession(port, { transports: ['polling'] });
    expect(held.ok, held.error).to.equal(true);
    for (const index of [0, 1, 2]) await log.waitFor(new RegExp(`process ${index} is back`));

    // All three killed and dying at every start: after 5 s, 503 with the reason.
    pids.length = 0;
    for (const index of [0, 1, 2]) pids.push((await clientOf(port, index)).who.pid);
    clients.close();
    for (const index of [0, 1, 2]) await writeFile(`${flag}.${index}`, 'exit at start\n');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await log.waitFor(/process 2 \(pid \d+\) exited with code 3/);
    const before = performance.now();
    const res = await rawRequest(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
    expect(res.status).to.equal(503);
    expect(JSON.parse(res.text)).to.deep.equal({
      code: 3,
      message: 'No server process is up; retry shortly',
    });
    expect(performance.now() - before).to.be.within(4500, 7000);
  });
});
