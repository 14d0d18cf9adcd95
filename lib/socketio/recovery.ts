/**
 * Connection state recovery (socket.io 4.6+), the Socket.IO side: the option, the offset on
 * each packet kept for a socket, the `pid` and `offset` of the CONNECT handshake, and which
 * disconnects keep a session. Where sessions are kept is a {@link SessionStore}
 * (lib/queues/sessions.ts).
 *
 *   server -> client   40{"sid":"S","pid":"P"}        the private id P, only with recovery
 *   server -> client   42["tick",1,"<offset>"]        a kept packet ends with its offset
 *   (transport cut; the server keeps S's rooms, session and what is sent to them)
 *   client -> server   40{"pid":"P","offset":"<last offset it read>",...auth}
 *   server -> client   40{"sid":"S","pid":"P"}        the same sid: socket.recovered is true
 *   server -> client   every packet after that offset, in order, then the live ones
 *
 * Only events without an ack id and not volatile carry an offset and are kept, as in
 * socket.io: an ack cannot be answered by a session that is gone.
 */
import { OptionError } from '../errors.js';
import { checkOptionNames } from '../option-names.js';
import { secondsOption, wholeOption } from '../option-values.js';
import { randomToken } from '../random.js';
import type { PubSub } from '../queues/pubsub.js';
import { originOf, reaches } from '../queues/sessions.js';
import type {
  LoggedPacket,
  PacketRoute,
  RestoredSession,
  SessionStore,
} from '../queues/sessions.js';
import type { PacketCodec } from './codec.js';
import type { EmitRequest } from './emitter.js';
import type { EncodedParts } from './packets.js';
import type { NamespaceSocket } from './socket.js';

/**
 * The `connectionStateRecovery` option: socket.io's two settings (with times in seconds, as
 * every time here) and the bounds of what is kept.
 *
 * @example
 * ```ts
 * new SocketIO({ connectionStateRecovery: { maxDisconnectionDuration: 60 } });
 * ```
 *
 * @group Options
 */
export interface ConnectionStateRecoveryOptions {
  /** Seconds a disconnected client's state is kept (socket.io: 2 minutes, in ms). Default 120. */
  maxDisconnectionDuration?: number;
  /** A recovered client skips the `io.use` middlewares. Default true, as in socket.io. */
  skipMiddlewares?: boolean;
  /**
   * Most packets kept per session: those written to a connected client (which a cut it has not
   * noticed yet may lose) and those sent to it while away. A client that missed more connects
   * fresh. Default 1000.
   */
  maxPacketsPerSession?: number;
  /**
   * Most disconnected sessions kept at once; past it the oldest is forgotten. Default 10000.
   * The memory store only: Redis keeps each one for its time.
   */
  maxSessions?: number;
  /**
   * Where sessions are kept. `'memory'` (the default): in the process that served the client;
   * with a message queue it hands them to another process the client comes back on, but they
   * end with the process. `'redis'`: in the Redis of the `messageQueue` URL (which must be a
   * redis:// one), or in the Redis at a `'redis://host:port/db'` URL given here; then a session
   * outlives the process that kept it (a graceful restart, a deploy), and every recoverable
   * packet any process emits goes to a Redis stream (see "Connection state recovery" in the
   * README). A process killed without a graceful stop (kill -9) cannot write its sessions.
   *
   * @example
   * ```ts
   * new SocketIO({
   *   messageQueue: 'redis://127.0.0.1:6379/0',
   *   connectionStateRecovery: { store: 'redis' },
   * });
   * ```
   */
  store?: 'memory' | 'redis' | `redis://${string}` | `rediss://${string}`;
  /**
   * With `store: 'redis'`: about how many packets the stream keeps (every recoverable packet of
   * every process goes to it; XADD MAXLEN ~). A session kept longer than the stream reaches back
   * connects fresh. Default 10000.
   */
  maxStreamLength?: number;
}

