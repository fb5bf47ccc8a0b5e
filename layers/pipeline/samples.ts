/**
 * `<model>/<version>/samples/<name>.json`: an infer request in the protocol's JSON form plus its
 * expected outputs and tolerance. A pipeline warms up with its version's first sample and is ready
 * only when the answer agrees.
 */
import { ModelNotReady } from "../errors";
import { tensorFromJSON } from "../protocol/json";
import type { RequestInput, Tensor } from "../protocol/types";

/** Agreement bounds: |got − expected| ≤ abs + rel·|expected|. */
export interface Tolerance {
  abs: number;
  rel: number;
}

/** A parsed sample. */
export interface Sample {
  name: string;
  inputs: Tensor[];
  expected: Tensor[];
  /** Per output name; `*` for the rest. */
  tolerance: Record<string, Tolerance>;
}

/** Parses a sample file's text; ModelNotReady naming the file on a malformed one. */
export function parseSample(text: string, name: string): Sample {
  const fail = (why: string, cause?: unknown) => new ModelNotReady(`sample '${name}': ${why}`, { cause });
  let doc: { inputs?: unknown; outputs?: unknown; tolerance?: unknown };
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw fail("not valid JSON", cause);
  }
  if (!Array.isArray(doc.inputs) || !Array.isArray(doc.outputs))
    throw fail("needs arrays inputs and outputs");
  const inputs = tensors(doc.inputs, "input", fail);
  const expected = tensors(doc.outputs, "output", fail);
  return { name, inputs, expected, tolerance: tolerances(doc.tolerance, fail) };
}

function tensors(
  items: unknown[],
  role: "input" | "output",
  fail: (why: string, cause?: unknown) => Error,
): Tensor[] {
  try {
    return items.map((t) => tensorFromJSON(t as RequestInput, role));
  } catch (cause) {
    throw fail(`${role}s: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
}

function tolerances(value: unknown, fail: (why: string) => Error): Record<string, Tolerance> {
  const one = (v: unknown, where: string): Tolerance => {
    const t = (v ?? {}) as { abs?: unknown; rel?: unknown };
    const num = (x: unknown) => (x === undefined ? 0 : typeof x === "number" && x >= 0 ? x : Number.NaN);
    const r = { abs: num(t.abs), rel: num(t.rel) };
    if (Number.isNaN(r.abs) || Number.isNaN(r.rel))
      throw fail(`tolerance${where} needs non-negative numbers abs and rel`);
    return r;
  };
  if (value === undefined) return { "*": { abs: 0, rel: 0 } };
  const v = value as Record<string, unknown>;
  if ("abs" in v || "rel" in v) return { "*": one(v, "") };
  const out: Record<string, Tolerance> = { "*": { abs: 0, rel: 0 } };
  for (const [k, t] of Object.entries(v)) out[k] = one(t, `.${k}`);
  return out;
}

/** The first way `got` differs from the sample's expected outputs, or undefined when they agree. */
export function disagreement(sample: Sample, got: readonly Tensor[]): string | undefined {
  for (const exp of sample.expected) {
    const t = got.find((g) => g.name === exp.name);
    if (t === undefined) return `output '${exp.name}' is missing`;
    if (t.datatype !== exp.datatype || t.shape.join() !== exp.shape.join()) {
      return `output '${exp.name}' is ${t.datatype} [${t.shape}], expected ${exp.datatype} [${exp.shape}]`;
    }
    const tol = sample.tolerance[exp.name] ?? sample.tolerance["*"] ?? { abs: 0, rel: 0 };
    for (let i = 0; i < exp.data.length; i++) {
      const a = t.data[i];
      const b = exp.data[i];
      if (a instanceof Uint8Array && b instanceof Uint8Array) {
        if (Buffer.compare(a, b) !== 0)
          return `output '${exp.name}'[${i}] is ${text(a)}, expected ${text(b)}`;
      } else if (Math.abs(Number(a) - Number(b)) > tol.abs + tol.rel * Math.abs(Number(b))) {
        return `output '${exp.name}'[${i}] is ${Number(a)}, expected ${Number(b)} (abs ${tol.abs}, rel ${tol.rel})`;
      }
    }
  }
  return undefined;
}

const text = (b: Uint8Array) => JSON.stringify(new TextDecoder().decode(b));
