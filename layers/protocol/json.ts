/**
 * JSON tensor data <-> in-memory tensors.
 *
 * Wire conventions beyond the letter of the protocol, chosen so that every tensor survives a JSON
 * round trip:
 * - INT64/UINT64 are written as numbers while |v| <= Number.MAX_SAFE_INTEGER, otherwise as decimal
 *   strings; both forms are read back.
 * - FP16/FP32/FP64 NaN and infinities, which JSON numbers cannot express, are written as the strings
 *   "NaN", "Infinity", "-Infinity"; those strings are read back.
 * - BYTES elements are UTF-8 strings; bytes that are not valid UTF-8 are written with U+FFFD
 *   replacement characters (lossy): the binary extension is the lossless path for them.
 */
import { InvalidInput } from "../errors";
import {
  checkDatatype,
  checkParameters,
  checkShape,
  checkTensorData,
  describe,
  internalError,
  isObject,
  label,
  shapeText,
  type TensorRole,
  withoutBinarySize,
} from "./checks";
import { elementCount, fromHalf, toHalf } from "./datatypes";
import { allocate, BIG_RANGE, DecodedData, INT_RANGE } from "./json-data";
import type { Datatype, RequestInput, Tensor, TensorData } from "./types";

type Dest = Exclude<TensorData, Uint8Array[]>;

/** A decimal integer short enough to bound BigInt parsing (2^64 has 20 digits). */
const DECIMAL = /^-?\d{1,20}$/;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

const utf8 = new TextEncoder();
const utf8Lossy = new TextDecoder();

/**
 * Decodes one JSON input (flat or nested `data`) into a tensor; throws InvalidInput naming it.
 * `role` only changes the wording of errors (client side decodes outputs with it).
 */
export function tensorFromJSON(input: RequestInput, role: TensorRole = "input"): Tensor {
  const raw: unknown = input;
  if (!isObject(raw)) throw new InvalidInput(`${role}: expected an object, received ${describe(raw)}`);
  const name = raw.name;
  if (typeof name !== "string") {
    throw new InvalidInput(`${role}: name must be a string, received ${describe(name)}`);
  }
  const who = label(role, name);
  const datatype = checkDatatype(who, raw.datatype);
  const shape = checkShape(who, raw.shape);
  const data = raw.data;
  if (data instanceof DecodedData)
    return withParameters(who, raw.parameters, { name, datatype, shape, data: data.data });
  if (data === undefined) throw new InvalidInput(`${who}: data is missing`);
  if (!Array.isArray(data))
    throw new InvalidInput(`${who}: data must be an array, received ${describe(data)}`);
  const count = elementCount(shape);
  // The data's structure is checked before allocating: a hostile shape must not make us reserve
  // more memory than the parsed JSON itself holds.
  let rows: unknown[][];
  if (shape.length > 1 && data.length > 0 && Array.isArray(data[0])) {
    // Nested data is recognised by its first element; a flat array holding arrays fails per element.
    rows = [];
    collectRows(who, shape, data, 0, rows);
  } else {
    if (data.length !== count) {
      throw new InvalidInput(
        `${who}: expected ${count} elements for shape ${shapeText(shape)}, received ${data.length}`,
      );
    }
    rows = [data];
  }
  const out = allocate(datatype, count);
  let off = 0;
  for (const row of rows) {
    fillRow(who, datatype, row, out, off);
    off += row.length;
  }
  return withParameters(who, raw.parameters, { name, datatype, shape, data: out });
}

function withParameters(who: string, raw: unknown, t: Tensor): Tensor {
  const parameters = withoutBinarySize(checkParameters(who, raw));
  if (parameters !== undefined) t.parameters = parameters;
  return t;
}

/** Tensor data as the flat JSON array of the protocol (see the module comment for conventions). */
export function tensorToJSONData(t: Tensor): Array<number | string | boolean> {
  checkTensorData(t, internalError);
  const d = t.data;
  if (Array.isArray(d)) {
    const out = new Array<string>(d.length);
    for (let i = 0; i < d.length; i++) out[i] = utf8Lossy.decode(d[i]);
    return out;
  }
  const n = d.length;
  switch (t.datatype) {
    case "BOOL": {
      const out = new Array<boolean>(n);
      for (let i = 0; i < n; i++) out[i] = d[i] !== 0;
      return out;
    }
    case "INT64":
    case "UINT64": {
      const out = new Array<number | string>(n);
      for (let i = 0; i < n; i++) {
        const v = d[i] as bigint;
        out[i] = v <= MAX_SAFE_BIG && v >= -MAX_SAFE_BIG ? Number(v) : v.toString();
      }
      return out;
    }
    case "FP16": {
      const out = new Array<number | string>(n);
      for (let i = 0; i < n; i++) out[i] = finiteOrText(fromHalf(d[i] as number));
      return out;
    }
    case "FP32":
    case "FP64": {
      const out = new Array<number | string>(n);
      for (let i = 0; i < n; i++) out[i] = finiteOrText(d[i] as number);
      return out;
    }
    default:
      return Array.from(d as Exclude<Dest, BigInt64Array | BigUint64Array>);
  }
}