/** Where sessions are kept, once checked. */
export type RecoveryStore =
  { readonly kind: 'memory' } | { readonly kind: 'redis'; readonly url: string };

/** The recovery option after checking (times in milliseconds). */
export interface ResolvedRecoveryOptions {
  readonly maxDisconnectionMs: number;
  readonly skipMiddlewares: boolean;
  readonly maxPacketsPerSession: number;
  readonly maxSessions: number;
  readonly store: RecoveryStore;
  readonly maxStreamLength: number;
}

const RECOVERY_OPTION_NAMES: ReadonlySet<string> = new Set(
  Object.keys({
    maxDisconnectionDuration: true,
    skipMiddlewares: true,
    maxPacketsPerSession: true,
    maxSessions: true,
    store: true,
    maxStreamLength: true,
  } satisfies Record<keyof ConnectionStateRecoveryOptions, true>),
);

/**
 * Checks `connectionStateRecovery`: `true` or an object turns it on (with defaults for
 * what the object leaves out), `false` or nothing leaves it off. `messageQueue` is the
 * server's, which `store: 'redis'` uses.
 *
 * @example
 * ```ts
 * resolveRecoveryOptions({ maxDisconnectionDuration: 30 })?.maxDisconnectionMs; // 30000
 * resolveRecoveryOptions({ store: 'redis' }, 'redis://127.0.0.1:6379/0')?.store; // { kind: 'redis', url: 'redis://127.0.0.1:6379/0' }
 * resolveRecoveryOptions(undefined); // undefined: off
 * ```
 */
export function resolveRecoveryOptions(
  value: unknown,
  messageQueue?: string,
): ResolvedRecoveryOptions | undefined {
  if (value === undefined || value === false) return undefined;
  const name = 'connectionStateRecovery';
  if (value !== true && (typeof value !== 'object' || value === null || Array.isArray(value)))
    throw new OptionError(
      name,
      'true, false, or { maxDisconnectionDuration, skipMiddlewares, maxPacketsPerSession, maxSessions, store, maxStreamLength }',
      value,
    );
  const given: ConnectionStateRecoveryOptions = value === true ? {} : value;
  checkOptionNames(`new SocketIO(): ${name}`, given, RECOVERY_OPTION_NAMES);
  const skip = given.skipMiddlewares ?? true;
  if (typeof skip !== 'boolean')
    throw new OptionError(`${name}.skipMiddlewares`, 'true or false', skip);
  return {
    maxDisconnectionMs: secondsOption(
      `${name}.maxDisconnectionDuration`,
      given.maxDisconnectionDuration,
      120,
      0.001,
      86_400,
    ),
    skipMiddlewares: skip,
    maxPacketsPerSession: wholeOption(
      `${name}.maxPacketsPerSession`,
      given.maxPacketsPerSession,
      1000,
    ),
    maxSessions: wholeOption(`${name}.maxSessions`, given.maxSessions, 10_000),
    store: recoveryStore(given.store, messageQueue),
    maxStreamLength: wholeOption(`${name}.maxStreamLength`, given.maxStreamLength, 10_000),
  };
}

const isRedisUrl = (url: string): boolean => /^rediss?:\/\//i.test(url);

/** Checks `connectionStateRecovery.store`. */
function recoveryStore(value: unknown, messageQueue: string | undefined): RecoveryStore {
  const name = 'connectionStateRecovery.store';
  if (value === undefined || value === 'memory') return { kind: 'memory' };
  if (value === 'redis') {
    if (messageQueue !== undefined && isRedisUrl(messageQueue))
      return { kind: 'redis', url: messageQueue };
    throw new OptionError(
      name,
      `'redis' with a redis:// messageQueue (it uses that Redis; the messageQueue is ${messageQueue === undefined ? 'not set' : 'not a redis:// URL'}), or store: 'redis://host:6379/0' naming the Redis to use`,
      value,
    );
  }
  if (typeof value === 'string' && isRedisUrl(value)) return { kind: 'redis', url: value };
  throw new OptionError(name, "'memory', 'redis', or a redis:// or rediss:// URL", value);
}

