/**
 * What a release is held to: config.json's `release` section (when two answers agree, and whether a
 * new version must agree with the live one) and the repository's `<model>/<version>/samples/*.json`,
 * an infer request plus the outputs it must give. Read by the pre-traffic hook (functions/release-hook).
 */
import { DATATYPES, type Datatype, type InferRequest } from "../protocol/types";
import type { FieldReader } from "./config-fields";

/** Two numbers agree when |got - expected| <= abs + rel * |expected|. */
export interface Tolerance {
  abs: number;
  rel: number;
}

/** A tolerance for every output, optionally overridden per output name. */
export interface ReleaseTolerance extends Tolerance {
  /** Per output name; fields left out come from the model-wide values. */
  outputs?: Record<string, Tolerance>;
}

/** config.json `release`. */
export interface ReleaseConfig {
  tolerance: ReleaseTolerance;
  /** True: a new version must agree with the live one on generated inputs (re-exports, quantised variants). */
  compare_with_live: boolean;
}

/** Defaults of the `release` section. */
export const DEFAULT_RELEASE: Readonly<ReleaseConfig> = {
  tolerance: { abs: 1e-4, rel: 1e-3 },
  compare_with_live: false,
};

/** The tolerance that applies to `output`. */
export function toleranceFor(t: ReleaseTolerance, output: string): Tolerance {
  const own = t.outputs?.[output];
  return { abs: own?.abs ?? t.abs, rel: own?.rel ?? t.rel };
}

/** Field reader of a tolerance (config.json or a sample); throws through `fail`. */
function readTolerance(
  value: unknown,
  path: string,
  base: ReleaseTolerance,
  fail: (path: string, text: string) => Error,
): ReleaseTolerance {
  const t = plainObject(value, path, ["abs", "rel", "outputs"], fail);
  const bound = (v: unknown, p: string, fallback: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
      throw fail(p, `must be a non-negative number, received ${JSON.stringify(v)}`);
    return v;
  };
  const result: ReleaseTolerance = {
    abs: bound(t.abs, `${path}.abs`, base.abs),
    rel: bound(t.rel, `${path}.rel`, base.rel),
  };
  const outputs: Record<string, Tolerance> = { ...base.outputs };
  if (t.outputs !== undefined) {
    const o = plainObject(t.outputs, `${path}.outputs`, undefined, fail);
    for (const [name, v] of Object.entries(o)) {
      const p = `${path}.outputs.${name}`;
      const one = plainObject(v, p, ["abs", "rel"], fail);
      outputs[name] = {
        abs: bound(one.abs, `${p}.abs`, result.abs),
        rel: bound(one.rel, `${p}.rel`, result.rel),
      };
    }
  }
  if (Object.keys(outputs).length > 0) result.outputs = outputs;
  return result;
}

function plainObject(
  value: unknown,
  path: string,
  allowed: readonly string[] | undefined,
  fail: (path: string, text: string) => Error,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw fail(path, "must be an object");
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (allowed !== undefined && !allowed.includes(key))
      throw fail(path, `has unknown field '${key}' (allowed: ${allowed.join(", ")})`);
  }
  return record;
}

/** config.json `release`, validated, with defaults. */
export function parseReleaseConfig(r: FieldReader, value: unknown): ReleaseConfig {
  if (value === undefined) return { tolerance: { ...DEFAULT_RELEASE.tolerance }, compare_with_live: false };
  const fail = (path: string, text: string) => r.error(path, text);
  const doc = r.object(value, "release", ["tolerance", "compare_with_live"]);
  return {
    tolerance:
      doc.tolerance === undefined
        ? { ...DEFAULT_RELEASE.tolerance }
        : readTolerance(doc.tolerance, "release.tolerance", DEFAULT_RELEASE.tolerance, fail),
    compare_with_live: r.boolean(doc.compare_with_live, "release.compare_with_live", false),
  };
}

/** One expected output of a sample: `data` flat (row-major) or nested as in the protocol's JSON. */
export interface ExpectedOutput {
  name: string;
  datatype: Datatype;
  shape: number[];
  /** Flattened; numbers, booleans, or strings (BYTES, and "NaN"/"Infinity" as the protocol writes them). */
  data: Array<number | string | boolean>;
}

/** `<model>/<version>/samples/<name>.json`. */
export interface ReleaseSample {
  /** The file name without `.json`. */
  name: string;
  /** A protocol infer request, JSON tensors. */
  request: InferRequest;
  expected: ExpectedOutput[];
  /** Overrides config.json's `release.tolerance` for this sample. */
  tolerance?: ReleaseTolerance;
}

/** A sample file that cannot be used; the message names the sample and the field. */
export class SampleError extends Error {
  override name = "SampleError";
}

/** Parses a sample file's text; `base` is the model's tolerance a sample's own refines. */
export function parseSample(text: string, name: string, base: ReleaseTolerance): ReleaseSample {
  const fail = (path: string, t: string) => new SampleError(`sample '${name}': ${path} ${t}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SampleError(`sample '${name}': not valid JSON`);
  }
  const doc = plainObject(json, "the document", ["request", "expected", "tolerance"], fail);
  const request = plainObject(doc.request, "request", undefined, fail);
  if (!Array.isArray(request.inputs) || request.inputs.length === 0)
    throw fail("request.inputs", "must be a non-empty array");
  const expected = plainObject(doc.expected, "expected", ["outputs"], fail);
  if (!Array.isArray(expected.outputs) || expected.outputs.length === 0)
    throw fail("expected.outputs", "must be a non-empty array");
  const outputs = expected.outputs.map((o, i) => expectedOutput(o, `expected.outputs[${i}]`, fail));
  const sample: ReleaseSample = { name, request: request as unknown as InferRequest, expected: outputs };
  if (doc.tolerance !== undefined) sample.tolerance = readTolerance(doc.tolerance, "tolerance", base, fail);
  return sample;
}

function expectedOutput(
  value: unknown,
  path: string,
  fail: (path: string, text: string) => Error,
): ExpectedOutput {
  const o = plainObject(value, path, ["name", "datatype", "shape", "data"], fail);
  if (typeof o.name !== "string" || o.name === "") throw fail(`${path}.name`, "must be a non-empty string");
  if (typeof o.datatype !== "string" || !(DATATYPES as readonly string[]).includes(o.datatype))
    throw fail(`${path}.datatype`, `must be a protocol datatype, received ${JSON.stringify(o.datatype)}`);
  if (!Array.isArray(o.shape) || !o.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw fail(`${path}.shape`, "must be an array of non-negative integers");
  const data = Array.isArray(o.data) ? (o.data.flat(Number.POSITIVE_INFINITY) as unknown[]) : undefined;
  if (data === undefined || !data.every((v) => ["number", "string", "boolean"].includes(typeof v)))
    throw fail(`${path}.data`, "must be an array of numbers, strings or booleans");
  const count = (o.shape as number[]).reduce((a, b) => a * b, 1);
  if (data.length !== count)
    throw fail(
      `${path}.data`,
      `holds ${data.length} elements, shape ${JSON.stringify(o.shape)} needs ${count}`,
    );
  return {
    name: o.name,
    datatype: o.datatype as Datatype,
    shape: o.shape as number[],
    data: data as ExpectedOutput["data"],
  };
}
