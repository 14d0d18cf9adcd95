/**
 * The real side of the Engine.IO model-based property: an {@link EngineServer}
 * on 127.0.0.1 (port 0) with a {@link VirtualClock}, one session opened by a
 * raw client (hand-made polling requests and `ws` sockets), and everything each
 * side received, so {@link EngineRig.verify} can compare it with the
 * {@link EngineModel}.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { EngineServer, PHASES, VirtualClock } from '../../lib/index.js';
import type { EngineConnection, Phase } from '../../lib/index.js';
import { MAX_PAYLOAD, TIMINGS } from './engine-model.js';
import type { EngineModel, Payload } from './engine-model.js';
import { Inbox, RawPolling, RawWs, parseOpenPacket, splitPayload, waitFor } from './raw-engine.js';
import type { RawResponse } from './raw-engine.js';

/** Client messages starting with this are barriers, not data (see {@link EngineRig.sync}). */
const SYNC = '\u0000sync:';

const PROMPT_MS = 2000;

/** The wire form of a message over polling. */
export function pollingForm(payload: Payload): string {
  return typeof payload === 'string' ? `4${payload}` : `b${payload.toString('base64')}`;
}

/** A hand-driven session against a real engine. */
export class EngineRig {
  readonly clock = new VirtualClock();
  readonly engine: EngineServer;
  http!: Server;
  port = 0;
  conn!: EngineConnection;
  polling: RawPolling | null = null;
  /** The polling transport the session started on (its `writable` says a GET is held). */
  #pollingWritable: () => boolean = () => false;
  heldGet: Promise<RawResponse> | null = null;
  ws: RawWs | null = null;
  #wsRead = 0;
  probe: RawWs | null = null;
  #probeRead = 0;
  /** Server messages the client received, in order, across transports. */
  readonly received: Payload[] = [];
  closePackets = 0;
  pings = 0;
  /** Anything the client received that the protocol does not allow here. */
  readonly violations: string[] = [];
  /** Client messages the server delivered while the connection was open. */
  readonly serverReceived: Payload[] = [];
  /** Client messages the server delivered after the connection closed (must stay empty). */
  readonly afterClose: Payload[] = [];
  closeEvents = 0;
  #syncs = 0;
  #syncSent = 0;
  #sawClosed = false;

  private constructor() {
    this.engine = new EngineServer({
      clock: this.clock,
      pingInterval: TIMINGS.pingInterval / 1000,
      pingTimeout: TIMINGS.pingTimeout / 1000,
      upgradeTimeout: TIMINGS.upgradeTimeout / 1000,
      maxHttpBufferSize: MAX_PAYLOAD,
    });
  }

  /** Starts a server and opens one session over `transport`. */
  static async start(transport: 'polling' | 'websocket'): Promise<EngineRig> {
    const rig = new EngineRig();
    const connections = new Inbox<EngineConnection>();
    rig.engine.on('connection', (conn) => connections.push(conn));
    rig.http = rig.engine.attach(createServer());
    await new Promise<void>((resolve) => rig.http.listen(0, '127.0.0.1', resolve));
    rig.port = (rig.http.address() as AddressInfo).port;
    if (transport === 'polling') {
      rig.polling = await RawPolling.open(`http://127.0.0.1:${rig.port}/socket.io/`);
      rig.conn = await connections.next('the connection');
      const initial = rig.conn.transport;
      rig.#pollingWritable = () => initial.writable;
    } else {
      rig.ws = new RawWs(rig.#wsUrl());
      await rig.ws.opened;
      const open = await rig.ws.messages.next('the open packet');
      parseOpenPacket(String(open));
      rig.#wsRead = 1;
      rig.conn = await connections.next('the connection');
    }
    rig.conn.on('message', (data) => {
      if (typeof data === 'string' && data.startsWith(SYNC)) rig.#syncs++;
      else if (rig.conn.phase === 'closed') rig.afterClose.push(data);
      else rig.serverReceived.push(data);
    });
    rig.conn.on('close', () => rig.closeEvents++);
    return rig;
  }

  #wsUrl(sid?: string): string {
    const query = sid === undefined ? '' : `&sid=${encodeURIComponent(sid)}`;
    return `ws://127.0.0.1:${this.port}/socket.io/?EIO=4&transport=websocket${query}`;
  }