/** A session one process hands another (its log stays behind: the new one starts its own). */
export type HandedOver = Omit<RestoredSession, 'log'>;

/** A session being handed over to this process, and the packets caught for it meanwhile. */
interface Handover {
  readonly nsp: string;
  readonly packets: { readonly route: PacketRoute; readonly packet: LoggedPacket }[];
  /** More were caught than a session's log holds. */
  overflow: boolean;
}

/**
 * The close reasons after which a client's sessions are kept: it lost its connection rather
 * than left (socket.io's RECOVERABLE_DISCONNECT_REASONS, in this engine's words). A client's
 * own DISCONNECT, a server's `disconnect()` and protocol errors are not among them.
 */
export const RECOVERABLE_REASONS: ReadonlySet<string> = new Set([
  'transport close',
  'transport error',
  'ping timeout',
  'forced close',
  'server shutdown',
]);

/** What a client asks in its CONNECT to recover, and its auth without it. */
export interface ResumeRequest {
  readonly auth: Record<string, unknown> | undefined;
  /** The private id of the session it had, when it asks to recover one. */
  readonly pid: string | undefined;
  /** The offset of the last kept packet it read (none when it read none). */
  readonly offset: string | undefined;
}

/**
 * Splits socket.io-client's recovery fields (`pid`, `offset`, which it puts in the CONNECT
 * auth) from the app's own auth, which handlers see as they sent it.
 *
 * @example
 * ```ts
 * readResume({ pid: 'P', offset: 'o1', token: 't' }); // { auth: { token: 't' }, pid: 'P', offset: 'o1' }
 * ```
 */
export function readResume(auth: Record<string, unknown> | undefined): ResumeRequest {
  const pid = auth?.pid;
  if (auth === undefined || typeof pid !== 'string')
    return { auth, pid: undefined, offset: undefined };
  const { pid: _pid, offset, ...rest } = auth;
  return {
    auth: Object.keys(rest).length === 0 ? undefined : rest,
    pid,
    offset: typeof offset === 'string' ? offset : undefined,
  };
}

/**
 * One server's recovery: stamps the packets it keeps, keeps sessions when their client is
 * cut off, and gives them back.
 *
 * @example
 * ```ts
 * const recovery = new Recovery(store, resolveRecoveryOptions(true)!, codec, (old) =>
 *   hub.removeSocket(old, 'transport close'),
 * );
 * recovery.emit(request, targets, bus); // written once to every target, logged, kept
 * ```
 */
export class Recovery {
  /**
   * Set with a message queue: asks the other processes for a session this one does not keep
   * (its client was served by another process before), which the one keeping it hands over.
   */
  elsewhere:
    | ((pid: string, nsp: string, offset: string | undefined) => Promise<HandedOver | undefined>)
    | undefined;

  /**
   * Sessions being handed over to this process: what it sends to their namespace meanwhile,
   * which neither the process that kept them (it let them go) nor their new socket (not in its
   * rooms yet) would otherwise keep. See {@link restore}.
   */
  readonly #handovers = new Set<Handover>();

  /**
   * The connected sockets by pid: a client may come back before this server has noticed that
   * its old connection died (a polling client between requests, a cut the network did not
   * report); its old socket is then let go, kept, and taken back at once.
   */
  readonly #live = new Map<string, NamespaceSocket>();

  constructor(
    readonly store: SessionStore,
    readonly options: ResolvedRecoveryOptions,
    private readonly codec: PacketCodec,
    /** Lets a socket go whose client has come back on a new connection (and keeps it). */
    private readonly supersede: (old: NamespaceSocket) => void,
  ) {}

