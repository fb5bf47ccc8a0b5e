/**
 * A cursor over JSON bytes for the one-pass request decoder (json-request.ts): whitespace, strings,
 * numbers and generic values, counting depth and array elements against the limits as it goes.
 * It never reports an error itself: on anything it does not accept (bad syntax, a limit crossed,
 * a construct it does not handle fast) it throws BAIL, and the caller falls back to the
 * JSON.parse-based decoder, which produces today's exact result or error message.
 */

/** Thrown to abandon the fast path. A constant: no stack trace is captured. */
export const BAIL: unique symbol = Symbol("bail");

const utf8Strict = new TextDecoder("utf-8", { fatal: true });
const ascii = new TextDecoder("latin1");

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The mantissa takes digits while below this (17 significant digits and up); a later digit changes
 * the value by under 1e-17 of it, far inside the FP32 rounding check's margin.
 */
const MANTISSA_CAP = 1e17;
export const TWO_53 = 2 ** 53;
export const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
/**
 * Relative margin of the FP32 rounding check. The approximation is within ~23 double ulps
 * (2^-48) of the exact value; when the value ± 2^-44 rounds to one float32, so does the double
 * JSON.parse would have produced (rounding is monotonic).
 */
const LOW = 1 - 2 ** -44;
const HIGH = 1 + 2 ** -44;

/**
 * `x`, a decimal's value (exactly it when `exact`, else within 2^-48 of it), as the float32 that
 * `Math.fround(JSON.parse(text))` gives; NaN when x ± 2^-44 falls on two float32 values (the
 * caller then converts the text itself).
 */
export function toFloat32(x: number, exact: boolean): number {
  if (exact) return Math.fround(x);
  const low = Math.fround(x * LOW);
  return low === Math.fround(x * HIGH) ? low : Number.NaN;
}

/**
 * Four ASCII digits in a little-endian word as their value 0-9999, or -1 unless all four are digits
 * (every high nibble 3, and no low nibble above 9: +6 would carry).
 */
function digits4(w: number): number {
  if ((w & 0xf0f0f0f0) !== 0x30303030 || ((w + 0x06060606) & 0xf0f0f0f0) !== 0x30303030) return -1;
  const d = w - 0x30303030;
  const pairs = (d * 10 + (d >>> 8)) & 0x00ff00ff;
  return (pairs & 0xff) * 100 + (pairs >>> 16);
}

/** The cursor. `end` bounds the JSON part of the body. */
export class JsonReader {
  pos = 0;
  depth = 0;
  elements = 0;
  /**
   * The number scanNumber, double or float32 read last. A field rather than a return value: a double
   * returned from a call that is not inlined is boxed, one heap number per tensor element (which V8
   * then pretenured into old space under the server's load: a full GC every ~10 JSON requests).
   */
  num = Number.NaN;
  /** Set by scanNumber: `num` is exactly the double JSON.parse gives. */
  exact = false;
  /** Set by skipString: the string holds a backslash escape. */
  escaped = false;
  /** Set by digits: the number read is mantissa × 10^exponent. */
  mantissa = 0;
  exponent = 0;

  /** `b`'s bytes as little-endian words, for reading a fraction's digits eight at a time. */
  private readonly words: DataView;

  constructor(
    readonly b: Uint8Array,
    readonly end: number,
    readonly maxDepth: number,
    readonly maxElements: number,
  ) {
    this.words = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Skips whitespace; returns the byte at the cursor, or -1 at the end. */
  ws(): number {
    const b = this.b;
    let p = this.pos;
    while (p < this.end) {
      const c = b[p] as number;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        this.pos = p;
        return c;
      }
      p++;
    }
    this.pos = p;
    return -1;
  }

  /** Consumes `ch` after whitespace, or bails. */
  expect(ch: number): void {
    if (this.ws() !== ch) throw BAIL;
    this.pos++;
  }

  /** Enters an array or object. */
  open(): void {
    if (++this.depth > this.maxDepth) throw BAIL;
  }

  /** Counts `n` array elements. */
  count(n: number): void {
    this.elements += n;
    if (this.elements > this.maxElements) throw BAIL;
  }