  get sid(): string {
    return this.conn.id;
  }

  #absorb(packet: string | Buffer): void {
    if (Buffer.isBuffer(packet)) return void this.received.push(packet);
    if (packet.startsWith('4')) this.received.push(packet.slice(1));
    else if (packet.startsWith('b')) this.received.push(Buffer.from(packet.slice(1), 'base64'));
    else if (packet === '2') this.pings++;
    else if (packet === '1') this.closePackets++;
    else if (packet !== '6') this.violations.push(`unexpected packet ${JSON.stringify(packet)}`);
  }

  #absorbResponse(res: RawResponse): void {
    if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.text}`);
    for (const packet of splitPayload(res.text)) this.#absorb(packet);
  }

  #drain(): void {
    const ws = this.ws;
    if (ws !== null) {
      const items = ws.messages.items;
      while (this.#wsRead < items.length) this.#absorb(items[this.#wsRead++] as string | Buffer);
    }
    const probe = this.probe;
    if (probe !== null) {
      const items = probe.messages.items;
      while (this.#probeRead < items.length) {
        const item = items[this.#probeRead++];
        if (item !== '3probe') this.violations.push(`probe got ${JSON.stringify(item)}`);
      }
    }
  }

  /** Issues a GET; resolves once the server answered it or holds it. */
  async get(): Promise<'held' | 'answered' | 'refused'> {
    const polling = this.polling;
    if (polling === null) throw new Error('no polling session');
    let res: RawResponse | undefined;
    const pending = polling.get().then((r) => (res = r));
    await waitFor(() => res !== undefined || this.#pollingWritable(), PROMPT_MS);
    if (res === undefined) {
      if (!this.#pollingWritable()) throw new Error('the GET was neither answered nor held');
      this.heldGet = pending;
      return 'held';
    }
    if (res.status === 400) return 'refused';
    this.#absorbResponse(res);
    return 'answered';
  }

  /** A POST on the polling session. */
  post(body: string | Buffer): Promise<RawResponse> {
    const polling = this.polling;
    if (polling === null) throw new Error('no polling session');
    return polling.post(body);
  }

  /** Sends a frame on the main WebSocket. */
  wsSend(data: string | Buffer): void {
    if (this.ws === null) throw new Error('no WebSocket');
    this.ws.send(data);
  }

  /** A barrier over the WebSocket: resolves once the server has handled all frames sent before. */
  async sync(): Promise<void> {
    const n = ++this.#syncSent;
    this.wsSend(`4${SYNC}${n}`);
    const ok = await waitFor(() => this.#syncs >= n, PROMPT_MS);
    if (!ok) throw new Error('the server did not handle a WebSocket barrier');
  }

  /** Opens a probe WebSocket for the session; `refused` when the upgrade request gets an HTTP error. */
  async openProbe(): Promise<{ ws: RawWs; outcome: 'open' | 'refused' }> {
    const ws = new RawWs(this.#wsUrl(this.sid));
    const outcome = await ws.opened.then(
      () => 'open' as const,
      () => 'refused' as const,
    );
    return { ws, outcome };
  }

  /** Adopts a probe as the session's probe. */
  setProbe(ws: RawWs | null): void {
    this.probe = ws;
    this.#probeRead = 0;
  }

  /** The probe became the main transport. */
  promoteProbe(): void {
    this.#drain();
    this.ws = this.probe;
    this.#wsRead = this.#probeRead;
    this.probe = null;
  }

  /** Waits until the client has caught up with what the model predicts. */
  async settle(model: EngineModel): Promise<void> {
    if (this.heldGet !== null && !model.getOutstanding) {
      const held = this.heldGet;
      this.heldGet = null;
      let res: RawResponse | undefined;
      held.then(
        (r) => (res = r),
        () => undefined,
      );
      await waitFor(() => res !== undefined, PROMPT_MS);
      if (res === undefined) throw new Error('the model expected the held GET to be answered');
      this.#absorbResponse(res);
    }
    await waitFor(() => {
      this.#drain();
      return (
        this.conn.phase === model.phase &&
        this.received.length >= model.delivered &&
        this.closePackets >= model.closePackets &&
        this.serverReceived.length >= model.clientSent.length &&
        (!model.gone || this.engine.clientsCount === 0)
      );
    }, PROMPT_MS);
    if (model.probe === 'none' && this.probe !== null) {
      const probe = this.probe;
      await waitFor(() => probe.socket.readyState === probe.socket.CLOSED, PROMPT_MS);
      this.#drain();
      this.probe = null;
    }
    const ws = this.ws;
    if (model.gone && ws !== null) {
      await waitFor(() => ws.socket.readyState === ws.socket.CLOSED, PROMPT_MS);
      this.#drain();
    }
  }

  /** The invariants, and agreement with the model. */
  verify(model: EngineModel): void {
    const phase: Phase = this.conn.phase;
    expect(PHASES, 'a known phase').to.include(phase);
    if (this.#sawClosed) expect(phase, 'closed is final').to.equal('closed');
    this.#sawClosed ||= phase === 'closed';
    expect(phase, 'phase').to.equal(model.phase);
    if (phase === 'closed') {
      expect(this.conn.closeReason, 'close reason').to.equal(model.reason);
      expect(this.closeEvents, 'one close event').to.equal(1);
    } else {
      expect(this.conn.closeReason, 'no close reason while open').to.equal(null);
      expect(this.closeEvents).to.equal(0);
    }
    expect(this.violations, 'unexpected packets').to.deep.equal([]);
    expect(this.received, 'server messages: exactly once, in order').to.deep.equal(
      model.sent.slice(0, model.delivered),
    );
    expect(this.closePackets, 'close packets received').to.equal(model.closePackets);
    expect(this.serverReceived, 'client messages: exactly once, in order').to.deep.equal(
      model.clientSent,
    );
    expect(this.afterClose, 'messages delivered after close').to.deep.equal([]);
    expect(this.engine.clientsCount, 'live sessions').to.equal(model.gone ? 0 : 1);
    if (model.getOutstanding) expect(this.#pollingWritable(), 'GET held').to.equal(true);
    if (this.engine.clientsCount === 0)
      expect(this.clock.pending, 'timers after the session is gone').to.equal(0);
    if (model.live) expect(this.clock.pending, 'heartbeat armed').to.be.greaterThan(0);
  }

  /** Ends the session if the commands did not, and checks that nothing is left behind. */
  async finish(): Promise<void> {
    try {
      if (this.conn.phase !== 'closed') this.conn.close();
      if (this.polling !== null && this.engine.connection(this.sid) !== undefined) {
        if (this.heldGet === null) await this.polling.get().catch(() => undefined);
      }
      await this.heldGet?.catch(() => undefined);
      await this.ws?.close();
      await this.probe?.close();
      expect(await waitFor(() => this.engine.clientsCount === 0, PROMPT_MS), 'session released').to
        .be.true;
      expect(this.clock.pending, 'timers left once every session is gone').to.equal(0);
      const counts = this.engine.phaseCounts();
      expect([counts.handshake, counts.connected, counts.upgrading]).to.deep.equal([0, 0, 0]);
      // No request or WebSocket of the session keeps a socket open on the server.
      let sockets = -1;
      const count = (): void => void this.http.getConnections((_, n) => (sockets = n));
      expect(
        await waitFor(() => {
          count();
          return sockets === 0;
        }, PROMPT_MS),
        'server sockets left',
      ).to.be.true;
    } finally {
      this.http.closeAllConnections();
      await new Promise<void>((resolve) => this.http.close(() => resolve()));
    }
  }
}
