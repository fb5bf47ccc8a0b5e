/**
 * The `data` of one JSON input, parsed straight into its typed array (no JavaScript array per
 * number), flat or nested along the shape. It accepts exactly what tensorFromJSON accepts and
 * yields the same elements; anything else throws BAIL (see json-reader.ts).
 */
import { toHalf } from "./datatypes";
import { BAIL, type JsonReader, POW10, TWO_53, toFloat32 } from "./json-reader";
import type { Datatype, TensorData } from "./types";

/** The integer datatypes held in a double-sized typed array. */
export type IntType = "UINT8" | "INT8" | "UINT16" | "INT16" | "UINT32" | "INT32";

const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const MINUS = 0x2d;

/** Bounds of the integer datatypes that fit a double. */
export const INT_RANGE: Record<IntType, readonly [number, number]> = {
  UINT8: [0, 0xff],
  INT8: [-0x80, 0x7f],
  UINT16: [0, 0xffff],
  INT16: [-0x8000, 0x7fff],
  UINT32: [0, 0xffffffff],
  INT32: [-0x80000000, 0x7fffffff],
};
/** Bounds of the 64-bit integer datatypes. */
export const BIG_RANGE = {
  UINT64: [0n, 2n ** 64n - 1n],
  INT64: [-(2n ** 63n), 2n ** 63n - 1n],
} as const;

const NAN = new TextEncoder().encode('"NaN"');
const INF = new TextEncoder().encode('"Infinity"');
const NEG_INF = new TextEncoder().encode('"-Infinity"');

/** An input's `data` already decoded by the one-pass reader; tensorFromJSON takes it as is. */
export class DecodedData {
  constructor(readonly data: TensorData) {}
}

/** Elements read between two chances to yield (about 0.1-0.5 ms of work). */
const CHUNK = 4096;

/**
 * Reads the data array at the cursor for a tensor of `dt` and `shape` (`count` elements), with
 * tensorFromJSON's rule: nested when the rank is above 1 and the first element is an array.
 * A generator: it yields every CHUNK elements, so that a caller may let other work run.
 */
export function* readData(
  r: JsonReader,
  dt: Datatype,
  shape: readonly number[],
  count: number,
): Generator<void, TensorData, void> {
  if (r.ws() !== OPEN) throw BAIL;
  // Each element takes at least two bytes: a hostile shape must not reserve more than the body holds.
  if (count > (r.end - r.pos) / 2 + 1) throw BAIL;
  const out = allocate(dt, count);
  r.pos++;
  r.open();
  const first = r.ws();
  if (shape.length > 1 && first === OPEN) {
    let filled = 0;
    const level = function* (d: number): Generator<void, void, void> {
      const want = shape[d] as number;
      if (d === shape.length - 1) {
        if ((yield* row(r, dt, out, filled, want)) !== want) throw BAIL;
        filled += want;
        return;
      }
      for (let i = 0; i < want; i++) {
        if (i > 0 && r.ws() !== COMMA) throw BAIL;
        if (i > 0) r.pos++;
        r.expect(OPEN);
        r.open();
        yield* level(d + 1);
      }
      r.expect(CLOSE);
      r.depth--;
      r.count(want);
    };
    yield* level(0);
  } else if ((yield* row(r, dt, out, 0, count)) !== count) throw BAIL;
  return out;
}

/**
 * Reads the scalars of one innermost array (its `[` consumed) into `out` from `off`, through its
 * `]`; returns how many there were, bailing past `max`.
 */
function* row(
  r: JsonReader,
  dt: Datatype,
  out: TensorData,
  off: number,
  max: number,
): Generator<void, number, void> {
  if (r.ws() === CLOSE) {
    r.pos++;
    r.depth--;
    return 0;
  }
  let n = 0;
  for (;;) {
    const got = elements(r, dt, out, off + n, max - n);
    if (got < 0) {
      n += ~got;
      break;
    }
    n += got;
    yield;
  }
  r.depth--;
  r.count(n);
  return n;
}

/** A zeroed typed array (or array of byte strings) of `n` elements of `dt`. */
export function allocate(dt: Datatype, n: number): TensorData {
  switch (dt) {
    case "BYTES":
      return new Array<Uint8Array>(n);
    case "BOOL":
    case "UINT8":
      return new Uint8Array(n);
    case "INT8":
      return new Int8Array(n);
    case "UINT16":
    case "FP16":
      return new Uint16Array(n);
    case "INT16":
      return new Int16Array(n);
    case "UINT32":
      return new Uint32Array(n);
    case "INT32":
      return new Int32Array(n);
    case "UINT64":
      return new BigUint64Array(n);
    case "INT64":
      return new BigInt64Array(n);
    case "FP32":
      return new Float32Array(n);
    case "FP64":
      return new Float64Array(n);
  }
}

/**
 * Reads up to CHUNK elements of a row into `out` from `off`, bailing past `room`. Returns CHUNK
 * when it stopped after a comma, or ~n (negative) when it consumed the row's `]` after n elements.
 */
function elements(r: JsonReader, dt: Datatype, out: TensorData, off: number, room: number): number {
  if (dt === "FP32" || dt === "FP64") return floats(r, dt, out as Float32Array | Float64Array, off, room);
  let i = 0;
  for (;;) {
    if (i >= room) throw BAIL;
    r.ws();
    switch (dt) {
      case "FP16":
        float(r, dt);
        (out as Uint16Array)[off + i] = toHalf(r.num);
        break;
      case "BOOL": {
        const c = r.b[r.pos] as number;
        const v = c === 0x74 || c === 0x66 ? r.literal() : c === QUOTE ? -1 : number(r);
        if (v !== 0 && v !== 1) throw BAIL;
        (out as Uint8Array)[off + i] = v;
        break;
      }
      case "INT64":
      case "UINT64":
        (out as BigInt64Array | BigUint64Array)[off + i] = bigint(r, dt);
        break;
      case "BYTES":
        (out as Uint8Array[])[off + i] = bytes(r);
        break;
      default: {
        const range = INT_RANGE[dt as IntType];
        const v = number(r);
        if (!Number.isInteger(v) || v < range[0] || v > range[1]) throw BAIL;
        (out as Int32Array)[off + i] = v;
      }
    }
    i++;
    const c = r.ws();
    r.pos++;
    if (c === COMMA) {
      if (i === CHUNK) return CHUNK;
      continue;
    }
    if (c !== CLOSE) throw BAIL;
    return ~i;
  }
}