  /**
   * An emit (no ack, not volatile): encoded once with a new offset as its last argument,
   * written to the targets and their logs, appended to the kept sessions it reaches, and
   * published without the offset (each process stamps its own). Returns the targets reached.
   */
  emit(request: EmitRequest, targets: readonly NamespaceSocket[], bus: PubSub | undefined): number {
    const { codec, store } = this;
    const { nsp, event, args } = request;
    const kept = store.holds(nsp);
    const caught = this.#handovers.size > 0;
    if (targets.length === 0 && !kept && !caught && bus === undefined) return 0;
    // Its offset also names it across processes (the origin of what they keep of it).
    const offset = store.nextOffset();
    if (targets.length > 0 || kept || caught) {
      const packet = { offset, parts: codec.encodeEvent(nsp, event, [...args, offset]) };
      const compress = request.compress !== false;
      for (const socket of targets) socket.writeLogged(packet, compress);
      if (kept) store.append(request, packet);
      if (caught) this.#catch(request, packet);
    }
    bus?.publishEmit({ ...request, origin: offset }, codec.encodeEvent(nsp, event, args));
    return targets.length;
  }

  /** Whether a packet for `nsp` may be kept: a kept session of it, or a handover under way. */
  keeps(nsp: string): boolean {
    return this.#handovers.size > 0 || this.store.holds(nsp);
  }

  /**
   * Parts from another process (this server's parser, no offset): stamped with an offset
   * of this process, then written and kept as {@link emit} does.
   */
  writeParts(
    route: PacketRoute,
    parts: EncodedParts,
    targets: readonly NamespaceSocket[],
    origin?: string,
  ): number {
    const kept = this.store.holds(route.nsp);
    const caught = this.#handovers.size > 0;
    if (targets.length === 0 && !kept && !caught) return 0;
    const offset = this.store.nextOffset();
    const stamped = this.codec.withOffset(route.nsp, parts, offset);
    if (stamped === undefined) {
      // Unreadable here: delivered as it came, and not kept.
      for (const socket of targets) socket.write(parts);
      return targets.length;
    }
    // A packet from elsewhere always has an origin (its own offset when the sender gave none):
    // a shared store tells the packets this process emitted by it.
    const packet: LoggedPacket = { offset, parts: stamped, origin: origin ?? offset };
    for (const socket of targets) socket.writeLogged(packet);
    if (kept) this.store.append(route, packet);
    if (caught) this.#catch(route, packet);
    return targets.length;
  }

