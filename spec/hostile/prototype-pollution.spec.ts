/**
 * Prototype pollution: payloads with `__proto__`, `constructor` and
 * `prototype` keys (as JSON text, so they arrive as own keys) in the CONNECT
 * auth, in event arguments, in session writes made by idiomatic handlers
 * (`session()[key] = value`, `Object.assign(session(), data)` — Flask's
 * `session.update()`), in acks, and as event, room and namespace names. None of
 * them may change Object.prototype (in the main thread or in the thread that
 * runs the handlers), another client's session, this client's own session, or
 * what a handler answers.
 */
import { expect } from 'chai';
import { trapProcessErrors, Witness } from '../helpers/hostile.js';
import type { ProcessErrorTrap } from '../helpers/hostile.js';
import { ASYNC_MODES_UNDER_TEST } from '../helpers/modes.js';
import { startProtocolServer } from '../helpers/protocol-server.js';
import type { ProtocolServer } from '../helpers/protocol-server.js';
import { RawSio } from '../helpers/socketio.js';

/** The poison, as JSON text: parsed, `__proto__` is an own key. */
const ADMIN = '{"role":"admin","isAdmin":true}';
const PROTO = `{"__proto__":${ADMIN}}`;
const CONSTRUCTOR = `{"constructor":{"prototype":${ADMIN}}}`;
const PROTOTYPE = `{"prototype":${ADMIN}}`;
const INHERITED_CLEAN = { added: [], role: null, isAdmin: null };

function snapshot(): { object: string[]; array: string[] } {
  return {
    object: Object.getOwnPropertyNames(Object.prototype).sort(),
    array: Object.getOwnPropertyNames(Array.prototype).sort(),
  };
}

/** A raw WebSocket Socket.IO client that sends exact JSON text. */
class Peer {
  #nextId = 1;
  private constructor(readonly raw: RawSio) {}

