/**
 * The real side and the commands of the Socket.IO model-based property
 * (spec/socketio/server.props.spec.ts): each command acts through the
 * clients, updates the {@link SioModel}, and checks deliveries, acks and calls.
 */
import { expect } from 'chai';
import type fc from 'fast-check';
import type { BroadcastSpec } from '../fixtures/protocol-handlers.js';
import type { ProtocolServer } from './protocol-server.js';
import { waitFor } from './raw-engine.js';
import { RealDriver, TestDriver } from './sio-drivers.js';
import type { Question, SioDriver } from './sio-drivers.js';
import type { SioModel, Target } from './sio-model.js';

/** Namespaces the clients use ('/nope' is not one: CONNECT_ERROR). */
export const NSPS = ['/', '/a'] as const;
/** Three test clients, then a socket.io-client over WebSocket and one over polling. */
export const TEST_CLIENTS = 3;
export const CLIENTS = TEST_CLIENTS + 2;
const CALL_TIMEOUT_S = 30;

/** One server call as the real side sees it. */
interface CallReal {
  settled: 'pending' | 'resolved' | 'rejected';
  value?: unknown[];
  error?: unknown;
}

/** The real side of one run. */
export class SioReal {
  readonly drivers: SioDriver[];
  readonly calls = new Map<number, CallReal>();
  /** Every (namespace, sid) a client had, for the leftover-rooms check. */
  readonly sids = new Set<string>();

  constructor(readonly server: ProtocolServer) {
    const { io, origin } = server;
    this.drivers = [
      ...Array.from({ length: TEST_CLIENTS }, (_, i) => new TestDriver(`test${i}`, io)),
      new RealDriver('ws', io, origin, 'websocket'),
      new RealDriver('polling', io, origin, 'polling'),
    ];
  }

  driver(client: number): SioDriver {
    const driver = this.drivers[client];
    if (driver === undefined) throw new Error(`no client ${client}`);
    return driver;
  }

  sid(client: number, nsp: string): string | undefined {
    return this.driver(client).sid(nsp);
  }

  /** The emit options for a target, with client indices turned into sids. */
  resolve(nsp: string, target: Target, id: number): BroadcastSpec {
    const to = [...target.rooms];
    if (target.toClient !== undefined) {
      const sid = this.sid(target.toClient, nsp);
      if (sid !== undefined) to.push(sid);
    }
    const whole = target.rooms.length === 0 && target.toClient === undefined;
    const skip = target.skip
      .map((c) => this.sid(c, nsp))
      .filter((s): s is string => s !== undefined);
    return { id, to: whole ? undefined : to, includeSelf: target.includeSelf, skip };
  }

  /** Round trips on every real client: what the server wrote before has arrived. */
  async syncAll(): Promise<void> {
    await Promise.all(this.drivers.map((d) => d.sync()));
  }
}

type Cmd = fc.AsyncCommand<SioModel, SioReal>;

/** After every step: deliveries, acks and calls agree with the model. */
export async function verify(m: SioModel, r: SioReal): Promise<void> {
  await r.syncAll();
  const problems = m.problems((c, nsp) => r.driver(c).received(nsp), NSPS);
  expect(problems, 'broadcast deliveries').to.deep.equal([]);
  for (const driver of r.drivers)
    for (const [ack, count] of driver.ackPackets)
      expect(count, `${driver.label}: ACK packets for ${ack}`).to.equal(1);
  for (const call of m.calls) {
    const real = r.calls.get(call.id);
    if (real === undefined) throw new Error(`call ${call.id} was never made`);
    if (call.state === 'pending') {
      expect(real.settled, `call ${call.id} to a connected client`).to.equal('pending');
      continue;
    }
    await waitFor(() => real.settled !== 'pending', 3000);
    expect(real.settled, `call ${call.id} after its client left`).to.equal('rejected');
    expect((real.error as { code?: unknown }).code).to.equal('SIO_ERR_DISCONNECTED');
  }
}

/** Records a client's sid in a namespace right after it connected. */
export function remember(r: SioReal, client: number, nsp: string): void {
  const sid = r.sid(client, nsp);
  if (sid !== undefined) r.sids.add(`${nsp} ${sid}`);
}

export class Connect implements Cmd {
  constructor(
    readonly client: number,
    readonly nsp: string,
    readonly refuse: boolean,
  ) {}
  check = (m: Readonly<SioModel>): boolean => !m.connected(this.client, this.nsp);
  async run(m: SioModel, r: SioReal): Promise<void> {
    const outcome = await r.driver(this.client).connect(this.nsp, { refuse: this.refuse });
    if (this.nsp === '/nope')
      expect(outcome).to.deep.equal({ ok: false, message: 'Invalid namespace' });
    else if (this.refuse)
      expect(outcome).to.deep.equal({ ok: false, message: 'Connection rejected by server' });
    else {
      expect(outcome).to.deep.equal({ ok: true });
      m.connect(this.client, this.nsp);
      remember(r, this.client, this.nsp);
    }
    await verify(m, r);
  }
  toString = (): string => `Connect(${this.client}, ${this.nsp}${this.refuse ? ', refused' : ''})`;
}