/** A float as JSON writes it: the number, or the protocol's string for NaN and the infinities. */
export function finiteOrText(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
}

/** Walks nested arrays checking each level against the shape; collects the innermost rows in order. */
function collectRows(
  who: string,
  shape: readonly number[],
  node: unknown,
  depth: number,
  rows: unknown[][],
): void {
  const want = shape[depth] ?? 0;
  if (!Array.isArray(node) || node.length !== want) {
    const got = Array.isArray(node) ? `${node.length} elements` : describe(node);
    throw new InvalidInput(
      `${who}: nested data does not match shape ${shapeText(shape)}: expected ${want} elements at depth ${depth}, received ${got}`,
    );
  }
  if (depth === shape.length - 1) rows.push(node);
  else for (let i = 0; i < want; i++) collectRows(who, shape, node[i], depth + 1, rows);
}

/** Converts one flat run of JSON elements into `out` at `off`, checking every element. */
function fillRow(who: string, dt: Datatype, src: readonly unknown[], out: TensorData, off: number): void {
  const n = src.length;
  switch (dt) {
    case "FP32":
    case "FP64": {
      const dst = out as Float32Array | Float64Array;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        dst[off + i] = typeof v === "number" ? inRange(who, dt, v, off + i) : floatText(who, dt, v, off + i);
      }
      return;
    }
    case "FP16": {
      const dst = out as Uint16Array;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        dst[off + i] = toHalf(
          typeof v === "number" ? inRange(who, dt, v, off + i) : floatText(who, dt, v, off + i),
        );
      }
      return;
    }
    case "BOOL": {
      const dst = out as Uint8Array;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (v === true || v === 1) dst[off + i] = 1;
        else if (v !== false && v !== 0) {
          throw new InvalidInput(
            `${who}: expected a boolean for BOOL at element ${off + i}, received ${describe(v)}`,
          );
        }
      }
      return;
    }
    case "INT64":
    case "UINT64": {
      const dst = out as BigInt64Array | BigUint64Array;
      for (let i = 0; i < n; i++) dst[off + i] = toBigInt(who, dt, src[i], off + i);
      return;
    }
    case "BYTES": {
      const dst = out as Uint8Array[];
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (typeof v !== "string") {
          throw new InvalidInput(
            `${who}: expected a string for BYTES at element ${off + i}, received ${describe(v)}`,
          );
        }
        dst[off + i] = utf8.encode(v);
      }
      return;
    }
    default: {
      const [lo, hi] = INT_RANGE[dt];
      const dst = out as Exclude<Dest, Float32Array | Float64Array | BigInt64Array | BigUint64Array>;
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (typeof v !== "number" || !Number.isInteger(v)) {
          throw new InvalidInput(
            `${who}: expected an integer for ${dt} at element ${off + i}, received ${describe(v)}`,
          );
        }
        if (v < lo || v > hi) {
          throw new InvalidInput(
            `${who}: element ${off + i} (${v}) is out of range for ${dt} [${lo}, ${hi}]`,
          );
        }
        dst[off + i] = v;
      }
    }
  }
}

const FLOAT_MAX = { FP16: 65504, FP32: 3.4028234663852886e38, FP64: Number.MAX_VALUE } as const;

/** A JSON number must stay finite in its float type (NaN and infinities travel as strings). */
function inRange(who: string, dt: "FP16" | "FP32" | "FP64", v: number, at: number): number {
  const stored = dt === "FP64" ? v : dt === "FP32" ? Math.fround(v) : fromHalf(toHalf(v));
  if (Number.isFinite(stored)) return v;
  const max = FLOAT_MAX[dt];
  throw new InvalidInput(`${who}: element ${at} (${v}) is out of range for ${dt} [${-max}, ${max}]`);
}

/** The non-number spellings of floats accepted in JSON; anything else is rejected. */
function floatText(who: string, dt: Datatype, v: unknown, at: number): number {
  if (v === "NaN") return Number.NaN;
  if (v === "Infinity") return Number.POSITIVE_INFINITY;
  if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
  throw new InvalidInput(`${who}: expected a number for ${dt} at element ${at}, received ${describe(v)}`);
}

function toBigInt(who: string, dt: "INT64" | "UINT64", v: unknown, at: number): bigint {
  let b: bigint;
  if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === "string" && DECIMAL.test(v)) b = BigInt(v);
  else {
    throw new InvalidInput(
      `${who}: expected a safe integer or a decimal string for ${dt} at element ${at}, received ${describe(v)}`,
    );
  }
  const [lo, hi] = BIG_RANGE[dt];
  if (b < lo || b > hi) {
    throw new InvalidInput(`${who}: element ${at} (${b}) is out of range for ${dt} [${lo}, ${hi}]`);
  }
  return b;
}