  /**
   * Readies a connecting socket: the session its client asks for, when the store (or,
   * with a message queue, another process) still has it whole (the socket takes its sid and
   * session; the caller restores its rooms and writes what it missed), else a fresh one with
   * a new private id.
   */
  restore(
    socket: NamespaceSocket,
    resume: ResumeRequest,
  ): RestoredSession | undefined | Promise<RestoredSession | undefined> {
    const { pid, offset } = resume;
    if (pid === undefined) return this.#fresh(socket);
    const old = this.#live.get(pid);
    if (old !== undefined && old !== socket && old.nsp === socket.nsp) this.supersede(old);
    const taken = this.store.take(pid, socket.nsp, offset);
    if (!(taken instanceof Promise) && (taken !== undefined || this.elsewhere === undefined))
      return this.#adopt(socket, taken);
    // The session comes from elsewhere (a shared store, another process): what this process
    // sends to the namespace from now on is caught, since neither the keeper (it let the
    // session go) nor the new socket (not in its rooms yet) would keep it. A packet in both is
    // known by its origin (see #continued).
    const handover: Handover = { nsp: socket.nsp, packets: [], overflow: false };
    this.#handovers.add(handover);
    return this.#fetch(pid, socket.nsp, offset, taken).then(
      (session) => {
        this.#handovers.delete(handover);
        return this.#adopt(socket, session && this.#continued(session, handover));
      },
      () => {
        this.#handovers.delete(handover);
        return this.#fresh(socket);
      },
    );
  }

  /** The session the store took, or else the one another process hands over. */
  async #fetch(
    pid: string,
    nsp: string,
    offset: string | undefined,
    taken: RestoredSession | undefined | Promise<RestoredSession | undefined>,
  ): Promise<HandedOver | undefined> {
    const session = await taken;
    if (session !== undefined || this.elsewhere === undefined) return session;
    return this.elsewhere(pid, nsp, offset);
  }

  /**
   * A session from elsewhere as this process goes on with it: what the store or the keeper
   * gave, then what this process caught meanwhile that reaches it, all in a new log of this
   * process (undefined, so that the client connects fresh, when more was caught than a log
   * holds).
   */
  #continued(session: HandedOver, handover: Handover): RestoredSession | undefined {
    if (handover.overflow) return undefined;
    const handed = new Set(session.missed.map(originOf));
    const caught = handover.packets
      .filter(({ route, packet }) => reaches(route, session) && !handed.has(originOf(packet)))
      .map(({ packet }) => packet);
    const missed = [...session.missed, ...caught];
    if (missed.length > this.options.maxPacketsPerSession) return undefined;
    const log = this.store.open();
    for (const packet of missed) log?.push(packet);
    return {
      pid: session.pid,
      sid: session.sid,
      nsp: session.nsp,
      rooms: session.rooms,
      data: session.data,
      missed,
      log,
    };
  }

  /** Keeps a packet for the handovers under way, when it may reach theirs. */
  #catch(route: PacketRoute, packet: LoggedPacket): void {
    for (const handover of this.#handovers) {
      if (handover.nsp !== route.nsp) continue;
      if (handover.packets.length >= this.options.maxPacketsPerSession) handover.overflow = true;
      else handover.packets.push({ route, packet });
    }
  }

  /**
   * Another process's client asks for its session, which this process may keep: a socket
   * still live here (its cut not noticed yet) is let go and kept first; the session is then
   * taken (and forgotten here) and handed over as plain data, or undefined.
   */
  handOver(
    pid: string,
    nsp: string,
    offset: string | undefined,
  ): HandedOver | undefined | Promise<HandedOver | undefined> {
    const old = this.#live.get(pid);
    if (old !== undefined && old.nsp === nsp) this.supersede(old);
    const taken = this.store.take(pid, nsp, offset);
    const plain = (session: RestoredSession | undefined): HandedOver | undefined =>
      session && {
        pid: session.pid,
        sid: session.sid,
        nsp: session.nsp,
        rooms: session.rooms,
        data: session.data,
        missed: session.missed,
      };
    return taken instanceof Promise ? taken.then(plain) : plain(taken);
  }

  #adopt(
    socket: NamespaceSocket,
    session: RestoredSession | undefined,
  ): RestoredSession | undefined {
    if (session === undefined) return this.#fresh(socket);
    if (socket.isGone()) {
      // Its new connection died while the store answered: the session stays kept.
      this.store.keep(session, session.log);
      return undefined;
    }
    socket.startRecovery(session.pid, session.log, session);
    this.#live.set(session.pid, socket);
    return session;
  }

  #fresh(socket: NamespaceSocket): undefined {
    if (socket.isGone()) return undefined;
    const pid = randomToken(15);
    socket.startRecovery(pid, this.store.open());
    this.#live.set(pid, socket);
    return undefined;
  }

  /**
   * A socket going away: its session is kept when it was connected and its client lost the
   * connection (rather than left).
   */
  gone(socket: NamespaceSocket, rooms: Iterable<string>, reason: string): void {
    const pid = socket.pid;
    if (pid === undefined || this.#live.get(pid) !== socket) return;
    this.#live.delete(pid);
    if (!socket.connected || !RECOVERABLE_REASONS.has(reason)) return;
    this.store.keep(
      {
        pid,
        sid: socket.sid,
        nsp: socket.nsp,
        rooms: [...rooms],
        data: socket.ownSessionData(),
      },
      socket.log,
    );
  }
}
