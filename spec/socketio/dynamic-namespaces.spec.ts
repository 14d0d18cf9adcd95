/**
 * Dynamic namespaces: `namespace` in `io.on`, `io.use`, `io.onError` and a
 * class-based `Namespace` takes a RegExp or a predicate `(name, auth)`; each
 * matching name is a namespace of its own (its rooms, its emits), and a name
 * that matches nothing is refused with `Invalid namespace`. Every async mode,
 * every transport; in worker-pool mode the handlers run in the pool.
 */
import { expect } from 'chai';
import { OPERATOR_APP } from '../helpers/apps.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { CLIENT_TRANSPORTS, SioHarness } from '../helpers/socketio.js';

for (const asyncMode of ASYNC_MODES_UNDER_TEST) {
  for (const transport of CLIENT_TRANSPORTS) {
    describe(`dynamic namespaces [${asyncMode}, ${transport.name}]`, function () {
      let h: SioHarness;
      beforeEach(async function () {
        h = await SioHarness.withApp(asyncMode, transport, OPERATOR_APP);
      });
      afterEach(() => h.stop());

      it('gives each name a RegExp matches a namespace of its own, with its own rooms', async function () {
        const [one, oneBis, two] = await Promise.all([
          h.connect('/room-1'),
          h.connect('/room-1'),
          h.connect('/room-2'),
        ]);
        expect(await one.emitAck('whereami')).to.deep.equal(['/room-1']);
        expect(await two.emitAck('whereami')).to.deep.equal(['/room-2']);
        await one.emitAck('shout', 'hi one');
        h.io.of('/room-2').emit('shout', 'hi two');
        await Promise.all([oneBis.emitAck('whereami'), two.emitAck('whereami')]);
        expect(oneBis.inbox('shout').items).to.deep.equal([['hi one']]);
        expect(two.inbox('shout').items).to.deep.equal([['hi two']]);
        // Its error handler, registered with another RegExp of the same source.
        expect(await two.emitAck('fail')).to.deep.equal(['handled in /room-2: room failure']);
        expect((await h.peer('/room-x').refusal()).message).to.equal('Invalid namespace');
      });

      it('asks a predicate with the client auth; the middlewares of the pattern apply', async function () {
        const red = await h.connect('/team-red', { auth: { team: 'red', key: 'open' } });
        expect(await red.emitAck('whereami')).to.deep.equal(['/team-red']);
        expect(
          (await h.peer('/team-red', { auth: { team: 'blue', key: 'open' } }).refusal()).message,
        ).to.equal('Invalid namespace');
        expect(
          (await h.peer('/team-blue', { auth: { team: 'blue', key: 'shut' } }).refusal()).message,
        ).to.equal('Connection rejected by server');
      });

      it('takes a class-based Namespace for a pattern: this.namespace is the client namespace', async function () {
        const peer = await h.connect('/class-alpha');
        expect(await peer.emitAck('hello')).to.deep.equal([['/class-alpha', '/class-alpha']]);
      });
    });
  }
}
