/**
 * Emitting: resolve the targets (rooms, skips), encode once, write the same
 * parts to every target; a single-client emit may carry an ack id.
 */
import { AcksTimeoutError, CallTimeoutError, DisconnectedError, UsageError } from '../errors.js';
import type { Clock } from '../../schedulers/scheduler.js';
import type { AcksRequest, CallRequest, EmitRequest } from '../emit-requests.js';
import type { PacketCodec } from './codec.js';
import { RESERVED_EVENTS } from './packets.js';
import type { AckWaiter, NamespaceSocket } from './socket.js';

export type { AcksRequest, CallRequest, EmitRequest } from '../emit-requests.js';

/** Checks an event name the server is about to emit. */
export function checkEventName(event: unknown): asserts event is string {
  if (typeof event !== 'string' || event === '')
    throw new UsageError('event name must be a non-empty string');
  if (RESERVED_EVENTS.has(event))
    throw new UsageError(`"${event}" is a reserved event name; pick another`);
}

/** The live sockets among `members` (sids), minus the skipped ones. */
export function resolveTargets(
  members: Iterable<string>,
  sockets: ReadonlyMap<string, NamespaceSocket>,
  request: Pick<EmitRequest, 'nsp' | 'skip'>,
): NamespaceSocket[] {
  const out: NamespaceSocket[] = [];
  for (const sid of members) {
    if (request.skip?.has(sid)) continue;
    const socket = sockets.get(sid);
    if (socket !== undefined && socket.nsp === request.nsp && socket.phase !== 'disconnected')
      out.push(socket);
  }
  return out;
}

/**
 * Writes an event to the targets. With a waiter and exactly one target named by
 * sid, the packet carries an ack id; otherwise the waiter is not used.
 * Returns how many clients it was written to.
 */
export function deliver(
  targets: readonly NamespaceSocket[],
  request: Pick<EmitRequest, 'nsp' | 'event' | 'args' | 'compress'>,
  waiter: AckWaiter | undefined,
  codec: PacketCodec,
): number {
  const single = targets.length === 1 ? targets[0] : undefined;
  const compress = request.compress !== false;
  if (waiter !== undefined && single !== undefined) {
    const id = single.expectAck(waiter);
    single.write(codec.encodeEvent(request.nsp, request.event, request.args, id), compress);
    return 1;
  }
  if (targets.length === 0) return 0;
  const parts = codec.encodeEvent(request.nsp, request.event, request.args);
  for (const socket of targets) socket.write(parts, compress);
  return targets.length;
}

/**
 * A waiter for `call()`: resolves with the ack arguments, rejects at once on
 * disconnect, or after the timeout on the scheduler's clock.
 */
export function callWaiter(
  clock: Clock,
  request: CallRequest,
): { waiter: AckWaiter; result: Promise<unknown[]> } {
  let waiter!: AckWaiter;
  const result = new Promise<unknown[]>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      settled = true;
      reject(new CallTimeoutError(request.event, request.timeoutSeconds));
    }, request.timeoutSeconds * 1000);
    let settled = false;
    waiter = {
      onAck(args) {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        resolve(args);
      },
      onDisconnect(reason) {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        reject(new DisconnectedError(reason));
      },
    };
  });
  return { waiter, result };
}

/**
 * Writes one packet, encoded once with one ack id, to every target and collects their acks
 * (each client's first ack argument, in the order they arrive). Resolves when all answered;
 * rejects with {@link AcksTimeoutError} after the timeout, or as soon as every client still
 * there has answered and the others disconnected.
 */
export function deliverWithAcks(
  targets: readonly NamespaceSocket[],
  request: AcksRequest,
  clock: Clock,
  codec: PacketCodec,
): Promise<unknown[]> {
  if (targets.length === 0) return Promise.resolve([]);
  let id = 0;
  for (const socket of targets) id = Math.max(id, socket.nextAckId);
  return new Promise<unknown[]>((resolve, reject) => {
    const responses: unknown[] = [];
    let waiting = targets.length;
    let gone = 0;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      for (const socket of targets) socket.takeAck(id);
      if (responses.length === targets.length) resolve(responses);
      else
        reject(
          new AcksTimeoutError(
            request.event,
            request.timeoutSeconds,
            responses,
            targets.length,
            gone,
          ),
        );
    };
    const timer = clock.setTimeout(finish, request.timeoutSeconds * 1000);
    const waiter: AckWaiter = {
      onAck(args) {
        if (settled) return;
        responses.push(args[0]);
        if (--waiting === 0) finish();
      },
      onDisconnect() {
        if (settled) return;
        gone++;
        if (--waiting === 0) finish();
      },
    };
    const parts = codec.encodeEvent(request.nsp, request.event, request.args, id);
    const compress = request.compress !== false;
    for (const socket of targets) {
      socket.expectAck(waiter, id);
      socket.write(parts, compress);
    }
  });
}
