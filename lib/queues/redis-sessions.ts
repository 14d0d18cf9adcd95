/**
 * Connection state recovery kept in Redis, so that a session outlives the process that kept
 * it: a client comes back after its server restarted gracefully, or on another process. It
 * works the way @socket.io/redis-streams-adapter does: sessions as keys with a TTL, and one
 * stream of every recoverable packet that any process emits.
 *
 *   process A                           Redis                              process A' or B
 *   client cut: keep(state, log) -----> <prefix>#session:<pid>  (TTL = maxDisconnectionDuration)
 *   emit to a room: append(route, p) -> <prefix>#stream  XADD MAXLEN ~ maxStreamLength
 *                                                        <----- take(pid, nsp, offset)
 *                                       one script: the session (deleted), the stream after it
 *   what it missed = its log after `offset`, then the stream entries that reach it and that
 *   the keeper had not received yet, each once (by origin), in order
 *
 * Which stream entries are new to a session: each process knows, of every other process that
 * emits, the sequence number of the last packet it received from it over the queue (see
 * {@link RedisSessionStore.append}); a keep writes those down. An entry of a process whose
 * number is written down is new when its own number is higher: a packet still in flight on
 * the queue when the session was kept (the keeper never wrote it to the socket) is one of
 * them. An entry of a process the keeper never heard from is new when it was added within
 * IN_FLIGHT_MARGIN_MS before the keep or later. So nothing published just before the keep is
 * lost, and nothing the client already has comes twice.
 *
 * What it cannot do: a process killed without a graceful stop (kill -9, a crash, the machine
 * gone) writes nothing, and the sessions it had (clients cut, or still connected) are lost;
 * their clients connect fresh. Packets from senders that do not use this store (a
 * python-socketio process, an external emitter without `store: 'redis'`) reach live and
 * in-memory sessions only.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../../schedulers/scheduler.js';
import type { EncodedParts } from '../encoded-parts.js';
import { newSession, setOwn } from '../own-keys.js';
import { binaryReplacer, binaryReviver } from './binary-json.js';
import { Offsets, splitOffset } from './offsets.js';
import { PacketLog } from './packet-log.js';
import { closedInTime, fulfilledWithin, loadBrokerClient } from './queue.js';
import { originOf, reaches } from './sessions.js';
import type {
  LoggedPacket,
  PacketRoute,
  RestoredSession,
  SessionLog,
  SessionState,
  SessionStore,
} from './sessions.js';

/** The bounds of a {@link RedisSessionStore}. */
export interface RedisSessionLimits {
  /** How long a session is kept after its client lost the connection (ms): its key's TTL. */
  readonly maxDisconnectionMs: number;
  /** Most packets one session keeps or misses; one that missed more connects fresh. */
  readonly maxPacketsPerSession: number;
  /** About how many packets the stream holds (XADD MAXLEN ~). */
  readonly maxStreamLength: number;
}

/** What a {@link RedisSessionStore} is built with. */
export interface RedisSessionSettings {
  /** A redis:// or rediss:// URL. */
  readonly url: string;
  /** Starts every key: `<prefix>#session:<pid>` and `<prefix>#stream`. */
  readonly prefix: string;
  readonly limits: RedisSessionLimits;
  readonly clock: Clock;
  /** Told why a session connects fresh. */
  readonly debug?: (line: string) => void;
  /** Told when Redis refuses or cannot be reached (once per outage). */
  readonly warn?: (line: string) => void;
}

/**
 * How long before a keep a packet of a process the keeper never heard from may have been
 * added to the stream and still be in flight to it. Pub/sub delivers in milliseconds; this
 * covers a slow moment.
 */
const IN_FLIGHT_MARGIN_MS = 5000;

/** How long `close()` waits for the sessions kept at shutdown to be written. */
const CLOSE_WRITE_BOUND_MS = 5000;

/**
 * Writes a session: its fields, with the time (Redis's clock, ms) it was kept, and its TTL.
 * KEYS: the session. ARGV: the session (JSON), its namespace, the TTL (ms).
 */