export class Disconnect implements Cmd {
  constructor(
    readonly client: number,
    readonly nsp: string,
  ) {}
  check = (m: Readonly<SioModel>): boolean => m.connected(this.client, this.nsp);
  async run(m: SioModel, r: SioReal): Promise<void> {
    await r.driver(this.client).disconnect(this.nsp);
    m.disconnect(this.client, this.nsp);
    await verify(m, r);
  }
  toString = (): string => `Disconnect(${this.client}, ${this.nsp})`;
}

export class Membership implements Cmd {
  constructor(
    readonly client: number,
    readonly nsp: string,
    readonly room: string,
    readonly join: boolean,
  ) {}
  check = (m: Readonly<SioModel>): boolean => m.connected(this.client, this.nsp);
  async run(m: SioModel, r: SioReal): Promise<void> {
    const event = this.join ? 'join' : 'leave';
    expect(await r.driver(this.client).emitAck(this.nsp, event, this.room)).to.deep.equal([true]);
    const joined = m.rooms(this.client, this.nsp);
    if (this.join) joined?.add(this.room);
    else joined?.delete(this.room);
    await verify(m, r);
  }
  toString = (): string =>
    `${this.join ? 'Join' : 'Leave'}(${this.client}, ${this.nsp}, ${this.room})`;
}

export class Echo implements Cmd {
  constructor(
    readonly client: number,
    readonly nsp: string,
    readonly value: unknown,
  ) {}
  check = (m: Readonly<SioModel>): boolean => m.connected(this.client, this.nsp);
  async run(m: SioModel, r: SioReal): Promise<void> {
    const acked = await r.driver(this.client).emitAck(this.nsp, 'echo', this.value);
    expect(acked).to.deep.equal([JSON.parse(JSON.stringify(this.value)) as unknown]);
    await verify(m, r);
  }
  toString = (): string => `Echo(${this.client}, ${this.nsp}, ${JSON.stringify(this.value)})`;
}

export class Broadcast implements Cmd {
  constructor(
    /** The sending client, or null for `io.emit` from outside any handler. */
    readonly from: number | null,
    readonly nsp: string,
    readonly target: Target,
  ) {}
  check = (m: Readonly<SioModel>): boolean =>
    this.from === null || m.connected(this.from, this.nsp);
  async run(m: SioModel, r: SioReal): Promise<void> {
    const id = m.nextId();
    const spec = r.resolve(this.nsp, this.target, id);
    if (this.from === null) {
      r.server.io.emit('msg', id, { namespace: this.nsp, to: spec.to, skipSid: spec.skip });
      m.broadcast(id, this.nsp, { ...this.target, includeSelf: true }, null);
    } else {
      expect(await r.driver(this.from).emitAck(this.nsp, 'bcast', spec)).to.deep.equal([true]);
      m.broadcast(id, this.nsp, this.target, this.from);
    }
    await verify(m, r);
  }
  toString = (): string =>
    `Broadcast(${this.from ?? 'server'}, ${this.nsp}, ${JSON.stringify(this.target)})`;
}

export class ServerCall implements Cmd {
  constructor(
    readonly client: number,
    readonly nsp: string,
    readonly answer: boolean,
  ) {}
  check = (m: Readonly<SioModel>): boolean => m.connected(this.client, this.nsp);
  async run(m: SioModel, r: SioReal): Promise<void> {
    const id = m.nextId();
    const sid = r.sid(this.client, this.nsp);
    if (sid === undefined) throw new Error('connected client without a sid');
    const real: CallReal = { settled: 'pending' };
    r.calls.set(id, real);
    const question: Question = { n: id, answer: this.answer };
    const done = r.server.io
      .call('question', question, { to: sid, namespace: this.nsp, timeout: CALL_TIMEOUT_S })
      .then(
        (value) => Object.assign(real, { settled: 'resolved', value }),
        (error: unknown) => Object.assign(real, { settled: 'rejected', error }),
      );
    if (this.answer && r.driver(this.client).answersCalls) {
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 3000))]);
      expect(real.settled, 'an answered call').to.equal('resolved');
      expect(real.value).to.deep.equal([id + 1]);
    } else m.calls.push({ id, client: this.client, nsp: this.nsp, state: 'pending' });
    await verify(m, r);
  }
  toString = (): string =>
    `ServerCall(${this.client}, ${this.nsp}${this.answer ? '' : ', unanswered'})`;
}

