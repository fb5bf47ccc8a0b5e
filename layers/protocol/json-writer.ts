/**
 * A tensor's JSON `data` array written from its typed array as bytes: the same text as
 * `JSON.stringify(tensorToJSONData(t))` (the tests hold the two equal), faster.
 * - Number formatting is V8's (JSON.stringify's shortest round-trip digits): JavaScript code does not
 *   beat it (measured: String(v) per element took twice as long as JSON.stringify of an array).
 *   What is left to gain is around it, and it depends on the values:
 * - Floats mostly integer-valued (a mask's zeros, a sigmoid's saturated ones, class ids): those are
 *   written digit by digit, the others formatted by one JSON.stringify call and each number's text
 *   copied into place. JSON.stringify spends ~50 ns on each zero of a float array.
 * - Other floats: one packed array (built by push: JSON.stringify reads it faster than a holey one
 *   made by `new Array(n)`), one JSON.stringify, one UTF-8 encode.
 * - NaN and the infinities are the protocol's strings, as in json.ts.
 * FP16, INT64, UINT64 and BYTES have no path here, nor tensors under SMALL elements: jsonDataBytes
 * returns undefined for them.
 */
import { finiteOrText } from "./json";
import type { Tensor } from "./types";

const COMMA = 0x2c;
const ZERO = 0x30;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const EMPTY = new Uint8Array(0);
/**
 * Fewer elements than this are left to tensorToJSONData: there one JSON.stringify of the header is
 * as fast, and a body put together from parts costs microseconds (measured: 10 µs against 4 µs for
 * ocr-cls's two-element answer).
 */
export const SMALL = 256;
const ascii = new TextEncoder();
/** Room for one element and its comma: a double's JSON text is at most 24 characters ("-1.2345678901234567e-308"). */
const NUMBER_ROOM = 26;

/** A growing byte buffer. */
class Bytes {
  buf: Uint8Array;
  pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  /** Room for `n` more bytes. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  /** An integer 0 <= v < 2^53, in decimal. */
  natural(v: number): void {
    if (v < 10) {
      this.room(1);
      this.buf[this.pos++] = ZERO + v;
      return;
    }
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    this.room(digits);
    let p = this.pos + digits;
    this.pos = p;
    const buf = this.buf;
    while (v >= 10) {
      const q = Math.floor(v / 10);
      buf[--p] = ZERO + (v - q * 10);
      v = q;
    }
    buf[--p] = ZERO + v;
  }

  /** An integer with |v| < 2^53 (-0 is written "0", as JSON.stringify writes it). */
  integer(v: number): void {
    if (v < 0) {
      this.room(1);
      this.buf[this.pos++] = 0x2d;
      v = -v;
    }
    this.natural(v);
  }

  /** ASCII text. */
  ascii(s: string): void {
    this.room(s.length);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  done(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** Writes float elements, integer-valued ones digit by digit; `d` holds FP32 or FP64 values. */
function mostlyIntegers(out: Bytes, d: Float32Array | Float64Array): void {
  const n = d.length;
  // Every other finite value, in order, formatted by one JSON.stringify call.
  const others: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = d[i] as number;
    // v - v is 0 for a finite v, NaN for NaN and the infinities.
    if ((v | 0) !== v && v - v === 0) others.push(v);
  }
  const text = others.length > 0 ? ascii.encode(JSON.stringify(others)) : EMPTY;
  let q = 1;
  for (let i = 0; i < n; i++) {
    out.room(NUMBER_ROOM);
    const buf = out.buf;
    let p = out.pos;
    if (i > 0) buf[p++] = COMMA;
    const v = d[i] as number;
    // |v| < 2^31 and integer-valued: the common zeros and ones of masks and probabilities.
    if (v === 0) {
      buf[p++] = ZERO;
    } else if ((v | 0) === v) {
      out.pos = p;
      out.integer(v);
      p = out.pos;
    } else if (v - v === 0) {
      // The next number of `text`, up to its comma (or the closing bracket).
      let c = text[q] as number;
      while (c !== COMMA && c !== CLOSE) {
        buf[p++] = c;
        c = text[++q] as number;
      }
      q++;
    } else {
      out.pos = p;
      out.ascii(`"${finiteOrText(v)}"`);
      p = out.pos;
    }
    out.pos = p;
  }
}

/** True when at least three quarters of `d`'s values are integers below 2^31 in magnitude. */
function integerValued(d: Float32Array | Float64Array): boolean {
  let integers = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    if ((v | 0) === v) integers++;
  }
  return integers * 4 >= d.length * 3;
}

/** The JSON array of floats as one packed array through JSON.stringify. */
function packed(d: Float32Array | Float64Array): Uint8Array {
  const values: Array<number | string> = [];
  for (let i = 0; i < d.length; i++) values.push(finiteOrText(d[i] as number));
  return ascii.encode(JSON.stringify(values));
}

/** Writes integer elements (every value an integer below 2^32 in magnitude), or BOOL's as true/false. */
function integers(out: Bytes, d: ArrayLike<number>, bool: boolean): void {
  for (let i = 0; i < d.length; i++) {
    if (i > 0) {
      out.room(1);
      out.buf[out.pos++] = COMMA;
    }
    const v = d[i] as number;
    if (bool) out.ascii(v !== 0 ? "true" : "false");
    else out.integer(v);
  }
}

/**
 * The JSON array of `t`'s data as bytes, or undefined for a datatype without a typed-array path
 * here (FP16, INT64, UINT64, BYTES: tensorToJSONData writes those) and for a small tensor. `t` must be checked
 * (checkTensorData): its data is the typed array of its datatype.
 */
export function jsonDataBytes(t: Tensor): Uint8Array | undefined {
  const d = t.data;
  if (Array.isArray(d) || d.length < SMALL) return undefined;
  const floating = t.datatype === "FP32" || t.datatype === "FP64";
  if (floating && !integerValued(d as Float32Array | Float64Array))
    return packed(d as Float32Array | Float64Array);
  const out = new Bytes(d.length * 2 + 16);
  out.buf[out.pos++] = OPEN;
  switch (t.datatype) {
    case "FP32":
    case "FP64":
      mostlyIntegers(out, d as Float32Array | Float64Array);
      break;
    case "BOOL":
    case "INT8":
    case "INT16":
    case "INT32":
    case "UINT8":
    case "UINT16":
    case "UINT32":
      integers(out, d as ArrayLike<number>, t.datatype === "BOOL");
      break;
    default:
      return undefined;
  }
  out.room(1);
  out.buf[out.pos++] = CLOSE;
  return out.done();
}
