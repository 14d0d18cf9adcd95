/**
 * The WebSocket transport frames packets itself (one buffer per text frame):
 * every size class of the frame length (7-bit, 16-bit, 64-bit), multi-byte
 * text and binary payloads must reach a standard client (`ws`) byte for byte,
 * in order, also when several are written in one tick.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { withEngine } from '../helpers/engine.js';
import type { EngineConnection } from '../../lib/index.js';
import { runParameters } from '../helpers/props.js';

/** Payload lengths around each boundary of the frame-length encoding. */
const BOUNDARIES = [0, 1, 124, 125, 126, 127, 65534, 65535, 65536, 70000];

describe('WebSocket frames written by the transport', function () {
  this.timeout(30000);

  it(
    'delivers text and binary messages of every length class, byte for byte and in order',
    withEngine({}, async (h) => {
      const ws = h.rawWs(`ws://127.0.0.1:${h.port}/socket.io/?EIO=4&transport=websocket`);
      await ws.opened;
      expect(await ws.messages.next('the open packet')).to.match(/^0\{/);
      const conn: EngineConnection = await h.connections.next('the connection');
      const sent: (string | Buffer)[] = [];
      for (const n of BOUNDARIES) {
        // 'é' is two bytes in UTF-8: the frame length is in bytes, not characters.
        sent.push('a'.repeat(n), 'é'.repeat(Math.floor(n / 2)), Buffer.alloc(n, n % 251));
      }
      for (const data of sent) conn.send(data); // one tick: all corked into one write
      for (const data of sent) {
        const got = await ws.messages.next('a message');
        if (typeof data === 'string') expect(got).to.equal(`4${data}`);
        else
          expect(Buffer.isBuffer(got) && got.equals(data), `binary of ${data.length}`).to.be.true;
      }
    }),
  );

  it(
    'property: any sequence of text and binary messages arrives unchanged and in order',
    withEngine({}, async (h) => {
      const ws = h.rawWs(`ws://127.0.0.1:${h.port}/socket.io/?EIO=4&transport=websocket`);
      await ws.opened;
      await ws.messages.next('the open packet');
      const conn: EngineConnection = await h.connections.next('the connection');
      const message = fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(message, { maxLength: 20 }), async (batch) => {
          for (const data of batch) conn.send(data);
          for (const data of batch) {
            const got = await ws.messages.next('a message');
            if (typeof data === 'string') expect(got).to.equal(`4${data}`);
            else expect(Buffer.isBuffer(got) && got.equals(data)).to.be.true;
          }
        }),
        runParameters(50, 10_000),
      );
    }),
  );

  it(
    'gives every client of a broadcast the same bytes, interleaved with other messages',
    withEngine({}, async (h) => {
      const clients = [0, 1, 2].map(() =>
        h.rawWs(`ws://127.0.0.1:${h.port}/socket.io/?EIO=4&transport=websocket`),
      );
      const conns: EngineConnection[] = [];
      for (const ws of clients) {
        await ws.opened;
        await ws.messages.next('the open packet');
        conns.push(await h.connections.next('a connection'));
      }
      const shared = `{"news":"${'ü'.repeat(200)}"}`;
      const plan: [number, string][] = [
        [0, shared],
        [1, shared],
        [0, 'only for 0'],
        [2, shared],
        [1, ''],
        [2, shared],
        [0, shared],
      ];
      for (const [i, data] of plan) conns[i]?.send(data);
      for (const [i, ws] of clients.entries()) {
        for (const [, data] of plan.filter(([to]) => to === i))
          expect(await ws.messages.next(`a message for ${i}`)).to.equal(`4${data}`);
      }
    }),
  );
});
