// Seeded pseudo-random numbers for the generators (bench data, fuzz inputs): xoshiro128**
// seeded through splitmix32, so the same seeds always give the same stream.

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Several seeds (e.g. seed, reader, input index) are mixed into one stream. */
  constructor(...seeds: number[]) {
    let s = 0x9e3779b9;
    for (const seed of seeds) s = Math.imul(s ^ (seed >>> 0), 0x85ebca6b) + 0x6a09e667;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
  }

  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Log-normal with the given median and sigma (of the underlying normal). */
  logNormal(median: number, sigma: number): number {
    const u = 1 - this.float();
    const n = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
    return median * Math.exp(sigma * n);
  }

  /** Index in [0, n) skewed towards 0 (popularity): P(i) ~ i^(1/k - 1). */
  skewed(n: number, k: number): number {
    return Math.floor(n * this.float() ** k);
  }
}