  /** At a `"`: moves past the closing quote; returns the index of the opening one. */
  skipString(): number {
    const b = this.b;
    const start = this.pos;
    let p = start + 1;
    let escaped = false;
    for (;;) {
      if (p >= this.end) throw BAIL;
      const c = b[p] as number;
      if (c === QUOTE) break;
      if (c < 0x20) throw BAIL;
      if (c === BACKSLASH) {
        escaped = true;
        p++;
      }
      p++;
    }
    this.pos = p + 1;
    this.escaped = escaped;
    return start;
  }

  /** True when the bytes from `start` to the cursor are exactly `word` (no escapes assumed). */
  matches(start: number, word: Uint8Array): boolean {
    if (this.pos - start !== word.length) return false;
    for (let i = 0; i < word.length; i++) if (this.b[start + i] !== word[i]) return false;
    return true;
  }

  /** Skips any value, checking its syntax and counting it against the limits. */
  skipValue(): void {
    const c = this.ws();
    if (c === QUOTE) this.skipString();
    else if (c === 0x5b) this.skipContainer(0x5d, true);
    else if (c === 0x7b) this.skipContainer(0x7d, false);
    else if (c === MINUS || (c >= ZERO && c <= NINE)) this.scanNumber();
    else this.literal();
  }

  /** Parses any value as JSON.parse does (it is JSON.parse, on the value's own text). */
  parseValue(): unknown {
    const start = this.ws();
    if (start === -1) throw BAIL;
    const from = this.pos;
    this.skipValue();
    return JSON.parse(this.text(from, this.pos));
  }

  /** Bails unless bytes `from`..`to` are valid UTF-8. */
  checkUtf8(from: number, to: number): void {
    const b = this.b;
    for (let i = from; i < to; i++) {
      if ((b[i] as number) >= 0x80) {
        this.text(from, to);
        return;
      }
    }
  }

  /** The text of bytes `from`..`to` (a span starting at a token, so never at a BOM). */
  text(from: number, to: number): string {
    const b = this.b;
    for (let i = from; i < to; i++) {
      if ((b[i] as number) >= 0x80) {
        try {
          return utf8Strict.decode(b.subarray(from, to));
        } catch {
          throw BAIL;
        }
      }
    }
    if (to - from < 1024) return String.fromCharCode.apply(null, b.subarray(from, to) as unknown as number[]);
    return ascii.decode(b.subarray(from, to));
  }

  /** Consumes `true`, `false` or `null`; returns 1, 0 or -1. */
  literal(): number {
    const b = this.b;
    const p = this.pos;
    if (b[p] === 0x74 && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65 && p + 4 <= this.end) {
      this.pos = p + 4;
      return 1;
    }
    if (
      b[p] === 0x66 &&
      b[p + 1] === 0x61 &&
      b[p + 2] === 0x6c &&
      b[p + 3] === 0x73 &&
      b[p + 4] === 0x65 &&
      p + 5 <= this.end
    ) {
      this.pos = p + 5;
      return 0;
    }
    if (b[p] === 0x6e && b[p + 1] === 0x75 && b[p + 2] === 0x6c && b[p + 3] === 0x6c && p + 4 <= this.end) {
      this.pos = p + 4;
      return -1;
    }
    throw BAIL;
  }

  private skipContainer(close: number, isArray: boolean): void {
    this.pos++;
    this.open();
    if (this.ws() === close) {
      this.pos++;
      this.depth--;
      return;
    }
    for (;;) {
      if (isArray) this.count(1);
      else {
        if (this.ws() !== QUOTE) throw BAIL;
        this.skipString();
        this.expect(0x3a);
      }
      this.skipValue();
      const c = this.ws();
      this.pos++;
      if (c === close) break;
      if (c !== 0x2c) throw BAIL;
    }
    this.depth--;
  }

