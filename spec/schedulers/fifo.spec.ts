/**
 * Fifo against an array as the model: any sequence of push, shift, peek and drain
 * (long enough to pass the compaction point) gives the model's answers.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Fifo } from '../../schedulers/fifo.js';
import { runParameters } from '../helpers/props.js';

type Op =
  | { readonly type: 'push'; readonly count: number }
  | { readonly type: 'shift'; readonly count: number }
  | { readonly type: 'drain' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.integer({ min: 1, max: 3000 }).map((count) => ({ type: 'push', count }) as const),
    weight: 3,
  },
  {
    arbitrary: fc
      .integer({ min: 1, max: 3000 })
      .map((count) => ({ type: 'shift', count }) as const),
    weight: 3,
  },
  { arbitrary: fc.constant({ type: 'drain' } as const), weight: 1 },
);

describe('Fifo', function () {
  it('answers as an array does, in order, through compactions and drains', function () {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const fifo = new Fifo<number>();
        const model: number[] = [];
        let next = 0;
        for (const step of ops) {
          if (step.type === 'push') {
            for (let i = 0; i < step.count; i++) {
              fifo.push(next);
              model.push(next++);
            }
          } else if (step.type === 'shift') {
            for (let i = 0; i < step.count; i++) {
              expect(fifo.peek()).to.equal(model[0]);
              expect(fifo.shift()).to.equal(model.shift());
            }
          } else {
            expect(fifo.drain()).to.deep.equal(model.splice(0));
          }
          expect(fifo.size).to.equal(model.length);
        }
      }),
      runParameters(200, 5_000),
    );
  });
});
