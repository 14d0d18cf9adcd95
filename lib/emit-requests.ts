/**
 * What an emit asks for, once its options are resolved: the Socket.IO layer builds these and
 * fans them out; the message queue carries them to the other processes. Below both layers,
 * so that neither imports the other for them.
 *
 * @example
 * ```ts
 * const request: EmitRequest = { nsp: '/', event: 'news', args: ['hi'], to: ['lobby'] };
 * ```
 */

/** One emit, fully resolved. */
export interface EmitRequest {
  readonly nsp: string;
  readonly event: string;
  readonly args: readonly unknown[];
  /** Rooms to send to; undefined: the whole namespace. */
  readonly to: readonly string[] | undefined;
  readonly skip?: ReadonlySet<string>;
  /** Rooms whose members it skips (`except`). */
  readonly except?: readonly string[] | undefined;
  /** Dropped for a client whose transport cannot take it at once, instead of queued. */
  readonly volatile?: boolean;
  /** False: never compressed (WebSocket permessage-deflate, polling gzip). Default true. */
  readonly compress?: boolean;
  /** Only honoured when the emit reaches exactly one client named by its sid. */
  readonly callback?: ((...args: unknown[]) => unknown) | undefined;
  readonly ignoreQueue?: boolean;
  /** With connection state recovery: the offset the emitting process gave it (see LoggedPacket). */
  readonly origin?: string;
}

/** A `call()`: one client, waiting for its ack. */
export interface CallRequest {
  readonly nsp: string;
  readonly event: string;
  readonly args: readonly unknown[];
  readonly sid: string;
  readonly timeoutSeconds: number;
}

/** An emit that waits for the ack of every client it reaches (`emitWithAck`). */
export interface AcksRequest extends EmitRequest {
  readonly timeoutSeconds: number;
}