  /**
   * At a number: checks its JSON syntax and moves past it; sets `num` to its value, exactly the
   * double of JSON.parse when `exact` is set, else an approximation within 2^-48 (see float32).
   * The digits are digits()'s; a number that ran past `end` bails.
   */
  scanNumber(): void {
    const b = this.b;
    const end = this.end;
    const negative = b[this.pos] === MINUS;
    let p = this.digits(negative ? this.pos + 1 : this.pos);
    if (p < 0) throw BAIL;
    const m = this.mantissa;
    let e = this.exponent;
    let c = b[p] as number;
    if (c === 0x65 || c === 0x45) {
      c = b[++p] as number;
      const minus = c === MINUS;
      if (minus || c === PLUS) c = b[++p] as number;
      if (!(c >= ZERO && c <= NINE)) throw BAIL;
      let x = 0;
      do {
        if (x < 100_000) x = x * 10 + (c - ZERO);
        c = b[++p] as number;
      } while (c >= ZERO && c <= NINE);
      e += minus ? -x : x;
    }
    if (p > end) throw BAIL;
    const start = this.pos;
    this.pos = p;
    let v: number;
    if (m === 0) {
      this.exact = true;
      this.num = negative ? -0 : 0;
      return;
    }
    const small = m < TWO_53;
    if (e >= 0) {
      if (e <= 22) {
        v = m * (POW10[e] as number);
        this.exact = small;
      } else if (e <= 44) {
        v = m * 1e22 * (POW10[e - 22] as number);
        this.exact = false;
      } else {
        this.slow(start);
        return;
      }
    } else if (e >= -22) {
      v = m / (POW10[-e] as number);
      this.exact = small;
    } else if (e >= -44) {
      v = m / 1e22 / (POW10[-e - 22] as number);
      this.exact = false;
    } else {
      this.slow(start);
      return;
    }
    this.num = negative ? -v : v;
  }

  /**
   * Reads a number's digits from `p`, its first one (after any sign): the integer part and any
   * fraction, into `mantissa` and `exponent`. Digits go into the mantissa until it reaches
   * MANTISSA_CAP; later ones are checked and, before the point, scale it. A fraction's digits are
   * read eight at a time (the spelling clients use for floats has 16 or 17 of them). Returns the
   * position after the digits, or -1 when they are not JSON's (no digit, a leading zero's
   * digits aside, or a point with no digit after it). Bytes are read without a bound check per
   * byte: past the end of `b` they read as undefined, which is no digit.
   */
  digits(p: number): number {
    const b = this.b;
    let c = b[p] as number;
    let m = 0;
    let e = 0;
    if (c === ZERO) {
      c = b[++p] as number;
    } else if (c > ZERO && c <= NINE) {
      do {
        if (m < MANTISSA_CAP) m = m * 10 + (c - ZERO);
        else e++;
        c = b[++p] as number;
      } while (c >= ZERO && c <= NINE);
    } else return -1;
    if (c === DOT) {
      const first = ++p;
      const words = this.words;
      while (p + 8 <= this.end) {
        const hi = digits4(words.getUint32(p, true));
        if (hi < 0) break;
        const lo = digits4(words.getUint32(p + 4, true));
        if (lo < 0) break;
        if (m < MANTISSA_CAP) {
          m = m * 1e8 + (hi * 1e4 + lo);
          e -= 8;
        }
        p += 8;
      }
      c = b[p] as number;
      while (c >= ZERO && c <= NINE) {
        if (m < MANTISSA_CAP) {
          m = m * 10 + (c - ZERO);
          e--;
        }
        c = b[++p] as number;
      }
      if (p === first) return -1;
    }
    this.mantissa = m;
    this.exponent = e;
    return p;
  }

  /** Sets `num` to the number just scanned from `start`, converted by V8 (exact). */
  private slow(start: number): void {
    this.exact = true;
    this.num = Number(this.text(start, this.pos));
  }

  /** Sets `num` to the number at the cursor as the exact double JSON.parse gives. */
  double(): void {
    const start = this.pos;
    this.scanNumber();
    if (!this.exact) this.slow(start);
  }

  /** Sets `num` to the number at the cursor rounded to float32 exactly as `Math.fround(JSON.parse(text))`. */
  float32(): void {
    const start = this.pos;
    this.scanNumber();
    const f = toFloat32(this.num, this.exact);
    if (!Number.isNaN(f)) {
      this.num = f;
      return;
    }
    this.slow(start);
    this.num = Math.fround(this.num);
  }
}
