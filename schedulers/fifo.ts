/**
 * A first-in, first-out queue that takes from the front in constant time
 * (`Array.prototype.shift` copies the rest: quadratic over a long queue). Taken
 * slots are cleared so their items can be collected; the array is dropped when
 * the queue empties and compacted once it is mostly taken.
 *
 * @example
 * ```ts
 * const jobs = new Fifo<() => void>();
 * jobs.push(run);
 * for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) job();
 * ```
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** Items waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The next item, left in the queue. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Takes the next item. */
  shift(): T | undefined {
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    this.#items[this.#head++] = undefined; // taken: let it be collected
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Takes every item, in order. */
  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }
}
