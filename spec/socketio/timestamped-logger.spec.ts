/**
 * `timestampedLogger()`: each line starts with the clock's ISO 8601 time and the
 * level, debug lines only when asked for, and a server given it as `logger`
 * stamps its connection lines.
 */
import { expect } from 'chai';
import { SocketIO, timestampedLogger } from '../../lib/index.js';
import type { Logger } from '../../lib/index.js';

/** A logger that keeps each call's arguments, per level. */
function recording(): { logger: Logger; calls: Record<keyof Logger, unknown[][]> } {
  const calls: Record<keyof Logger, unknown[][]> = { debug: [], info: [], warn: [], error: [] };
  return {
    calls,
    logger: {
      debug: (...args) => void calls.debug.push(args),
      info: (...args) => void calls.info.push(args),
      warn: (...args) => void calls.warn.push(args),
      error: (...args) => void calls.error.push(args),
    },
  };
}

const NOON = new Date('2025-01-31T12:00:00.000Z');

describe('timestampedLogger()', function () {
  it('stamps each level with the time and the level, and keeps the arguments', function () {
    const { logger, calls } = recording();
    const log = timestampedLogger({ to: logger, now: () => NOON });
    const error = new Error('boom');
    log.info('client connected', 42);
    log.warn('slow');
    log.error('handler failed', error);
    log.debug('hidden');
    expect(calls.info).to.deep.equal([
      ['2025-01-31T12:00:00.000Z INFO socketio-actors:', 'client connected', 42],
    ]);
    expect(calls.warn).to.deep.equal([['2025-01-31T12:00:00.000Z WARN socketio-actors:', 'slow']]);
    expect(calls.error).to.deep.equal([
      ['2025-01-31T12:00:00.000Z ERROR socketio-actors:', 'handler failed', error],
    ]);
    expect(calls.debug, 'debug is off by default').to.deep.equal([]);
  });

  it('keeps debug lines with debug: true', function () {
    const { logger, calls } = recording();
    timestampedLogger({ to: logger, now: () => NOON, debug: true }).debug('sid abc');
    expect(calls.debug).to.deep.equal([
      ['2025-01-31T12:00:00.000Z DEBUG socketio-actors:', 'sid abc'],
    ]);
  });

  it('as a server logger, stamps its connection line', async function () {
    const { logger, calls } = recording();
    const io = new SocketIO({ logger: timestampedLogger({ to: logger, now: () => NOON }) });
    const client = await io.testClient();
    expect(client.isConnected()).to.equal(true);
    const first = calls.info[0];
    expect(first?.[0]).to.equal('2025-01-31T12:00:00.000Z INFO socketio-actors:');
    expect(first?.slice(1).join(' ')).to.match(/connect/);
    await io.stop();
  });
});
