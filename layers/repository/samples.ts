/**
 * `<model>/<version>/samples/<name>.json`, the one sample format: an infer request in the protocol's
 * JSON form, the outputs it must give and (optionally) its own tolerance. The pre-traffic hook
 * (functions/release-hook) checks a new version on every sample; a pipeline warms up on its first.
 */
import { unflatten } from "../protocol/checks";
import { tensorToJSONData } from "../protocol/json";
import { DATATYPES, type Datatype, type InferRequest, type Tensor } from "../protocol/types";
import { agreement, plainObject, type ReleaseTolerance, readTolerance, toleranceFor } from "./release";

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;

/** One expected output of a sample: `data` flat (row-major) or nested as in the protocol's JSON. */
export interface ExpectedOutput {
  name: string;
  datatype: Datatype;
  shape: number[];
  /** Flattened; numbers, booleans, or strings (BYTES, and "NaN"/"Infinity" as the protocol writes them). */
  data: Array<number | string | boolean>;
}

/** `<model>/<version>/samples/<name>.json`. */
export interface Sample {
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
export function parseSample(text: string, name: string, base: ReleaseTolerance): Sample {
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
  const sample: Sample = { name, request: request as unknown as InferRequest, expected: outputs };
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

/** Row-major flat index → `[i, j, ...]`. */
export function indexText(shape: readonly number[], flat: number): string {
  return shapeText(unflatten(shape, flat));
}

/**
 * How `got` differs from `expected` beyond `tolerance`: per output, its worst element (the one
 * furthest past its allowance), expected vs got. Empty when every output agrees.
 */
export function disagreements(
  expected: readonly ExpectedOutput[],
  got: readonly Tensor[],
  tolerance: ReleaseTolerance,
): string[] {
  const byName = new Map(got.map((t) => [t.name, t]));
  const found: string[] = [];
  for (const want of expected) {
    const t = byName.get(want.name);
    if (t === undefined) {
      found.push(`output '${want.name}' is missing`);
      continue;
    }
    if (t.datatype !== want.datatype || t.shape.join() !== want.shape.join()) {
      found.push(
        `output '${want.name}': expected ${want.datatype} ${shapeText(want.shape)}, got ${t.datatype} ${shapeText(t.shape)}`,
      );
      continue;
    }
    const data = tensorToJSONData(t);
    const { abs, rel } = toleranceFor(tolerance, want.name);
    const { within, worst } = agreement(want.data, data, { abs, rel });
    const differing = want.data.length - within;
    if (worst >= 0) {
      found.push(
        `output '${want.name}': ${differing} of ${want.data.length} elements beyond abs ${abs} + rel ${rel}; ` +
          `worst element ${indexText(want.shape, worst)}: expected ${String(want.data[worst])}, got ${String(data[worst])}`,
      );
    }
  }
  return found;
}
