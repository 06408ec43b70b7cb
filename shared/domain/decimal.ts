/**
 * Exact decimal sums of JavaScript numbers. DynamoDB keeps numbers as decimals (38 digits) and the SDK
 * sends a JS number as its shortest decimal string, so a day sum built by one `ADD` per event is an exact
 * decimal sum; adding the same numbers as binary floats first (0.1 + 0.2) would not be. One `ADD` of
 * `decimalSum(values)` writes what the sequence of `ADD`s would have.
 */
export function decimalSum(values: readonly number[]): string {
  const parts = values.map((v) => parseDecimal(String(v)));
  const scale = parts.reduce((m, p) => Math.max(m, p.scale), 0);
  let total = 0n;
  for (const p of parts) total += p.digits * 10n ** BigInt(scale - p.scale);
  return formatDecimal(total, scale);
}

/** `-12.5`, `1e-7`, `1.25e+21`: an integer and the power of ten it is divided by. */
function parseDecimal(s: string): { digits: bigint; scale: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(s);
  if (!m) throw new RangeError(`not a finite number: ${s}`);
  const fraction = m[3] ?? '';
  let digits = BigInt(`${m[2]}${fraction}`);
  let scale = fraction.length - Number(m[4] ?? 0);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits: m[1] === '-' ? -digits : digits, scale };
}

function formatDecimal(total: bigint, scale: number): string {
  const negative = total < 0n;
  let s = (negative ? -total : total).toString();
  if (scale > 0) {
    s = s.padStart(scale + 1, '0');
    s = `${s.slice(0, -scale)}.${s.slice(-scale)}`.replace(/\.?0+$/, '');
  }
  return negative && s !== '0' ? `-${s}` : s;
}
