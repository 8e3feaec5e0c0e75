// Python-compatible number formatting for evidence descriptions: Slips builds its texts with
// f-strings, so a float prints as Python's repr (`1.0`, `0.5`, `1e-05`) and values are rounded
// with Python's round() (half-to-even on the exact binary value). JavaScript's String() differs
// (`1`, `1e-7`), hence these helpers.

/** Python's `str(float)`: shortest round-trip digits, always a decimal point or an exponent. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that round-trip, like repr.
  const [mantissa, exponentText] = Math.abs(x).toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  const digits = mantissa.replace('.', '');
  if (exponent < -4 || exponent >= 16) {
    const significand = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const exponentSign = exponent < 0 ? '-' : '+';
    return `${sign}${significand}e${exponentSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const integerDigits = exponent + 1;
  if (digits.length <= integerDigits) return `${sign}${digits}${'0'.repeat(integerDigits - digits.length)}.0`;
  return `${sign}${digits.slice(0, integerDigits)}.${digits.slice(integerDigits)}`;
}

/**
 * Python's `round(x, ndigits)` for ndigits >= 0: rounds the exact binary value of x, ties to even
 * (round(2.675, 2) == 2.67, round(0.125, 2) == 0.12).
 */
export function pyRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x;
  // toFixed(100) is the exact decimal value of the double, up to 100 fraction digits.
  const [integerPart, fraction] = Math.abs(x).toFixed(100).split('.') as [string, string];
  const kept = BigInt(integerPart + fraction.slice(0, ndigits));
  const nextDigit = fraction.charCodeAt(ndigits) - 48;
  const tail = fraction.slice(ndigits + 1);
  const roundsUp = nextDigit > 5 || (nextDigit === 5 && (/[1-9]/.test(tail) || kept % 2n === 1n));
  const rounded = (kept + (roundsUp ? 1n : 0n)).toString().padStart(ndigits + 1, '0');
  const text = ndigits === 0 ? rounded : `${rounded.slice(0, -ndigits)}.${rounded.slice(-ndigits)}`;
  const value = Number(text);
  return x < 0 ? -value : value;
}
