/**
 * Checks shared by the JSON and binary codecs. Every failure is an InvalidInput whose message names
 * the tensor (`input 'x'` or `output 'y'`) and says what was expected and what was received.
 */
import { InferenceError, InvalidInput } from "../errors";
import { elementCount, isDatatype, TYPED_ARRAY } from "./datatypes";
import type { Datatype, Parameters, Tensor, TensorData } from "./types";

/** Which side of the protocol a tensor belongs to; only changes the wording of errors. */
export type TensorRole = "input" | "output";

/** Deepest shape accepted: bounds the recursion over nested JSON data and the cost of checks. */
export const MAX_RANK = 64;

/** `input 'x'`: the prefix of every per-tensor error message. */
export function label(role: TensorRole, name: string): string {
  return `${role} '${clip(name, 64)}'`;
}

/** A short, safe rendering of an untrusted value for an error message. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (ArrayBuffer.isView(v)) return `a ${String(tag(v))}`;
  switch (typeof v) {
    case "string":
      return JSON.stringify(clip(v, 32));
    case "number":
    case "boolean":
    case "bigint":
      return String(v);
    case "undefined":
      return "nothing";
    default:
      return `a value of type ${typeof v}`;
  }
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Error factory for tensors the server itself produced: a mismatch there is a bug, not bad input. */
export function internalError(message: string): Error {
  return new InferenceError("internal", message);
}

/** True for a JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `shape` rendered as in the protocol: `[2,3]`. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Row-major flat index → per-dimension indices (a zero-sized dimension gives 0). */
export function unflatten(shape: readonly number[], flat: number): number[] {
  const idx: number[] = [];
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d] ?? 1;
    idx.unshift(n > 0 ? rest % n : 0);
    rest = n > 0 ? Math.floor(rest / n) : 0;
  }
  return idx;
}

/** Datatype check: a protocol datatype name, or InvalidInput. */
export function checkDatatype(who: string, dt: unknown): Datatype {
  if (isDatatype(dt)) return dt;
  if (dt === undefined) throw new InvalidInput(`${who}: datatype is missing`);
  throw new InvalidInput(`${who}: unknown datatype ${describe(dt)}`);
}

/** Shape check: an array of at most MAX_RANK non-negative safe integers. Returns a fresh copy. */
export function checkShape(who: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw new InvalidInput(
      `${who}: shape must be an array of non-negative integers, received ${describe(shape)}`,
    );
  }
  if (shape.length > MAX_RANK) {
    throw new InvalidInput(`${who}: shape has ${shape.length} dimensions, at most ${MAX_RANK} are supported`);
  }
  const out = new Array<number>(shape.length);
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new InvalidInput(
        `${who}: shape dimension ${i} must be a non-negative integer, received ${describe(d)}`,
      );
    }
    out[i] = d;
  }
  return out;
}

/** Parameters check: an object whose values are strings, numbers or booleans. */
export function checkParameters(who: string, p: unknown): Parameters | undefined {
  if (p === undefined) return undefined;
  if (!isObject(p)) throw new InvalidInput(`${who}: parameters must be an object, received ${describe(p)}`);
  for (const [k, v] of Object.entries(p)) {
    const t = typeof v;
    if (t !== "string" && t !== "number" && t !== "boolean") {
      throw new InvalidInput(
        `${who}: parameter ${describe(k)} must be a string, number or boolean, received ${describe(v)}`,
      );
    }
  }
  return p as Parameters;
}

/** `parameters` without `binary_data_size`, or undefined when nothing else is left. */
export function withoutBinarySize(p: Parameters | undefined): Parameters | undefined {
  if (p === undefined) return undefined;
  // Object.fromEntries defines own properties, so a "__proto__" key stays a plain key.
  const entries = Object.entries(p).filter(([k]) => k !== "binary_data_size");
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/**
 * Checks that tensor data is of the kind its datatype calls for and holds elementCount(shape)
 * elements; `fail` builds the error (InvalidInput for a client's tensor, internal for a server's).
 * Typed arrays are recognised by their tag, not instanceof, so arrays from another realm pass.
 */
export function checkTensorData(t: Tensor, fail: (message: string) => Error): void {
  const who = `tensor '${clip(String(t.name), 64)}'`;
  if (!isDatatype(t.datatype)) throw fail(`${who}: unknown datatype ${describe(t.datatype)}`);
  const shape: unknown = t.shape;
  if (!Array.isArray(shape) || !shape.every((x) => Number.isSafeInteger(x) && x >= 0)) {
    throw fail(`${who}: shape must be an array of non-negative integers, received ${describe(shape)}`);
  }
  const count = elementCount(shape);
  const d: unknown = t.data;
  if (t.datatype === "BYTES") {
    if (!Array.isArray(d)) throw fail(`${who}: BYTES data must be an array of Uint8Array`);
    for (const e of d) {
      if (!ArrayBuffer.isView(e) || tag(e) !== "Uint8Array") {
        throw fail(`${who}: BYTES data must be an array of Uint8Array`);
      }
    }
  } else {
    const want = TYPED_ARRAY[t.datatype].name;
    if (!ArrayBuffer.isView(d) || tag(d) !== want) {
      throw fail(`${who}: ${t.datatype} data must be ${want}, received ${describe(d)}`);
    }
  }
  const n = (d as TensorData).length;
  if (n !== count) {
    throw fail(`${who}: expected ${count} elements for shape ${shapeText(t.shape)}, received ${n}`);
  }
}

function tag(v: object): unknown {
  return (v as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
}
