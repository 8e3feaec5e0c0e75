// A binary min-heap of items by time, ties in the order they were pushed. The times and push
// numbers sit side by side with the items in growable typed arrays (no object per entry,
// comparisons on contiguous memory). It orders the connection tracker's timers and the pcap
// reader's records waiting to be released in timestamp order.

const INITIAL_CAPACITY = 1024;

function grown(small: Float64Array): Float64Array<ArrayBuffer> {
  const bigger = new Float64Array(small.length * 2);
  bigger.set(small);
  return bigger;
}

export class TimeHeap<T> {
  private times: Float64Array<ArrayBuffer> = new Float64Array(INITIAL_CAPACITY);
  private orders: Float64Array<ArrayBuffer> = new Float64Array(INITIAL_CAPACITY);
  private readonly items: (T | undefined)[] = [];
  private pushed = 0;
  size = 0;

  push(t: number, item: T): void {
    if (this.size === this.times.length) {
      this.times = grown(this.times);
      this.orders = grown(this.orders);
    }
    const { times, orders, items } = this;
    const order = this.pushed++;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! < t || (times[parent] === t && orders[parent]! < order)) break;
      times[i] = times[parent]!;
      orders[i] = orders[parent]!;
      items[i] = items[parent];
      i = parent;
    }
    times[i] = t;
    orders[i] = order;
    items[i] = item;
  }

  /** Time of the first item (Infinity when empty). */
  peekTime(): number {
    return this.size > 0 ? this.times[0]! : Infinity;
  }

  /** Removes and returns the first item; the heap must not be empty. */
  pop(): T {
    const { times, orders, items } = this;
    const top = items[0] as T;
    const n = --this.size;
    if (n > 0) this.siftDown(0, times[n]!, orders[n]!, items[n] as T, n);
    items[n] = undefined;
    return top;
  }

  /** Keeps only the items `keep` accepts; their order among themselves is unchanged. */
  retain(keep: (item: T) => boolean): void {
    const { times, orders, items } = this;
    let kept = 0;
    for (let i = 0; i < this.size; i++) {
      const item = items[i] as T;
      if (!keep(item)) continue;
      times[kept] = times[i]!;
      orders[kept] = orders[i]!;
      items[kept] = item;
      kept += 1;
    }
    for (let i = kept; i < this.size; i++) items[i] = undefined;
    this.size = kept;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.siftDown(i, times[i]!, orders[i]!, items[i] as T, kept);
  }

  /** Places the entry (t, order, item) at `i` or below in a heap of n entries. */
  private siftDown(i: number, t: number, order: number, item: T, n: number): void {
    const { times, orders, items } = this;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (times[r]! < times[l]! || (times[r] === times[l] && orders[r]! < orders[l]!)) ? r : l;
      if (t < times[c]! || (t === times[c] && order < orders[c]!)) break;
      times[i] = times[c]!;
      orders[i] = orders[c]!;
      items[i] = items[c];
      i = c;
    }
    times[i] = t;
    orders[i] = order;
    items[i] = item;
  }
}
