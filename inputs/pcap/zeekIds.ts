// Zeek-like unique ids for one capture ('C…' connections and IP tunnels, 'F…' files): a prefix,
// then three xorshift32 words in base62 (least significant digit first, at least five digits a
// word), deterministic per capture. The text is made from character codes in one step (one flat
// string, no concatenation).

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DIGITS = Array.from(BASE62, (c) => c.charCodeAt(0));

export class ZeekIds {
  private readonly codes: number[] = [];

  constructor(private readonly prefix: string, private state: number) {}

  next(): string {
    const codes = this.codes;
    codes.length = 0;
    for (let i = 0; i < this.prefix.length; i++) codes.push(this.prefix.charCodeAt(i));
    for (let w = 0; w < 3; w++) {
      let x = this.state;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.state = x >>> 0;
      let v = this.state;
      for (let i = 0; i < 6 && (v > 0 || i < 5); i++) {
        codes.push(DIGITS[v % 62]!);
        v = Math.floor(v / 62);
      }
    }
    return String.fromCharCode(...codes);
  }
}