const KEEP_SCRIPT = `
local t = redis.call('TIME')
local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'session', ARGV[1], 'nsp', ARGV[2], 'at', string.format('%d', at))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/**
 * Takes a session (it is deleted) with the stream entries from IN_FLIGHT_MARGIN_MS before its
 * keep on, and whether entries of that range were trimmed away (then the session cannot be
 * restored whole). KEYS: the session, the stream. ARGV: its namespace, the margin (ms), the
 * stream's bound. Returns false, or { session, trimmed (0/1), entries }.
 */
const TAKE_SCRIPT = `
local kept = redis.call('HMGET', KEYS[1], 'session', 'nsp', 'at')
if not kept[1] or kept[2] ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1])
local from = math.max(0, tonumber(kept[3]) - tonumber(ARGV[2]))
local trimmed = 0
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
if first and tonumber(string.match(first[1], '^(%d+)')) > from then
  -- The stream starts after the range: entries of it were trimmed if any ever were (Redis 7
  -- counts what was added; before it, a full stream is taken to have been trimmed).
  local added, length = nil, redis.call('XLEN', KEYS[2])
  local info = redis.call('XINFO', 'STREAM', KEYS[2])
  for i = 1, #info, 2 do
    if info[i] == 'entries-added' then added = tonumber(info[i + 1]) end
  end
  if (added and added > length) or (not added and length >= tonumber(ARGV[3])) then
    trimmed = 1
  end