  static async connect(server: ProtocolServer, authJson?: string): Promise<Peer> {
    const raw = await RawSio.open(server.wsUrl);
    raw.send(`0${authJson ?? ''}`);
    const answer = await raw.nextText('the CONNECT answer');
    expect(answer, 'connected to /').to.match(/^0\{"sid":"[^"]+"\}$/);
    return new Peer(raw);
  }

  /** Emits `event` with arguments given as JSON text; resolves with the ack arguments. */
  async ask(event: string, ...argsJson: string[]): Promise<unknown[]> {
    const id = this.#nextId++;
    this.raw.send(`2${id}[${[JSON.stringify(event), ...argsJson].join(',')}]`);
    for (;;) {
      const packet = await this.raw.nextText(`the ack of ${event}`);
      if (packet.startsWith(`3${id}[`))
        return JSON.parse(packet.slice(`3${id}`.length)) as unknown[];
    }
  }

  /** The session as its handlers see it. */
  async privileges(): Promise<unknown[]> {
    return [...(await this.ask('role')), ...(await this.ask('admin'))];
  }

  close(): Promise<void> {
    return this.raw.ws.close();
  }
}

for (const mode of ASYNC_MODES_UNDER_TEST) {
  describe(`prototype pollution (${mode})`, function () {
    this.timeout(20_000);
    let server: ProtocolServer;
    let trap: ProcessErrorTrap;
    let witness: Witness;
    let bystander: Peer;
    const before0 = snapshot();

    before(async function () {
      trap = trapProcessErrors();
      server = await startProtocolServer(mode);
      witness = await Witness.connect(server.origin, 'websocket');
      bystander = await Peer.connect(server);
      expect(await bystander.ask('set', '"role"', '"user"')).to.deep.equal([true]);
    });

    afterEach(async function () {
      expect(snapshot(), 'Object.prototype and Array.prototype in the main thread').to.deep.equal(
        before0,
      );
      const fresh: Record<string, unknown> = {};
      expect([fresh.role, fresh.isAdmin], 'what a new object inherits').to.deep.equal([
        undefined,
        undefined,
      ]);
      expect(await bystander.privileges(), "another client's session").to.deep.equal([
        'user',
        false,
      ]);
      const newcomer = await Peer.connect(server);
      expect(await newcomer.privileges(), 'a new client').to.deep.equal(['guest', false]);
      expect(await newcomer.ask('inherited'), 'Object.prototype where handlers run').to.deep.equal([
        INHERITED_CLEAN,
      ]);
      await newcomer.close();
      await witness.verify();
    });

    after(async function () {
      witness.close();
      await bystander.close();
      trap.dispose();
      await server.io.stop();
      expect(trap.errors, 'errors that escaped to the process').to.deep.equal([]);
    });

    for (const [label, poison] of [
      ['__proto__', PROTO],
      ['constructor', CONSTRUCTOR],
      ['prototype', PROTOTYPE],
    ] as const) {
      it(`auth whose profile holds ${label} (copied with Object.assign) leaves the session plain`, async function () {
        const peer = await Peer.connect(server, `{"profile":${poison}}`);
        expect(await peer.privileges(), 'this client, after connecting').to.deep.equal([
          'guest',
          false,
        ]);
        await peer.close();
      });

      it(`a session update (Object.assign) with ${label} leaves the session plain`, async function () {
        const peer = await Peer.connect(server);
        expect(await peer.ask('adopt', poison)).to.deep.equal([true]);
        expect(await peer.privileges(), 'this client, after the update').to.deep.equal([
          'guest',
          false,
        ]);
        await peer.close();
      });
    }

    it('session()[key] = value with the keys __proto__, constructor and prototype leaves the session plain', async function () {
      const peer = await Peer.connect(server);
      for (const key of ['__proto__', 'constructor', 'prototype'])
        expect(await peer.ask('set', JSON.stringify(key), ADMIN)).to.deep.equal([true]);
      expect(await peer.privileges(), 'this client, after the writes').to.deep.equal([
        'guest',
        false,
      ]);
      await peer.close();
    });

    it('event arguments with __proto__ keep it as an own key; handlers read nothing through it', async function () {
      const peer = await Peer.connect(server);
      expect(await peer.ask('argRole', PROTO), 'a handler reading .role').to.deep.equal(['guest']);
      const [echoed] = await peer.ask('echo', PROTO);
      expect(Object.getPrototypeOf(echoed)).to.equal(Object.prototype);
      expect(Object.keys(echoed as object), 'echoed as an own key').to.deep.equal(['__proto__']);
      await peer.close();
    });

    it('an ack to a server call carrying __proto__ resolves call() with plain data', async function () {
      const peer = await Peer.connect(server);
      const sid = await sidOf(peer);
      const pending = server.io.call('question', 1, { to: sid, timeout: 5 });
      const question = await peer.raw.nextText('the question');
      const id = /^2(\d+)\[/.exec(question)?.[1];
      expect(id, `an event with an ack id: ${question}`).to.be.a('string');
      peer.raw.send(`3${id}[${PROTO}]`);
      const [answer] = await pending;
      expect((answer as Record<string, unknown>).role, 'read through the answer').to.equal(
        undefined,
      );
      expect(Object.keys(answer as object)).to.deep.equal(['__proto__']);
      await peer.close();
    });

    it('events, rooms and namespaces named after Object.prototype members are ordinary names', async function () {
      const peer = await Peer.connect(server);
      const other = await Peer.connect(server);
      for (const name of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'])
        peer.raw.send(`2${JSON.stringify([name, PROTO])}`);
      expect(await peer.ask('echo', '"still served"')).to.deep.equal(['still served']);
      for (const room of ['__proto__', 'constructor', 'hasOwnProperty'])
        expect(await peer.ask('join', JSON.stringify(room))).to.deep.equal([true]);
      const [joined] = await peer.ask('rooms');
      expect(joined).to.have.members([
        '__proto__',
        'constructor',
        'hasOwnProperty',
        await sidOf(peer),
      ]);
      expect(await other.ask('bcast', '{"id":7,"to":["__proto__"]}')).to.deep.equal([true]);
      expect(await peer.raw.nextText('the broadcast to room __proto__')).to.equal('2["msg",7]');
      for (const nsp of ['/__proto__', '/constructor', '/hasOwnProperty']) {
        peer.raw.send(`0${nsp},`);
        expect(await peer.raw.nextText(`the answer for ${nsp}`)).to.equal(
          `4${nsp},{"message":"Invalid namespace"}`,
        );
      }
      expect(await peer.ask('echo', '"after all that"')).to.deep.equal(['after all that']);
      await peer.close();
      await other.close();
    });
  });
}

/** The Socket.IO sid of a peer on '/', from its own rooms (a sid is a room). */
async function sidOf(peer: Peer): Promise<string> {
  const [list] = await peer.ask('rooms');
  const own = (list as string[]).filter(
    (room) => !['__proto__', 'constructor', 'hasOwnProperty'].includes(room),
  );
  if (own.length !== 1 || own[0] === undefined)
    throw new Error(`no own room in ${JSON.stringify(list)}`);
  return own[0];
}
