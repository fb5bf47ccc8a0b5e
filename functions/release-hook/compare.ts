/**
 * The pure parts of the pre-traffic check: signatures compared, requests generated from a signature,
 * outputs held to expected values within a tolerance. Each finding is one line a person can act on.
 */
import { tensorToJSONData } from "../../layers/protocol/json";
import type { InferRequest, RequestInput, Tensor, TensorMetadata } from "../../layers/protocol/types";
import { type ExpectedOutput, type ReleaseTolerance, toleranceFor } from "../../layers/repository/release";
import { unflatten } from "../../layers/shadow/compare";

type Signature = { inputs: TensorMetadata[]; outputs: TensorMetadata[] };

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;

/** Two shapes are compatible when their ranks match and each fixed dimension matches or is free (-1). */
function compatible(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === -1 || b[i] === -1 || d === b[i]);
}

/** What differs between the signature served now and a new version's: empty when it is the same model. */
export function signatureChanges(live: Signature, next: Signature): string[] {
  const changes: string[] = [];
  for (const role of ["inputs", "outputs"] as const) {
    const was = new Map(live[role].map((t) => [t.name, t]));
    const now = new Map(next[role].map((t) => [t.name, t]));
    const kind = role.slice(0, -1);
    for (const [name, t] of was) {
      const n = now.get(name);
      if (n === undefined) changes.push(`${kind} '${name}' is gone`);
      else if (n.datatype !== t.datatype)
        changes.push(`${kind} '${name}' datatype ${t.datatype} → ${n.datatype}`);
      else if (!compatible(t.shape, n.shape))
        changes.push(`${kind} '${name}' shape ${shapeText(t.shape)} → ${shapeText(n.shape)}`);
    }
    for (const name of now.keys()) if (!was.has(name)) changes.push(`${kind} '${name}' is new`);
  }
  return changes;
}

/** A named request generated from a signature. */
export interface GeneratedRequest {
  name: string;
  request: InferRequest;
}

const FLOATS = new Set(["FP16", "FP32", "FP64"]);

/** Deterministic values in [0, 1) for floats, 0..2 for integers, alternating for BOOL. */
function values(datatype: string, count: number, seed: number): Array<number | boolean> {
  const out: Array<number | boolean> = new Array(count);
  for (let i = 0; i < count; i++) {
    const u = (Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453) % 1;
    const r = Math.abs(u);
    if (datatype === "BOOL") out[i] = (i + seed) % 2 === 0;
    else if (FLOATS.has(datatype)) out[i] = Math.round(r * 1e4) / 1e4;
    else out[i] = Math.floor(r * 3);
  }
  return out;
}

/**
 * Requests from the input signature: every free dimension 1, then every free dimension 2. None when
 * an input is BYTES (no meaningful value can be made up: such models rely on their samples).
 */
export function generatedRequests(inputs: readonly TensorMetadata[]): GeneratedRequest[] | string {
  const bytes = inputs.find((i) => i.datatype === "BYTES");
  if (bytes !== undefined) return `input '${bytes.name}' is BYTES`;
  return [1, 2].map((free) => ({
    name: `generated (free dimensions = ${free})`,
    request: {
      inputs: inputs.map((t, k): RequestInput => {
        const shape = t.shape.map((d) => (d === -1 ? free : d));
        const count = shape.reduce((a, b) => a * b, 1);
        return { name: t.name, datatype: t.datatype, shape, data: values(t.datatype, count, free * 31 + k) };
      }),
    },
  }));
}

/** Output tensors as the protocol's JSON writes them (what samples hold). */
export function asExpected(t: Tensor): ExpectedOutput {
  return { name: t.name, datatype: t.datatype, shape: t.shape, data: tensorToJSONData(t) };
}

/** Problems of outputs against the signature: missing, wrong datatype or shape, non-finite values. */
export function outputProblems(outputs: readonly Tensor[], signature: readonly TensorMetadata[]): string[] {
  const byName = new Map(outputs.map((t) => [t.name, t]));
  const problems: string[] = [];
  for (const meta of signature) {
    const t = byName.get(meta.name);
    if (t === undefined) {
      problems.push(`output '${meta.name}' is missing`);
      continue;
    }
    if (t.datatype !== meta.datatype)
      problems.push(`output '${meta.name}': datatype ${t.datatype}, signature says ${meta.datatype}`);
    if (!compatible(meta.shape, t.shape))
      problems.push(
        `output '${meta.name}': shape ${shapeText(t.shape)}, signature says ${shapeText(meta.shape)}`,
      );
    if (FLOATS.has(t.datatype)) {
      const data = tensorToJSONData(t);
      const bad = data.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
      if (bad >= 0)
        problems.push(
          `output '${meta.name}': element ${indexText(t.shape, bad)} is ${String(data[bad])} (not finite)`,
        );
    }
  }
  return problems;
}

/** Row-major flat index → `[i, j, ...]`. */
const indexText = (shape: readonly number[], flat: number): string => shapeText(unflatten(shape, flat));

const asNumber = (v: number | string | boolean): number =>
  typeof v === "boolean" ? Number(v) : typeof v === "number" ? v : Number(v);

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
    let worst = -1;
    let worstExcess = 0;
    let differing = 0;
    for (let i = 0; i < want.data.length; i++) {
      const e = want.data[i] as number | string | boolean;
      const g = data[i] as number | string | boolean;
      let excess: number;
      if (typeof e === "string" && Number.isNaN(Number(e))) excess = e === g ? 0 : Number.POSITIVE_INFINITY;
      else {
        const [en, gn] = [asNumber(e), asNumber(g)];
        if (Number.isNaN(en) && Number.isNaN(gn)) excess = 0;
        else if (en === gn) excess = 0;
        else excess = Math.abs(gn - en) - (abs + rel * Math.abs(en));
        if (Number.isNaN(excess)) excess = Number.POSITIVE_INFINITY;
      }
      if (excess > 0) {
        differing++;
        if (worst < 0 || excess > worstExcess) [worst, worstExcess] = [i, excess];
      }
    }
    if (worst >= 0) {
      found.push(
        `output '${want.name}': ${differing} of ${want.data.length} elements beyond abs ${abs} + rel ${rel}; ` +
          `worst element ${indexText(want.shape, worst)}: expected ${String(want.data[worst])}, got ${String(data[worst])}`,
      );
    }
  }
  return found;
}
