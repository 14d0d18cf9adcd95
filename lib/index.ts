/**
 * socketio-actors: the public API. Everything a user imports comes from here.
 */
export * from './errors.js';
export { EngineServer } from './engine/server.js';
export type { EngineServerEvents, PhaseCounts } from './engine/server.js';
export { EngineConnection } from './engine/connection.js';
export type { ConnectionRequest, EngineConnectionEvents } from './engine/connection.js';
export type { CloseReason, Phase } from './engine/connection-machine.js';
export { PHASES } from './engine/connection-machine.js';
export type { EngineOptions, TransportName, CorsOrigins } from './engine/options.js';
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
export { realClock, VirtualClock } from '../schedulers/clock.js';