export class Kick implements Cmd {
  constructor(
    readonly client: number,
    readonly nsp: string,
  ) {}
  check = (m: Readonly<SioModel>): boolean => m.connected(this.client, this.nsp);
  async run(m: SioModel, r: SioReal): Promise<void> {
    await r.driver(this.client).kicked(this.nsp);
    m.disconnect(this.client, this.nsp);
    await verify(m, r);
  }
  toString = (): string => `Kick(${this.client}, ${this.nsp})`;
}

export class Drop implements Cmd {
  constructor(readonly client: number) {}
  check = (m: Readonly<SioModel>): boolean =>
    this.client >= TEST_CLIENTS && m.members.has(this.client);
  async run(m: SioModel, r: SioReal): Promise<void> {
    await r.driver(this.client).drop();
    m.disconnectAll(this.client);
    await verify(m, r);
  }
  toString = (): string => `Drop(${this.client})`;
}

/** One client's part in a burst. */
export type BurstOp =
  | {
      readonly kind: 'join' | 'leave';
      readonly client: number;
      readonly nsp: string;
      readonly room: string;
    }
  | { readonly kind: 'connect' | 'disconnect'; readonly client: number; readonly nsp: string }
  | { readonly kind: 'echo'; readonly client: number; readonly nsp: string; readonly value: number }
  | {
      readonly kind: 'bcast';
      readonly client: number;
      readonly nsp: string;
      readonly target: Target;
    };

function opValid(m: Readonly<SioModel>, op: BurstOp): boolean {
  const connected = m.connected(op.client, op.nsp);
  return op.kind === 'connect' ? !connected : connected;
}

/** Several clients act at once; `scheduler` picks the order in which they start. */
export class Burst implements Cmd {
  constructor(
    readonly ops: readonly BurstOp[],
    readonly scheduler: fc.Scheduler,
  ) {}
  check = (m: Readonly<SioModel>): boolean => this.ops.filter((op) => opValid(m, op)).length > 1;
  async run(m: SioModel, r: SioReal): Promise<void> {
    const plan = this.ops.filter((op) => opValid(m, op));
    const before = m.snapshot();
    const ids = new Map<BurstOp, number>();
    const specs = new Map<BurstOp, BroadcastSpec>();
    const targets = new Map<BurstOp, Target>();
    for (const op of plan)
      if (op.kind === 'bcast') {
        const id = m.nextId();
        ids.set(op, id);
        specs.set(op, r.resolve(op.nsp, op.target, id));
        // The skip list becomes sids here, before the burst: a client not connected now has
        // no sid to skip, and if it connects during the burst its new socket is not skipped
        // (socket.io's except(sid) works the same way).
        targets.set(op, {
          ...op.target,
          skip: op.target.skip.filter((c) => m.connected(c, op.nsp)),
        });
      }
    const started = plan.map((op) =>
      this.scheduler
        .schedule(Promise.resolve(op.kind), `${op.kind}#${op.client}`)
        .then(async () => {
          const driver = r.driver(op.client);
          switch (op.kind) {
            case 'connect':
              return driver.connect(op.nsp);
            case 'disconnect':
              return driver.disconnect(op.nsp);
            case 'join':
            case 'leave':
              return driver.emitAck(op.nsp, op.kind, op.room);
            case 'echo':
              return driver.emitAck(op.nsp, 'echo', op.value);
            case 'bcast':
              return driver.emitAck(op.nsp, 'bcast', specs.get(op));
          }
        }),
    );
    await this.scheduler.waitIdle();
    const results = await Promise.all(started);
    for (const [i, op] of plan.entries()) {
      const result = results[i];
      if (op.kind === 'connect') {
        expect(result).to.deep.equal({ ok: true });
        m.connect(op.client, op.nsp);
        remember(r, op.client, op.nsp);
      } else if (op.kind === 'disconnect') m.disconnect(op.client, op.nsp);
      else if (op.kind === 'echo') expect(result).to.deep.equal([op.value]);
      else expect(result, `${op.kind} acked`).to.deep.equal([true]);
      if (op.kind === 'join') m.rooms(op.client, op.nsp)?.add(op.room);
      if (op.kind === 'leave') m.rooms(op.client, op.nsp)?.delete(op.room);
    }
    for (const op of plan)
      if (op.kind === 'bcast')
        m.racingBroadcast(
          ids.get(op) ?? 0,
          op.nsp,
          targets.get(op) ?? op.target,
          op.client,
          before,
        );
    await verify(m, r);
  }
  toString = (): string =>
    `Burst(${this.ops.map((op) => `${op.kind}#${op.client}${op.nsp}`).join(' ')})`;
}
