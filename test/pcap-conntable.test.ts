// ConnTable (the connection tracker's table of live connections) and ZeekIds: lookups after
// many additions and removals (growth, probe chains closed up by removal), insertion order,
// and the id format.

import test from 'ava';
import { type ConnKey, ConnTable } from '../inputs/pcap/connTable.js';
import { ZeekIds } from '../inputs/pcap/zeekIds.js';

interface Conn {
  key: ConnKey;
  keyHash: number;
  n: number;
}

function conn(n: number): Conn {
  // Few addresses and ports, so that many keys share addresses and probe chains form.
  return { key: { proto: n % 3 === 0 ? 17 : 6, a: `10.0.${n % 7}.${n % 5}`, pa: 1000 + (n % 11), b: `192.168.${n % 13}.1`, pb: n }, keyHash: 0, n };
}

test('every live connection is found by its key, removed ones are not, through growth and removals', (t) => {
  const table = new ConnTable<Conn>();
  const live = new Map<number, Conn>();
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
  for (let step = 0; step < 40_000; step++) {
    const n = next() % 20_000;
    const existing = live.get(n);
    if (existing !== undefined) {
      table.delete(existing);
      live.delete(n);
    } else {
      const c = conn(n);
      table.add(c);
      live.set(n, c);
    }
  }
  t.is(table.size, live.size);
  let found = 0;
  for (let n = 0; n < 20_000; n++) {
    const k = conn(n).key;
    const got = table.get(k.proto, k.a, k.pa, k.b, k.pb);
    t.is(got, live.get(n));
    if (got !== undefined) found += 1;
  }
  t.is(found, live.size);
  // Insertion order: entries() lists the live connections oldest first, as the Map kept them.
  t.deepEqual([...table.entries()].map((c) => c.n), [...live.values()].map((c) => c.n));
});

test('removing a connection that is not in the table changes nothing', (t) => {
  const table = new ConnTable<Conn>();
  const a = conn(1);
  table.add(a);
  table.delete(conn(1));
  t.is(table.size, 1);
  t.is(table.get(a.key.proto, a.key.a, a.key.pa, a.key.b, a.key.pb), a);
});

test('ZeekIds: prefix and three base62 words, deterministic per seed', (t) => {
  const ids = new ZeekIds('C', 0x2545f491);
  // The connection tracker's first uids (unchanged since they were made by string appends).
  t.is(ids.next(), 'Cex4d74ZcRVY2wzbXq1');
  t.is(ids.next(), 'COnO60zrTXR4V4fLf4');
  t.is(new ZeekIds('C', 0x2545f491).next(), 'Cex4d74ZcRVY2wzbXq1');
  t.regex(new ZeekIds('F', 0x5eed_f11e).next(), /^F[0-9A-Za-z]{15,18}$/);
});
