// TcpStream: in-order delivery from segments in capture order (overlap, holes, gaps).

import test from 'ava';
import { TcpStream } from '../inputs/pcap/stream.js';

function collect(start?: number, maxPending?: number): { stream: TcpStream; text: () => string; gaps: number[] } {
  const parts: string[] = [];
  const gaps: number[] = [];
  const stream = new TcpStream({ data: (b) => parts.push(b.toString()), gap: (n) => gaps.push(n) }, start, maxPending);
  return { stream, text: () => parts.join(''), gaps };
}

test('in-order segments, retransmitted overlap trimmed', (t) => {
  const { stream, text } = collect(1);
  stream.push(1, Buffer.from('GET / '));
  stream.push(1, Buffer.from('GET / '));
  stream.push(4, Buffer.from(' / HTTP'));
  t.is(text(), 'GET / HTTP');
  t.is(stream.delivered, 10);
});

test('a segment ahead of a hole waits until the hole is filled', (t) => {
  const { stream, text, gaps } = collect(1);
  stream.push(6, Buffer.from('world'));
  t.is(text(), '');
  stream.push(1, Buffer.from('hello'));
  t.is(text(), 'helloworld');
  t.deepEqual(gaps, []);
});

test('a hole is given up at flush or when too much waits, and reported as a gap', (t) => {
  const { stream, text, gaps } = collect(undefined, 8);
  stream.push(100, Buffer.from('ab'));
  stream.push(105, Buffer.from('cdef'));
  t.is(text(), 'ab');
  stream.push(112, Buffer.from('ghijk'));
  t.is(text(), 'abcdef', 'more than 8 bytes waiting: the first hole is skipped');
  t.deepEqual(gaps, [3]);
  stream.flush();
  t.is(text(), 'abcdefghijk');
  t.deepEqual(gaps, [3, 3]);
});