end
return { kept[1], trimmed, redis.call('XRANGE', KEYS[2], string.format('%d', from), '+') }
`;

/** A session as written to Redis. */
interface Written {
  readonly state: SessionState;
  readonly log: {
    /** The tag of the process whose log it was (its `start` is one of its numbers). */
    readonly tag: string;
    readonly start: number;
    readonly dropped: string | undefined;
    readonly packets: readonly LoggedPacket[];
  };
  /** By process tag: the last sequence number the keeper had received from it. */
  readonly seen: Record<string, number>;
}

/** A stream entry read back. */
interface StreamPacket {
  readonly route: PacketRoute;
  readonly packet: LoggedPacket;
}

const retryStrategy = (times: number): number => Math.min(100 * 2 ** Math.min(times, 6), 5000);

/**
 * Sessions kept in Redis, shared by every process on it.
 *
 * @example
 * ```ts
 * const store = new RedisSessionStore({
 *   url: 'redis://127.0.0.1:6379/0',
 *   prefix: 'socketio',
 *   limits: { maxDisconnectionMs: 120_000, maxPacketsPerSession: 1000, maxStreamLength: 10_000 },
 *   clock: realClock,
 * });
 * ```
 */
export class RedisSessionStore implements SessionStore {
  readonly #offsets = new Offsets();
  readonly #redis: Redis;
  readonly #stream: string;
  /** By process tag: the last sequence number received from it over the queue, and when (ms). */
  readonly #seen = new Map<string, { seq: number; at: number }>();
  /**
   * The last write given (a keep or an append): Redis answers one connection in order, so once
   * it settles every earlier one has.
   */
  #last: Promise<unknown> = Promise.resolve();
  /** Keeps that failed: their sessions are lost. */
  #lostKeeps = 0;
  /** A failure was reported and nothing has succeeded since: report no more. */
  #failing = false;

  constructor(private readonly settings: RedisSessionSettings) {
    const ioredis = loadBrokerClient<{ Redis: typeof Redis }>('ioredis', settings.url);
    this.#redis = new ioredis.Redis(settings.url, {
      connectionName: 'socketio-actors-sessions',
      // Commands go out in the order they are given, on this one connection: a keep before
      // a take of the same session (see Recovery.handOver). (Not enableAutoPipelining: ioredis
      // 5 loses the command name of callBuffer() with it.)
      maxRetriesPerRequest: 2,
      retryStrategy,
    });
    this.#redis.on('error', (error: Error) => this.#failed('connection', error));
    this.#stream = `${settings.prefix}#stream`;
  }

  get limits(): RedisSessionLimits {
    return this.settings.limits;
  }

  /** Sessions kept in this process's memory: none, they are in Redis. */
  get size(): number {
    return 0;
  }

  nextOffset(): string {
    return this.#offsets.next();
  }

  open(): PacketLog {
    return new PacketLog(this.limits.maxPacketsPerSession, this.#offsets.seq);
  }

  /** Always: any process may have kept a session that a packet reaches. */
  holds(): boolean {
    return true;
  }

  /**
   * A packet this process emitted goes to the stream; one from another process (it has an
   * origin) was added there by its sender, and only moves that sender's number on.
   */
  append(route: PacketRoute, packet: LoggedPacket): void {
    if (packet.origin !== undefined) {
      const from = splitOffset(packet.origin);
      if (from !== undefined)
        this.#seen.set(from.tag, { seq: from.seq, at: this.settings.clock.now() });
      return;
    }
    const fields: (string | Buffer)[] = [
      'route',
      JSON.stringify({
        nsp: route.nsp,
        to: route.to,
        skip: route.skip === undefined || route.skip.size === 0 ? undefined : [...route.skip],
        except: route.except === undefined || route.except.length === 0 ? undefined : route.except,
      }),
      'origin',
      packet.offset,
    ];
    // One field per part, named by its kind: binary parts go as they are.
    for (const part of packet.parts)
      fields.push(typeof part === 'string' ? 'text' : 'binary', part);
    this.#redis.xadd(this.#stream, 'MAXLEN', '~', this.limits.maxStreamLength, '*', ...fields).then(
      () => this.#succeeded(),
      (error: unknown) => this.#failed('XADD', error),
    );
  }

  /**
   * Resolves once Redis has run every write given before the call (one connection runs its
   * commands in order, so its answer to a PING comes after theirs); never rejects.
   *
   * @example
   * ```ts
   * store.append(route, packet);
   * await store.written(); // the packet is in the stream
   * ```
   */
  async written(): Promise<void> {
    await this.#redis.ping().catch(() => undefined);
  }

  keep(state: SessionState, log: SessionLog | undefined): void {
    if (!(log instanceof PacketLog)) return;
    const written: Written = {
      state,
      log: {
        tag: this.#offsets.tag,
        start: log.start,
        dropped: log.dropped,
        packets: log.packets(),
      },
      seen: this.#seenNow(),
    };
    this.#last = this.#redis
      .eval(
        KEEP_SCRIPT,
        1,
        this.#key(state.pid),
        JSON.stringify(written, binaryReplacer),
        state.nsp,
        this.limits.maxDisconnectionMs,
      )
      .then(
        () => this.#succeeded(),
        (error: unknown) => {
          this.#lostKeeps++;
          this.#failed(`keeping session ${state.sid}`, error);
        },
      );
  }

  async take(
    pid: string,
    nsp: string,
    offset: string | undefined,
  ): Promise<RestoredSession | undefined> {
    const reply = await this.#redis.callBuffer(
      'EVAL',
      TAKE_SCRIPT,
      2,
      this.#key(pid),
      this.#stream,
      nsp,
      IN_FLIGHT_MARGIN_MS,
      this.limits.maxStreamLength,
    );
    if (!Array.isArray(reply)) return undefined;
    const [body, trimmed, entries] = reply as [unknown, unknown, unknown];
    const written = readWritten(body);
    if (written === undefined) return undefined;
    const { state, log: kept, seen } = written;
    const say = this.settings.debug ?? (() => undefined);
    if (trimmed === 1) {
      say(
        `session ${state.sid}: the stream was trimmed past it (maxStreamLength); it connects fresh`,
      );
      return undefined;
    }
    const log = PacketLog.from(
      this.limits.maxPacketsPerSession,
      kept.start,
      kept.packets,
      kept.dropped,
    );
    const before = log.after(offset, this.#offsets.predates(offset, kept.start, kept.tag));
    if (before === undefined) {
      say(`session ${state.sid} lost packets it missed; it connects fresh`);
      return undefined;
    }
    const known = new Set(kept.packets.map(originOf));
    const later: LoggedPacket[] = [];
    for (const { route, packet } of readEntries(entries)) {
      const origin = originOf(packet);
      if (known.has(origin) || !reaches(route, state) || !isNew(origin, seen)) continue;
      known.add(origin);
      later.push(packet);
    }
    const missed = [...before, ...later];
    if (missed.length > this.limits.maxPacketsPerSession) {
      say(
        `session ${state.sid} missed more than ${this.limits.maxPacketsPerSession} packets; it connects fresh`,
      );
      return undefined;
    }
    const next = this.open();
    for (const packet of missed) next.push(packet);
    return { ...state, missed, log: next };
  }

  /**
   * Waits (CLOSE_WRITE_BOUND_MS at most, on the clock) until the sessions and packets given so
   * far are written (a connection still being made included), then closes the connection;
   * resolves whether every session was written.
   */
  async close(): Promise<boolean> {
    const { clock } = this.settings;
    const inTime = await fulfilledWithin(clock, this.#last, CLOSE_WRITE_BOUND_MS);
    // A Redis that does not answer QUIT is cut.
    if (!inTime || !(await closedInTime(clock, this.#redis.quit()))) this.#redis.disconnect();
    return inTime && this.#lostKeeps === 0;
  }

  #key(pid: string): string {
    return `${this.settings.prefix}#session:${pid}`;
  }

  /**
   * What this process has received from each process, itself included (everything it emitted
   * so far), leaving out processes silent for longer than the margin: their packets before the
   * keep are out of the stream range a take reads anyway.
   */
  #seenNow(): Record<string, number> {
    const seen = newSession() as Record<string, number>;
    const stale = this.settings.clock.now() - 2 * IN_FLIGHT_MARGIN_MS;
    for (const [tag, { seq, at }] of this.#seen) {
      if (at < stale) this.#seen.delete(tag);
      else setOwn(seen, tag, seq);
    }
    setOwn(seen, this.#offsets.tag, this.#offsets.seq - 1);
    return seen;
  }

  #succeeded(): void {
    this.#failing = false;
  }

  #failed(what: string, error: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.settings.warn?.(
      `connection state recovery: Redis ${what} failed (${reason}); sessions may connect fresh`,
    );
  }
}

