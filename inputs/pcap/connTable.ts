// The connection tracker's table of live connections by key (IP protocol and two endpoints,
// in the order the caller puts them): open addressing with linear probing, the keys' hashes in
// a typed array. A lookup builds no key string: the addresses are hashed by content (they are
// short, and mostly the decoder's cached texts) and compared as strings. The table also keeps
// its entries in insertion order (oldest first), as a Map iterates them.

/** What identifies a connection: protocol, then endpoint A and endpoint B (address and port). */
export interface ConnKey {
  proto: number;
  a: string;
  pa: number;
  b: string;
  pb: number;
}

const INITIAL_CAPACITY = 1 << 12;

function hashText(text: string, h: number): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

function hashKey(proto: number, a: string, pa: number, b: string, pb: number): number {
  let h = Math.imul(proto ^ (pa << 16) ^ pb, 0x9e3779b1);
  h = hashText(b, hashText(a, h ^ 0x811c9dc5));
  return h ^ (h >>> 15);
}

/** An entry: a value with its key and the key's hash (set by the table). */
interface Entry {
  key: ConnKey;
  keyHash: number;
}

export class ConnTable<V extends Entry> {
  private mask = INITIAL_CAPACITY - 1;
  private hashes = new Int32Array(INITIAL_CAPACITY);
  private values: (V | undefined)[] = new Array<V | undefined>(INITIAL_CAPACITY).fill(undefined);
  private readonly order = new Set<V>();

  get size(): number {
    return this.order.size;
  }

  /** The entries, oldest first. */
  entries(): IterableIterator<V> {
    return this.order.values();
  }

  get(proto: number, a: string, pa: number, b: string, pb: number): V | undefined {
    const h = hashKey(proto, a, pa, b, pb);
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = this.values[i];
      if (v === undefined) return undefined;
      if (this.hashes[i] === h) {
        const k = v.key;
        if (k.pa === pa && k.pb === pb && k.proto === proto && k.a === a && k.b === b) return v;
      }
    }
  }

  /** Adds `value` under its key (which must not be in the table). */
  add(value: V): void {
    if ((this.order.size + 1) * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    value.keyHash = keyHash(value.key);
    this.place(value, value.keyHash);
    this.order.add(value);
  }

  /** Removes `value` when it is in the table. */
  delete(value: V): void {
    if (!this.order.delete(value)) return;
    const mask = this.mask;
    const values = this.values;
    const hashes = this.hashes;
    let i = value.keyHash & mask;
    while (values[i] !== value) i = (i + 1) & mask;
    values[i] = undefined;
    // Backward shift: entries after the hole that may sit in it move up.
    for (let j = (i + 1) & mask; values[j] !== undefined; j = (j + 1) & mask) {
      const home = hashes[j]! & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        values[i] = values[j];
        hashes[i] = hashes[j]!;
        values[j] = undefined;
        i = j;
      }
    }
  }

  private place(value: V, h: number): void {
    const mask = this.mask;
    let i = h & mask;
    while (this.values[i] !== undefined) i = (i + 1) & mask;
    this.values[i] = value;
    this.hashes[i] = h;
  }

  private resize(capacity: number): void {
    this.mask = capacity - 1;
    this.hashes = new Int32Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    for (const value of this.order) this.place(value, value.keyHash);
  }
}

function keyHash(k: ConnKey): number {
  return hashKey(k.proto, k.a, k.pa, k.b, k.pb);
}
