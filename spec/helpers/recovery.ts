/**
 * Helpers for the connection state recovery specs across processes: an official client
 * through a relay (a load balancer) that reconnects at once, the `welcome` the queue-server
 * fixture sends, the ticks a client received, and a cut its server has noticed.
 */
import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import { waitFor } from './raw-engine.js';
import { SioPeer, within } from './socketio.js';
import { eventually } from './queues.js';
import type { Relay, ServerProcess } from './queues.js';

/** A client through the relay that reconnects at once after a cut; connected. */
export async function viaRelay(relay: Relay): Promise<SioPeer> {
  const peer = new SioPeer(
    connect(`http://127.0.0.1:${relay.port}`, {
      forceNew: true,
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
    }),
  );
  await within(peer.opened, 'the first connection', 5000);
  return peer;
}

/** The `welcome` a server sends on connect: [sid, recovered, process index]. */
export async function welcome(peer: SioPeer, ms = 5000): Promise<[string, boolean, number]> {
  const greeting = await within(peer.next('welcome'), 'a welcome', ms);
  return greeting as [string, boolean, number];
}

/** The numbers of the `tick`s a peer received (each ends with its offset). */
export function ticks(peer: SioPeer): unknown[] {
  return peer.inbox('tick').items.map((args) => {
    expect(args, 'a kept packet ends with its offset').to.have.length(2);
    expect(args[1]).to.be.a('string');
    return args[0];
  });
}

/** The whole numbers from `from` up to (not including) `to`. */
export const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i);

/** Cuts the relay and waits until `owner` let the client's socket go, and the client saw it. */
export async function cutAndWait(
  relay: Relay,
  peer: SioPeer,
  sid: string,
  owner: ServerProcess,
): Promise<void> {
  await relay.cut();
  const noticed = await eventually(async () => {
    const sockets = (await owner.request({ op: 'fetchSockets', local: true })) as { id: string }[];
    return !sockets.some((s) => s.id === sid);
  }, 3000);
  expect(noticed, 'the owner noticed the cut').to.equal(true);
  expect(await waitFor(() => !peer.socket.connected, 3000), 'the client saw it').to.equal(true);
}
