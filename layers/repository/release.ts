/**
 * What a release is held to: config.json's `release` section (when two answers agree, and whether a
 * new version must agree with the live one). The samples it is checked on: samples.ts.
 */
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

type Element = number | string | boolean;

/** Element-by-element agreement of `got` with `expected` (flat, same length) under `tolerance`. */
export interface ElementAgreement {
  /** Elements within the tolerance. */
  within: number;
  /** The element furthest past its allowance; -1 when every element is within. */
  worst: number;
  /** Largest |got - expected| and |got - expected| / |expected| (expected ≠ 0) over numeric elements. */
  maxAbs: number;
  maxRel: number;
}

/**
 * Compares two tensors' protocol JSON data element by element: numbers (booleans and numeric
 * strings as numbers, NaN equal to NaN) within abs + rel * |expected|, other strings exactly. The one
 * rule behind the release samples and the shadow comparison.
 */
export function agreement(
  expected: ReadonlyArray<Element>,
  got: ReadonlyArray<Element>,
  { abs, rel }: Tolerance,
): ElementAgreement {
  const r: ElementAgreement = { within: 0, worst: -1, maxAbs: 0, maxRel: 0 };
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as Element;
    const g = got[i] as Element;
    let excess: number;
    if (typeof e === "string" && Number.isNaN(Number(e))) excess = e === g ? 0 : Number.POSITIVE_INFINITY;
    else {
      const [en, gn] = [Number(e), Number(g)];
      const d = en === gn || (Number.isNaN(en) && Number.isNaN(gn)) ? 0 : Math.abs(gn - en);
      if (Number.isNaN(d)) excess = Number.POSITIVE_INFINITY;
      else {
        excess = d - (abs + rel * Math.abs(en));
        if (Number.isNaN(excess)) excess = Number.POSITIVE_INFINITY; // ±Infinity against each other
        r.maxAbs = Math.max(r.maxAbs, d);
        if (en !== 0) r.maxRel = Math.max(r.maxRel, d / Math.abs(en));
      }
    }
    if (excess <= 0) r.within++;
    else if (r.worst < 0 || excess > worstExcess) [r.worst, worstExcess] = [i, excess];
  }
  return r;
}

/** Field reader of a tolerance (config.json or a sample); throws through `fail`. */
export function readTolerance(
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

/** Reads `value` as a plain object with only `allowed` keys; throws through `fail`. */
export function plainObject(
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
