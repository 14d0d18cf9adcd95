/**
 * The parts of cluster queries that need no broker, on a virtual clock: who counts as a live
 * process (members.ts) and when a query settles (queries.ts).
 */
import { expect } from 'chai';
import { VirtualClock } from '../../lib/index.js';
import { ClusterTimeoutError, ConnectionClosedError } from '../../lib/errors.js';
import { Members } from '../../lib/queues/members.js';
import { Queries } from '../../lib/queues/queries.js';

describe('cluster members (heartbeats)', function () {
  it('counts a process from its first beat, refreshes it on any message, forgets it when silent', function () {
    const clock = new VirtualClock();
    const gone: string[] = [];
    const members = new Members(clock, 3000, (id) => gone.push(id));
    expect(members.heard('a', undefined), 'a message before any beat').to.equal(false);
    expect(members.ids()).to.deep.equal([]);
    expect(members.heard('a', 'beat'), 'a newcomer').to.equal(true);
    expect(members.heard('a', 'beat'), 'known already').to.equal(false);
    clock.advance(2500);
    members.heard('a', undefined); // an emit refreshes it
    clock.advance(2500);
    members.sweep();
    expect(members.ids()).to.deep.equal(['a']);
    clock.advance(600);
    members.sweep();
    expect(members.ids()).to.deep.equal([]);
    expect(gone).to.deep.equal(['a']);
  });

  it('forgets a process at once when it says bye, and only once', function () {
    const clock = new VirtualClock();
    const gone: string[] = [];
    const members = new Members(clock, 3000, (id) => gone.push(id));
    members.heard('a', 'beat');
    members.heard('b', 'beat');
    members.heard('a', 'bye');
    members.heard('a', 'bye');
    expect(members.ids()).to.deep.equal(['b']);
    expect(members.has('a')).to.equal(false);
    expect(gone).to.deep.equal(['a']);
  });
});

/** Asks, keeping the id the query was sent with. */
function ask(
  queries: Queries,
  operation: string,
  members: readonly string[],
  ms: number,
): { id: number; answers: Promise<unknown[]> } {
  let id = -1;
  const answers = queries.ask(operation, members, ms, (sent) => {
    id = sent;
  });
  return { id, answers };
}

describe('cluster queries (settling)', function () {
  it('resolves at once when there is nobody to ask', async function () {
    const queries = new Queries(new VirtualClock());
    let sent = false;
    const answers = queries.ask('fetchSockets()', [], 5000, () => {
      sent = true;
    });
    expect(await answers).to.deep.equal([]);
    expect(sent, 'nothing is sent').to.equal(false);
    expect(queries.size).to.equal(0);
  });

  it('resolves once every member answered, each once, in arrival order', async function () {
    const queries = new Queries(new VirtualClock());
    const { id, answers } = ask(queries, 'q', ['a', 'b'], 5000);
    queries.answer(id, 'b', 2);
    queries.answer(id, 'b', 'again');
    queries.answer(id + 1, 'a', 'another query');
    queries.answer(id, 'z', 'a process it did not ask');
    queries.answer(id, 'a', 1);
    expect(await answers).to.deep.equal([2, 1]);
    expect(queries.size).to.equal(0);
  });

  it('stops waiting for a member that leaves', async function () {
    const queries = new Queries(new VirtualClock());
    const { id, answers } = ask(queries, 'q', ['a', 'b'], 5000);
    queries.answer(id, 'a', 1);
    queries.gone('b');
    expect(await answers).to.deep.equal([1]);
  });

  it('rejects after its timeout with what came and how many were expected', async function () {
    const clock = new VirtualClock();
    const queries = new Queries(clock);
    const { id, answers } = ask(queries, 'serverSideEmitWithAck("x")', ['a', 'b', 'c'], 2000);
    queries.answer(id, 'a', 'A');
    queries.gone('c');
    clock.advance(2000);
    const error = await answers.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ClusterTimeoutError);
    const timeout = error as ClusterTimeoutError;
    expect(timeout.code).to.equal('MQ_ERR_TIMEOUT');
    expect(timeout.answers).to.deep.equal(['A']);
    expect(timeout.responses).to.deep.equal(['A']);
    expect(timeout.message).to.equal(
      'serverSideEmitWithAck("x"): 1 of 2 processes answered within 2 s',
    );
    // A late answer changes nothing.
    queries.answer(id, 'b', 'B');
    expect(queries.size).to.equal(0);
  });

  it('rejects with the error of a query that cannot be sent, and keeps nothing', async function () {
    const queries = new Queries(new VirtualClock());
    const answers = queries.ask('q', ['a'], 5000, () => {
      throw new TypeError('Do not know how to serialize a BigInt');
    });
    const error = await answers.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TypeError);
    expect(queries.size).to.equal(0);
  });

  it('rejects what still waits when the server stops', async function () {
    const queries = new Queries(new VirtualClock());
    const { answers } = ask(queries, 'q', ['a'], 5000);
    queries.close('server shutdown');
    const error = await answers.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ConnectionClosedError);
    expect(queries.size).to.equal(0);
  });
});
