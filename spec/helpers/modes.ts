/**
 * The async modes the Socket.IO integration specs run under: every describe
 * block of spec/socketio/ is generated once per entry.
 */
export const ASYNC_MODES_UNDER_TEST = ['event-loop'] as const;
