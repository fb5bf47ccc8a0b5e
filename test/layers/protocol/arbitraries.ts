/** fast-check generators and comparisons for protocol tensors, shared by the protocol tests. */
import fc from "fast-check";
import { expect } from "vitest";
import { InvalidInput } from "../../../layers/errors";
import { elementCount, fromHalf, TYPED_ARRAY } from "../../../layers/protocol/datatypes";
import { DATATYPES, type Datatype, type Tensor } from "../../../layers/protocol/types";

/** Property runs per test: enough to find edge cases, few enough to keep each file to seconds. */
export const RUNS = { numRuns: 200 } as const;

/**
 * The values of a 32-bit-or-smaller integer array type, worked out from its width and sign rather
 * than read from the codec's own table (INT_RANGE), which the tests check.
 */
function intBounds(Ctor: { BYTES_PER_ELEMENT: number; name: string }): [number, number] {
  const bits = 8 * Ctor.BYTES_PER_ELEMENT;
  return Ctor.name.startsWith("Int") ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

/**
 * Tensor data for `dt`. `text` restricts BYTES to valid UTF-8 (what JSON can carry); otherwise
 * BYTES elements are arbitrary bytes.
 */
export function dataArb(dt: Datatype, n: number, text: boolean): fc.Arbitrary<Tensor["data"]> {
  const len = { minLength: n, maxLength: n };
  switch (dt) {
    case "BOOL":
      return fc.array(fc.boolean(), len).map((a) => Uint8Array.from(a, (b) => (b ? 1 : 0)));
    case "UINT64":
      return fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), len).map((a) => BigUint64Array.from(a));
    case "INT64":
      return fc
        .array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), len)
        .map((a) => BigInt64Array.from(a));
    case "FP16":
      return fc.array(fc.integer({ min: 0, max: 0xffff }), len).map((a) => Uint16Array.from(a));
    case "FP32":
      return fc.array(fc.float(), len).map((a) => Float32Array.from(a));
    case "FP64":
      return fc.array(fc.double(), len).map((a) => Float64Array.from(a));
    case "BYTES":
      return text
        ? fc.array(fc.string({ unit: "grapheme", maxLength: 6 }), len).map((a) => a.map((s) => utf8(s)))
        : fc.array(fc.uint8Array({ maxLength: 6 }), len);
    default: {
      // UINT8 to INT32: small enough for numbers.
      const Ctor = TYPED_ARRAY[dt] as Uint8ArrayConstructor;
      const [min, max] = intBounds(Ctor);
      return fc.array(fc.integer({ min, max }), len).map((a) => Ctor.from(a));
    }
  }
}

/** A shape of rank 0..4 with small dimensions (zero included). */
export const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });

/** One tensor of the given (or any) datatype. */
export function tensorArb(opts: { text: boolean; datatype?: Datatype; name?: string }): fc.Arbitrary<Tensor> {
  const dtArb = opts.datatype === undefined ? fc.constantFrom(...DATATYPES) : fc.constant(opts.datatype);
  return fc
    .record({
      datatype: dtArb,
      shape: shapeArb,
      name: opts.name === undefined ? nameArb : fc.constant(opts.name),
    })
    .chain(({ datatype, shape, name }) =>
      dataArb(datatype, elementCount(shape), opts.text).map(
        (data): Tensor => ({ name, datatype, shape, data }),
      ),
    );
}

/** Tensor names: any string, including empty and non-ASCII ones. */
export const nameArb = fc.string({ unit: "grapheme", maxLength: 8 });

/** 1..3 tensors with distinct names. */
export function tensorsArb(text: boolean): fc.Arbitrary<Tensor[]> {
  return fc
    .uniqueArray(nameArb, { minLength: 1, maxLength: 3 })
    .chain((names) => fc.tuple(...names.map((name) => tensorArb({ text, name }))));
}

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** The value a JSON round trip must preserve: floats by value (NaN = NaN, -0 = 0), others exactly. */
function jsonView(t: Tensor): unknown[] {
  if (Array.isArray(t.data)) return t.data.map((b) => Array.from(b));
  if (t.datatype === "FP16") return Array.from(t.data as Uint16Array, (h) => norm(fromHalf(h)));
  if (t.datatype === "FP32" || t.datatype === "FP64") return Array.from(t.data as Float64Array, norm);
  return Array.from(t.data as Uint8Array);
}

function norm(v: number): number | string {
  return Number.isNaN(v) ? "NaN" : v === 0 ? 0 : v;
}

/** Asserts two tensors equal as a JSON round trip must keep them. */
export function expectSameJSON(got: Tensor | undefined, want: Tensor): void {
  expect(got?.name).toBe(want.name);
  expect(got?.datatype).toBe(want.datatype);
  expect(got?.shape).toEqual(want.shape);
  expect(got?.data.constructor).toBe(want.data.constructor);
  expect(got && jsonView(got)).toEqual(jsonView(want));
}

/** Asserts two tensors equal bit for bit, as a binary round trip must keep them. */
export function expectSameBits(got: Tensor | undefined, want: Tensor): void {
  expect(got?.name).toBe(want.name);
  expect(got?.datatype).toBe(want.datatype);
  expect(got?.shape).toEqual(want.shape);
  expect(got?.data.constructor).toBe(want.data.constructor);
  if (Array.isArray(want.data)) {
    expect((got?.data as Uint8Array[] | undefined)?.map((b) => Array.from(b))).toEqual(
      want.data.map((b) => Array.from(b)),
    );
  } else {
    const bytes = (d: Tensor["data"]) =>
      Array.from(
        new Uint8Array((d as Uint8Array).buffer, (d as Uint8Array).byteOffset, (d as Uint8Array).byteLength),
      );
    expect(got && bytes(got.data)).toEqual(bytes(want.data));
  }
}

/** Asserts that `f` throws InvalidInput with a message matching `message`. */
export function expectInvalid(f: () => unknown, message: RegExp | string): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(InvalidInput);
  expect((thrown as Error).message).toMatch(message);
}

/** A body as a server receives it: JSON header, then raw bytes. */
export function body(header: unknown, ...chunks: number[][]): { body: Uint8Array; headerLength: number } {
  const json = utf8(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(json.byteLength + chunks.reduce((n, c) => n + c.length, 0));
  out.set(json);
  let off = json.byteLength;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return { body: out, headerLength: json.byteLength };
}

/** A JSON-only body. */
export const json = (header: unknown) => utf8(typeof header === "string" ? header : JSON.stringify(header));
/** An FP32 [2] input entry, with overrides. */
export const fp32In = (over: object = {}) => ({ name: "x", datatype: "FP32", shape: [2], ...over });
/** FP32 values as little-endian bytes. */
export const f32 = (...v: number[]) => Array.from(new Uint8Array(Float32Array.from(v).buffer));

/** The JSON header of an encoded body, parsed. */
export function header(encoded: { body: Uint8Array; headerLength?: number }): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(encoded.body.subarray(0, encoded.headerLength)));
}

/** Nests flat data along `shape` (rank >= 1), as a client may send it. */
export function nest(flat: unknown[], shape: readonly number[]): unknown[] {
  if (shape.length <= 1) return flat;
  const [, ...inner] = shape;
  const stride = inner.reduce((a, b) => a * b, 1);
  const out: unknown[] = [];
  for (let i = 0; i < (shape[0] ?? 0); i++) out.push(nest(flat.slice(i * stride, (i + 1) * stride), inner));
  return out;
}
