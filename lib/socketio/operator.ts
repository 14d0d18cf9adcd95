/**
 * socket.io's chained emit: `io.to('room').except('muted').volatile.emit('tick', a, b)`.
 * Each step returns a new operator and leaves the one it was called on (and `io`) as it
 * was; `emit` takes the event's arguments as they are (socket.io's shape), where the
 * Flask-style `io.emit(event, data, options)` takes one data argument and options.
 */
import { UsageError } from '../errors.js';
import { settleAcks } from './context.js';
import type { AcksCallback, HubOps } from './context.js';
import type { EmitRequest } from './emitter.js';
import type {
  AckValue,
  DeclaredServerSide,
  DeclaredServerToClient,
  EventArgs,
  EventNames,
  EventNamesWithAck,
  EventsMap,
  OperatorEmitArgs,
  Session,
} from './event-maps.js';
import { namespaceName } from './registry.js';
import { FetchedSocket } from './sockets.js';
import type { SocketsTarget } from './sockets.js';

/** What an operator has gathered so far. */
interface Flags {
  readonly nsp: string;
  readonly to?: readonly string[];
  readonly except?: readonly string[];
  readonly local?: boolean;
  readonly volatile?: boolean;
  readonly compress?: boolean;
  readonly timeoutSeconds?: number;
}

/**
 * A promise that an app may leave unawaited (socket.io's `socketsJoin` and co. return nothing):
 * its rejection is logged by the hub and never crashes the process; `await` still sees it.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function rooms(fn: string, room: unknown): readonly string[] {
  const list = Array.isArray(room) ? (room as unknown[]) : [room];
  for (const r of list)
    if (typeof r !== 'string' || r === '')
      throw new UsageError(`${fn}(room): rooms are non-empty strings, got ${String(r)}`);
  return list as string[];
}

/**
 * An emit being put together. Made by `io.to`, `io.in`, `io.except`, `io.of`, `io.local`,
 * `io.volatile`, `io.compress` and `io.timeout`. Typed by its server's `ServerToClient` events
 * (`emit`, `emitWithAck`) and `SessionData` (the `data` of the sockets it fetches).
 *
 * @example
 * ```ts
 * io.to('game-7').except('spectators').volatile.emit('state', positions);
 * const votes = await io.of('/poll').timeout(5).emitWithAck('vote', question);
 * ```
 *
 * @group Application API
 */
export class BroadcastOperator<
  ServerToClient extends EventsMap<ServerToClient> = DeclaredServerToClient,
  SessionData extends object = Session,
  ServerSide extends EventsMap<ServerSide> = DeclaredServerSide,