/**
 * elements for FP32 and FP64, the datatypes stock clients send as long decimals. The common
 * spelling (`-?digits(.digits)?` between whitespace, then its `,` or `]`, with a value that is
 * exact or rounds to one float32) is read here, in one loop with a local cursor (perf_analyzer's
 * 545 KB ocr-cls body decodes in about 0.85x the time a float() call per element took). Any other element
 * goes through float(), which gives it the same value or bails. Its digits are read by
 * JsonReader.digits, as scanNumber's are: one spelling, one value.
 */
function floats(
  r: JsonReader,
  dt: "FP32" | "FP64",
  out: Float32Array | Float64Array,
  off: number,
  room: number,
): number {
  const b = r.b;
  const end = r.end;
  const fp32 = dt === "FP32";
  const pow10 = POW10;
  let p = r.pos;
  let i = 0;
  for (;;) {
    if (i >= room) throw BAIL;
    let c = b[p] as number;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p] as number;
    const start = p;
    const negative = c === MINUS;
    p = r.digits(negative ? p + 1 : p);
    // c = -1: not a number this loop reads.
    c = p < 0 ? -1 : (b[p] as number);
    const m = r.mantissa;
    const e = r.exponent;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p] as number;
    let v = Number.NaN;
    // v stays NaN unless the spelling and its value are this loop's (c = -1: not a number it reads).
    if ((c === COMMA || c === CLOSE) && p < end && e <= 0 && e >= -22) {
      if (m === 0) v = 0;
      else {
        const x = e === 0 ? m : m / (pow10[-e] as number);
        if (m < TWO_53) v = fp32 ? Math.fround(x) : x;
        else if (fp32) v = toFloat32(x, false);
      }
    }
    if (!Number.isNaN(v)) {
      out[off + i] = negative ? -v : v;
      p++;
    } else {
      r.pos = start;
      r.ws();
      float(r, dt);
      out[off + i] = r.num;
      c = r.ws();
      p = r.pos + 1;
    }
    i++;
    if (c === COMMA) {
      if (i === CHUNK) {
        r.pos = p;
        return CHUNK;
      }
      continue;
    }
    r.pos = p;
    if (c !== CLOSE) throw BAIL;
    return ~i;
  }
}

/** A JSON number (not a string or literal) as its exact double. */
function number(r: JsonReader): number {
  const c = r.b[r.pos] as number;
  if (c !== 0x2d && !(c >= 0x30 && c <= 0x39)) throw BAIL;
  r.double();
  return r.num;
}

/**
 * FP16/FP32/FP64 element into `r.num` (not returned: see JsonReader.num): a number within range,
 * or one of the non-finite spellings.
 */
function float(r: JsonReader, dt: Datatype): void {
  if (r.b[r.pos] === QUOTE) {
    const start = r.skipString();
    if (r.matches(start, NAN)) r.num = Number.NaN;
    else if (r.matches(start, INF)) r.num = Number.POSITIVE_INFINITY;
    else if (r.matches(start, NEG_INF)) r.num = Number.NEGATIVE_INFINITY;
    else throw BAIL;
    return;
  }
  const c = r.b[r.pos] as number;
  if (c !== 0x2d && !(c >= 0x30 && c <= 0x39)) throw BAIL;
  if (dt === "FP64") r.double();
  else r.float32();
  const v = r.num;
  // Out of the type's range: tensorFromJSON's error.
  if (!Number.isFinite(v) || (dt === "FP16" && (toHalf(v) & 0x7fff) === 0x7c00)) throw BAIL;
}

function bigint(r: JsonReader, dt: "INT64" | "UINT64"): bigint {
  let b: bigint;
  if (r.b[r.pos] === QUOTE) {
    const start = r.skipString();
    const len = r.pos - start - 2;
    if (r.escaped || len < 1) throw BAIL;
    const neg = r.b[start + 1] === 0x2d;
    const digits = neg ? len - 1 : len;
    if (digits < 1 || digits > 20) throw BAIL;
    for (let p = r.pos - 1 - digits; p < r.pos - 1; p++) {
      const c = r.b[p] as number;
      if (c < 0x30 || c > 0x39) throw BAIL;
    }
    b = BigInt(r.text(start + 1, r.pos - 1));
  } else {
    const v = number(r);
    if (!Number.isSafeInteger(v)) throw BAIL;
    b = BigInt(v);
  }
  const [lo, hi] = BIG_RANGE[dt];
  if (b < lo || b > hi) throw BAIL;
  return b;
}

const utf8 = new TextEncoder();

/** BYTES element: a string's UTF-8 bytes. */
function bytes(r: JsonReader): Uint8Array {
  if (r.b[r.pos] !== QUOTE) throw BAIL;
  const start = r.skipString();
  if (!r.escaped) {
    // Unescaped valid UTF-8 re-encodes to itself.
    r.checkUtf8(start + 1, r.pos - 1);
    return r.b.slice(start + 1, r.pos - 1);
  }
  return utf8.encode(JSON.parse(r.text(start, r.pos)) as string);
}
