/**
 * Output-by-output comparison of a live answer with a shadow version's answer to the same request:
 * shape and datatype equality, max absolute and relative difference, the share of elements within
 * `release.tolerance`, and argmax agreement over the last dimension for classifier-like outputs.
 * Pure: the gateway's mirror (local mode) and a comparison function (AWS) share it.
 */
import { unflatten } from "../protocol/checks";
import { tensorToJSONData } from "../protocol/json";
import type { Tensor } from "../protocol/types";
import { agreement, type ReleaseTolerance, type Tolerance, toleranceFor } from "../repository/release";

/** How one output of the shadow answer compares with the live one. */
export interface OutputComparison {
  output: string;
  /** False: datatype or shape differ (or the output is missing); nothing else was compared. */
  sameShape: boolean;
  maxAbsDiff: number;
  /** max |shadow - live| / |live| over elements whose live value is not 0. */
  maxRelDiff: number;
  /** Share (0–1) of elements within the tolerance. */
  withinShare: number;
  /** Share (0–1) of rows whose argmax over the last dimension agrees; only for `argmax` outputs. */
  argmaxAgreement?: number;
  /** The element furthest past its allowance (row-major indices), live vs shadow value. */
  worst?: { index: number[]; live: number | string | boolean; shadow: number | string | boolean };
  /** Every element within tolerance (and every argmax equal). */
  agrees: boolean;
}

const num = (v: number | string | boolean): number => (typeof v === "boolean" ? Number(v) : Number(v));

/** Compares every live output with the shadow's output of the same name. */
export function compareOutputs(
  live: readonly Tensor[],
  shadow: readonly Tensor[],
  tolerance: ReleaseTolerance,
  argmaxOutputs: readonly string[] = [],
): OutputComparison[] {
  const byName = new Map(shadow.map((t) => [t.name, t]));
  return live.map((l) => {
    const s = byName.get(l.name);
    if (s === undefined || s.datatype !== l.datatype || s.shape.join() !== l.shape.join()) {
      return {
        output: l.name,
        sameShape: false,
        maxAbsDiff: 0,
        maxRelDiff: 0,
        withinShare: 0,
        agrees: false,
      };
    }
    const c = compareTensor(l, s, toleranceFor(tolerance, l.name));
    if (argmaxOutputs.includes(l.name)) {
      c.argmaxAgreement = argmaxAgreement(tensorToJSONData(l), tensorToJSONData(s), l.shape);
      if (c.argmaxAgreement < 1) c.agrees = false;
    }
    return c;
  });
}

function compareTensor(l: Tensor, s: Tensor, tolerance: Tolerance): OutputComparison {
  const a = tensorToJSONData(l);
  const b = tensorToJSONData(s);
  const { within, worst, maxAbs, maxRel } = agreement(a, b, tolerance);
  const c: OutputComparison = {
    output: l.name,
    sameShape: true,
    maxAbsDiff: maxAbs,
    maxRelDiff: maxRel,
    withinShare: a.length === 0 ? 1 : within / a.length,
    agrees: worst < 0,
  };
  if (worst >= 0) {
    c.worst = {
      index: unflatten(l.shape, worst),
      live: a[worst] as number | string | boolean,
      shadow: b[worst] as number | string | boolean,
    };
  }
  return c;
}

/** Share of rows (all but the last dimension) whose largest element sits at the same index. */
function argmaxAgreement(
  a: ReadonlyArray<number | string | boolean>,
  b: ReadonlyArray<number | string | boolean>,
  shape: readonly number[],
): number {
  const width = shape.at(-1) ?? 1;
  if (width < 1 || a.length === 0) return 1;
  const rows = a.length / width;
  let same = 0;
  for (let r = 0; r < rows; r++) {
    let ia = 0;
    let ib = 0;
    for (let k = 1; k < width; k++) {
      if (num(a[r * width + k] as number) > num(a[r * width + ia] as number)) ia = k;
      if (num(b[r * width + k] as number) > num(b[r * width + ib] as number)) ib = k;
    }
    if (ia === ib) same++;
  }
  return same / rows;
}