> {
  constructor(
    private readonly ops: () => HubOps,
    private readonly flags: Flags,
  ) {}

  #with(flags: Partial<Flags>): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return new BroadcastOperator(this.ops, { ...this.flags, ...flags });
  }

  /**
   * Adds rooms (or sids) to send to; several calls add up.
   *
   * @example
   * ```ts
   * io.of('/chat').to('lobby').to('help').emit('notice', text);
   * ```
   */
  to(room: string | readonly string[]): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.#with({ to: [...(this.flags.to ?? []), ...rooms('to', room)] });
  }

  /**
   * The same as {@link to}.
   *
   * @example
   * ```ts
   * io.of('/chat').in('lobby').emit('notice', text);
   * ```
   */
  in(room: string | readonly string[]): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.#with({ to: [...(this.flags.to ?? []), ...rooms('in', room)] });
  }

  /**
   * Skips the members of these rooms (or these sids).
   *
   * @example
   * ```ts
   * io.to('table-3').except('folded').emit('card', card);
   * ```
   */
  except(
    room: string | readonly string[],
  ): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.#with({ except: [...(this.flags.except ?? []), ...rooms('except', room)] });
  }

  /**
   * This process's clients only, when several share a message queue.
   *
   * @example
   * ```ts
   * io.of('/chat').local.emit('restarting');
   * ```
   */
  get local(): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.#with({ local: true });
  }

  /**
   * Dropped, instead of queued, for each client whose transport cannot take it at once (a
   * WebSocket still writing, a polling client between requests); drops are counted in
   * `io.volatileDropped`. For state that the next message replaces (positions, cursors).
   *
   * @example
   * ```ts
   * io.to('game-7').volatile.emit('state', positions);
   * ```
   */
  get volatile(): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    return this.#with({ volatile: true });
  }

  /**
   * Whether the packet may be compressed (default true): `compress(false)` sends it plain
   * even when `perMessageDeflate` is on and it passes the threshold, and a polling response
   * holding nothing else stays plain too. For data that does not compress (already
   * compressed images, random bytes) or for latency.
   *
   * @example
   * ```ts
   * io.to('viewers').compress(false).emit('frame', jpegBytes);
   * ```
   */
  compress(compress: boolean): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    if (typeof compress !== 'boolean')
      throw new UsageError(`compress(flag): true or false, got ${String(compress)}`);
    return this.#with({ compress });
  }

  /**
   * How long {@link emitWithAck} waits for the acks, in seconds.
   *
   * @example
   * ```ts
   * const acks = await io.to('voters').timeout(10).emitWithAck('vote', question);
   * ```
   */
  timeout(seconds: number): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
    if (typeof seconds !== 'number' || !(seconds > 0))
      throw new UsageError(
        `timeout(seconds): a positive number of seconds, got ${String(seconds)}`,
      );
    return this.#with({ timeoutSeconds: seconds });
  }

  /**
   * Emits the event with its arguments. With a function as the last argument (socket.io's
   * shape) it waits for every client's ack like {@link emitWithAck} and calls it with
   * `(err, responses)`.
   *
   * @example
   * ```ts
   * io.to('lobby').emit('chat', text, from);
   * io.to('voters').timeout(10).emit('vote', question, (err, answers) => tally(err, answers));
   * ```
   */
  emit<E extends EventNames<ServerToClient>>(
    event: E,
    ...args: OperatorEmitArgs<ServerToClient, E>
  ): true;
  emit(event: string, ...args: unknown[]): true {
    return this.#emit(event, args);
  }

  #emit(event: string, args: readonly unknown[]): true {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const acks = this.#emitWithAck(event, args.slice(0, -1));
      settleAcks(this.ops(), event, acks, last as AcksCallback);
      return true;
    }
    this.ops().emit(this.#request(event, args));
    return true;
  }

  /**
   * Sends a `message` event (socket.io's `send`); not checked against the event map.
   *
   * @example
   * ```ts
   * io.to('lobby').send('plain message');
   * ```
   */
  send(...args: unknown[]): true {
    return this.#emit('message', args);
  }

  /**
   * Emits and resolves with every addressed client's ack value (its first ack argument), in
   * the order they arrive. Rejects with `AcksTimeoutError` (its `responses` are those that
   * came) when the timeout (60 s unless `timeout()` says) passes first, or as soon as every
   * client still connected has answered and the others disconnected.
   *
   * @example
   * ```ts
   * try {
   *   const answers = await io.to('voters').timeout(10).emitWithAck('vote', question);
   * } catch (error) {
   *   if (error instanceof AcksTimeoutError) console.log(error.responses); // those that came
   * }
   * ```
   */
  emitWithAck<E extends EventNamesWithAck<ServerToClient>>(
    event: E,
    ...args: EventArgs<ServerToClient, E>
  ): Promise<AckValue<ServerToClient, E>[]> {
    // What the clients acked, which the event map is the app's word for.
    return this.#emitWithAck(event, args) as Promise<AckValue<ServerToClient, E>[]>;
  }

  /**
   * Sends a server-side event to every other server process on the message queue and resolves
   * with each one's answer (the value its `io.onServerSide` handler returned), within the
   * operator's `timeout(seconds)` or the queue's `requestTimeout` (5 s by default). Rejects
   * with `ClusterTimeoutError` naming how many processes answered; a process that left meanwhile
   * is not waited for. Without a message queue it resolves with `[]`.
   *
   * @example
   * ```ts
   * const loads = await io.timeout(2).serverSideEmitWithAck('load?'); // e.g. [0.4, 0.7]
   * ```
   */
  serverSideEmitWithAck<E extends EventNamesWithAck<ServerSide>>(
    event: E,
    ...args: EventArgs<ServerSide, E>
  ): Promise<AckValue<ServerSide, E>[]> {
    // The other processes' answers, which the event map is the app's word for.
    return this.ops().serverSideEmit(event, args, true, this.flags.timeoutSeconds) as Promise<
      AckValue<ServerSide, E>[]
    >;
  }

  #emitWithAck(event: string, args: readonly unknown[]): Promise<unknown[]> {
    return this.ops().emitWithAck({
      ...this.#request(event, args),
      timeoutSeconds: this.flags.timeoutSeconds ?? 60,
    });
  }

  /**
   * The clients this operator reaches, as objects (see `FetchedSocket`).
   *
   * @example
   * ```ts
   * for (const socket of await io.of('/admin').in('on-call').fetchSockets()) socket.emit('page', incident);
   * ```
   */
  async fetchSockets(): Promise<FetchedSocket<ServerToClient, SessionData>[]> {
    const snapshots = await this.ops().fetchSockets(this.#target());
    return snapshots.map(
      (snapshot) => new FetchedSocket<ServerToClient, SessionData>(this.ops, snapshot),
    );
  }

  /**
   * Adds the clients this operator reaches to rooms.
   *
   * @example
   * ```ts
   * await io.in('r1').socketsJoin('r2');
   * ```
   */
  socketsJoin(room: string | readonly string[]): Promise<void> {
    return handled(this.ops().socketsOp(this.#target(), 'join', rooms('socketsJoin', room)));
  }

  /**
   * Removes the clients this operator reaches from rooms.
   *
   * @example
   * ```ts
   * await io.in('game-7').socketsLeave('game-7');
   * ```
   */
  socketsLeave(room: string | readonly string[]): Promise<void> {
    return handled(this.ops().socketsOp(this.#target(), 'leave', rooms('socketsLeave', room)));
  }

  /**
   * Disconnects the clients this operator reaches; with `close`, their whole connections.
   *
   * @example
   * ```ts
   * await io.of('/chat').in('banned').disconnectSockets(true);
   * ```
   */
  disconnectSockets(close = false): Promise<void> {
    return handled(this.ops().socketsOp(this.#target(), 'disconnect', [], close));
  }

  #target(): SocketsTarget {
    const { nsp, to, except, local } = this.flags;
    return { nsp, to, except, local };
  }

  #request(event: string, args: readonly unknown[]): EmitRequest {
    const { nsp, to, except, local, volatile, compress } = this.flags;
    return {
      nsp,
      event,
      args,
      to,
      except,
      volatile,
      compress,
      ignoreQueue: local,
      skip: undefined,
    };
  }
}

/**
 * The operator a namespace starts from (`io.of('/chat')`).
 *
 * @example
 * ```ts
 * startOperator(() => hub, '/chat').to('lobby').emit('hello');
 * ```
 */
export function startOperator<
  ServerToClient extends EventsMap<ServerToClient> = DeclaredServerToClient,
  SessionData extends object = Session,
  ServerSide extends EventsMap<ServerSide> = DeclaredServerSide,
>(
  ops: () => HubOps,
  namespace?: string,
): BroadcastOperator<ServerToClient, SessionData, ServerSide> {
  return new BroadcastOperator(ops, { nsp: namespaceName(namespace) });
}
