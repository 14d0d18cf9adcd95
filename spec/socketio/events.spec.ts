/**
 * Receiving events from the official client: any number of arguments, nested
 * binary data both ways, `message` and `json`, and the catch-all `'*'`.
 */
import { expect } from 'chai';
import { ack, args, emit } from '../../lib/index.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { Inbox } from '../helpers/raw-engine.js';
import { CLIENT_TRANSPORTS, SioHarness, bytesOf } from '../helpers/socketio.js';

/** A plain object from a received value (chai needs a typed handle). */
function record(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new Error('expected an object');
  return value as Record<string, unknown>;
}

function list(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error('expected an array');
  return value as unknown[];
}

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`receiving events [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.start({ asyncMode }, transport);
      });
      afterEach(() => h.stop());

      it('passes every argument of an event to the handler', async function () {
        const calls = new Inbox<unknown[]>();
        h.io.on('many', (...values: unknown[]) => {
          calls.push(values);
        });
        h.io.on('none', (...values: unknown[]) => {
          calls.push(values);
        });
        const peer = await h.connect();
        const sent = ['text', 42, -1.5, true, null, { a: [1, 2, { b: 'c' }] }, [1, 'x', []]];
        peer.socket.emit('many', ...sent);
        peer.socket.emit('none');
        expect(await calls.next('the many event')).to.deep.equal(sent);
        expect(await calls.next('the none event')).to.deep.equal([]);
      });

      it('decodes nested binary data from the client', async function () {
        const calls = new Inbox<unknown[]>();
        h.io.on('upload', (...values: unknown[]) => {
          calls.push(values);
        });
        const peer = await h.connect();
        peer.socket.emit(
          'upload',
          {
            name: 'file.bin',
            file: Buffer.from([1, 2, 3]),
            parts: [new Uint8Array([4, 5]), { raw: new Uint8Array([6, 7, 8]).buffer }],
          },
          Buffer.from('top level'),
          'after',
        );
        const [first, second, third] = await calls.next('the upload');
        const upload = record(first);
        expect(upload.name).to.equal('file.bin');
        expect(bytesOf(upload.file)).to.deep.equal([1, 2, 3]);
        const parts = list(upload.parts);
        expect(bytesOf(parts[0])).to.deep.equal([4, 5]);
        expect(bytesOf(record(parts[1]).raw)).to.deep.equal([6, 7, 8]);
        expect(Buffer.from(bytesOf(second)).toString()).to.equal('top level');
        expect(third).to.equal('after');
      });

      it('sends nested binary data to the client (Buffer, ArrayBuffer, Uint8Array)', async function () {
        h.io.on('download', () =>
          emit(
            'file',
            args(
              {
                buffer: Buffer.from([9, 8]),
                nested: [new Uint8Array([7]), { arrayBuffer: new Uint8Array([6, 5]).buffer }],
              },
              'label',
            ),
          ),
        );
        const peer = await h.connect();
        peer.socket.emit('download');
        const [file, label] = await peer.next('file');
        const body = record(file);
        expect(bytesOf(body.buffer)).to.deep.equal([9, 8]);
        const nested = list(body.nested);
        expect(bytesOf(nested[0])).to.deep.equal([7]);
        expect(bytesOf(record(nested[1]).arrayBuffer)).to.deep.equal([6, 5]);
        expect(label).to.equal('label');
      });

      it("delivers the client's send() to the 'message' handler, with its ack", async function () {
        const messages = new Inbox<unknown[]>();
        h.io.on('message', (...values: unknown[]) => {
          messages.push(values);
          return `got ${String(values[0])}`;
        });
        const peer = await h.connect();
        peer.socket.send('hello', 2);
        expect(await messages.next('the message')).to.deep.equal(['hello', 2]);
        const response = await new Promise<unknown[]>((resolve) =>
          peer.socket.send('with ack', (...a: unknown[]) => resolve(a)),
        );
        expect(response).to.deep.equal(['got with ack']);
      });

      it("delivers a 'json' event to the json handler", async function () {
        const values = new Inbox<unknown>();
        h.io.on('json', (value: unknown) => {
          values.push(value);
        });
        const peer = await h.connect();
        peer.socket.emit('json', { kind: 'json', list: [1, 2] });
        expect(await values.next('the json event')).to.deep.equal({ kind: 'json', list: [1, 2] });
      });

      it("gives '*' (event, ...args) only for events without a handler of their own", async function () {
        const caught = new Inbox<unknown[]>();
        const known = new Inbox<unknown[]>();
        h.io.on('*', (event: string, ...values: unknown[]) => {
          caught.push([event, ...values]);
          return ack('caught', event);
        });
        h.io.on('known', (...values: unknown[]) => {
          known.push(values);
          return 'known';
        });
        const peer = await h.connect();
        expect(await peer.emitAck('known', 1)).to.deep.equal(['known']);
        expect(await peer.emitAck('unknown', 'a', { b: 2 })).to.deep.equal(['caught', 'unknown']);
        peer.socket.emit('other');
        await peer.sync();
        expect(known.items).to.deep.equal([[1]]);
        expect(caught.items).to.deep.equal([['unknown', 'a', { b: 2 }], ['other']]);
      });

      it("handles one client's events in arrival order", async function () {
        const order: number[] = [];
        h.io.on('step', async (n: number) => {
          // The first event waits longest: a concurrent server would finish it last.
          await h.io.sleep(n === 0 ? 0.05 : 0);
          order.push(n);
        });
        const peer = await h.connect();
        for (let n = 0; n < 5; n++) peer.socket.emit('step', n);
        await peer.sync();
        expect(order).to.deep.equal([0, 1, 2, 3, 4]);
      });
    });
  }
}