/** Whether a stream entry came after what the keeper had received from its process. */
function isNew(origin: string, seen: Record<string, number>): boolean {
  const from = splitOffset(origin);
  if (from === undefined || !Object.hasOwn(seen, from.tag)) return true;
  return from.seq > (seen[from.tag] ?? -1);
}

const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

/** A session read back from Redis (undefined when it is not one this store wrote). */
function readWritten(body: unknown): Written | undefined {
  if (!Buffer.isBuffer(body)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'), binaryReviver);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || !isRecord(parsed.state) || !isRecord(parsed.log)) return undefined;
  const { state, log, seen } = parsed;
  const { pid, sid, nsp, rooms, data } = state;
  if (typeof pid !== 'string' || typeof sid !== 'string' || typeof nsp !== 'string')
    return undefined;
  if (!isStrings(rooms) || !isRecord(seen)) return undefined;
  const { tag, start, dropped, packets } = log;
  if (typeof tag !== 'string' || typeof start !== 'number' || !Array.isArray(packets))
    return undefined;
  if (dropped !== undefined && typeof dropped !== 'string') return undefined;
  const logged = packets.filter(isLoggedPacket);
  if (logged.length !== packets.length) return undefined;
  let session: Record<string, unknown> | undefined;
  if (isRecord(data)) {
    // Prototype-free, as every session here: a key like __proto__ stays a plain key.
    session = newSession();
    for (const [key, value] of Object.entries(data)) setOwn(session, key, value);
  }
  const numbers = newSession() as Record<string, number>;
  for (const [key, value] of Object.entries(seen))
    if (typeof value === 'number') setOwn(numbers, key, value);
  return {
    state: { pid, sid, nsp, rooms, data: session },
    log: { tag, start, dropped, packets: logged },
    seen: numbers,
  };
}

function isLoggedPacket(p: unknown): p is LoggedPacket {
  return (
    isRecord(p) &&
    typeof p.offset === 'string' &&
    (p.origin === undefined || typeof p.origin === 'string') &&
    Array.isArray(p.parts) &&
    p.parts.every((part) => typeof part === 'string' || Buffer.isBuffer(part))
  );
}

/** The stream entries of a take, read back (an entry that is not one of ours is left out). */
function readEntries(entries: unknown): StreamPacket[] {
  if (!Array.isArray(entries)) return [];
  const out: StreamPacket[] = [];
  for (const entry of entries) {
    const fields = Array.isArray(entry) ? (entry as unknown[])[1] : undefined;
    if (!Array.isArray(fields)) continue;
    const read = readEntry(fields);
    if (read !== undefined) out.push(read);
  }
  return out;
}

function readEntry(fields: unknown[]): StreamPacket | undefined {
  let route: PacketRoute | undefined;
  let origin: string | undefined;
  const parts: (string | Buffer)[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (!Buffer.isBuffer(name) || !Buffer.isBuffer(value)) return undefined;
    switch (name.toString('latin1')) {
      case 'route':
        route = readRoute(value.toString('utf8'));
        break;
      case 'origin':
        origin = value.toString('utf8');
        break;
      case 'text':
        parts.push(value.toString('utf8'));
        break;
      case 'binary':
        parts.push(value);
        break;
    }
  }
  if (route === undefined || origin === undefined || parts.length === 0) return undefined;
  const encoded: EncodedParts = parts;
  return { route, packet: { offset: origin, parts: encoded, origin } };
}

function readRoute(text: string): PacketRoute | undefined {
  let route: unknown;
  try {
    route = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(route) || typeof route.nsp !== 'string') return undefined;
  const { nsp, to, skip, except } = route;
  if (to !== undefined && !isStrings(to)) return undefined;
  if (skip !== undefined && !isStrings(skip)) return undefined;
  if (except !== undefined && !isStrings(except)) return undefined;
  return { nsp, to, skip: skip === undefined ? undefined : new Set(skip), except };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
