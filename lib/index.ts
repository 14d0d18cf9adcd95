/**
 * socketio-actors: the public API. Everything a user imports comes from here.
 */
export * from './errors.js';
export { EngineServer } from './engine/server.js';
export type { EngineServerEvents, PhaseCounts } from './engine/server.js';
export { EngineConnection } from './engine/connection.js';
export type {
  ConnectionRequest,
  EngineConnectionEvents,
  EngineSendOptions,
} from './engine/connection.js';
export type { CloseReason, Phase } from './engine/connection-machine.js';
export { PHASES } from './engine/connection-machine.js';
export type { EngineOptions, TransportName, CorsOrigins } from './engine/options.js';
export type {
  HttpCompressionOptions,
  PerMessageDeflateOptions,
  ZlibTuning,
} from './engine/compression.js';
export { handshakeOnly } from './engine/middleware.js';
export type { EngineMiddleware, EngineRequest } from './engine/middleware.js';
export {
  decodePacket,
  decodePayload,
  encodePacket,
  encodePacketText,
  encodePayload,
  PACKET_TYPES,
} from './engine/packets.js';
export type { Packet, PacketType } from './engine/packets.js';
export * from '../schedulers/scheduler.js';
export { EventLoopScheduler } from '../schedulers/event-loop.js';
export type { EventLoopSchedulerOptions } from '../schedulers/event-loop.js';
export { CooperativeScheduler } from '../schedulers/cooperative.js';
export type { CooperativeSchedulerOptions } from '../schedulers/cooperative.js';
export { realClock, VirtualClock } from '../schedulers/clock.js';
export { SocketIO } from './socketio/server.js';
export { BroadcastOperator } from './socketio/operator.js';
export { FetchedSocket } from './socketio/sockets.js';
export type { SocketHandshake, SocketSnapshot } from './socketio/sockets.js';
export type { ServerEmitOptions, SocketsOptions } from './socketio/server.js';
export type { SocketIOOptions, Logger } from './socketio/options.js';
export { timestampedLogger } from './socketio/timestamped-logger.js';
export type { TimestampedLoggerOptions } from './socketio/timestamped-logger.js';
export type { ConnectionStateRecoveryOptions } from './socketio/recovery.js';
export type { ParserName } from './socketio/codec.js';
export type { MessageQueueOptions } from './queues/options.js';
export type { QueueStats } from './queues/queue.js';
export type { BusStats } from './queues/pubsub.js';
export { Namespace } from './socketio/namespace.js';
export { TestClient } from './socketio/test-client.js';
export type { TestClientOptions, ReceivedEvent } from './socketio/test-client.js';
export { args, ack, Args } from './socketio/args.js';
export type {
  AckArgs,
  AckValue,
  CallResult,
  ClientToServerEvents,
  DeclaredClientToServer,
  DeclaredServerSide,
  DeclaredServerToClient,
  DefaultEventsMap,
  EventArgs,
  EventHandlerOf,
  ServerSideHandler,
  EventNames,
  EventNamesWithAck,
  EventsMap,
  FlaskEmitRest,
  Listener,
  OnEventNames,
  OnHandler,
  OperatorEmitArgs,
  ServerSideEvents,
  ServerToClientEvents,
  Session,
  SessionData,
} from './socketio/event-maps.js';
export {
  emit,
  send,
  joinRoom,
  leaveRoom,
  closeRoom,
  rooms,
  disconnect,
  call,
  request,
  session,
} from './socketio/context.js';
export type {
  CallOptions,
  EmitOptions,
  SendOptions,
  TargetOptions,
  RequestSnapshot,
} from './socketio/context.js';
export type {
  EventHandler,
  ErrorHandler,
  EventMiddleware,
  Middleware,
} from './socketio/registry.js';
export type { HandshakeRequest } from './socketio/socket.js';
export type { HttpSession } from './socketio/http-session.js';
export type { JsonCodec } from './socketio/packets.js';
export type { AppLike, KoaLike, ListenAddress, WebServer } from './engine/listen.js';
export { AsyncModeError, resolveAsyncMode } from '../schedulers/select.js';
export { MissingPackageError } from '../schedulers/optional-dependency.js';
