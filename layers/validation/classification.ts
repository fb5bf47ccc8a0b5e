/**
 * Triton's classification extension: `parameters.classification: K` on a requested output answers
 * that output's K largest elements (per batch item) as BYTES strings `"score:index"`, or
 * `"score:index:label"` with the version's labels.txt, in Triton's format (scores of float types
 * with 6 decimals, as C++'s std::to_string writes them).
 */
import { InvalidInput } from "../errors";
import { fromHalf } from "../protocol/datatypes";
import type { RequestOutput, Tensor, TensorMetadata } from "../protocol/types";

/** The largest K a request may ask for: it bounds the answer, whatever the output's size. */
export const MAX_CLASSIFICATION = 1000;

const NOT_SCORES = new Set(["BYTES", "BOOL"]);
const utf8 = new TextEncoder();

/** The K asked for on `output`, undefined when none; InvalidInput unless an integer 1..MAX_CLASSIFICATION. */
export function classificationOf(output: RequestOutput): number | undefined {
  const k = output.parameters?.classification;
  if (k === undefined) return undefined;
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k > MAX_CLASSIFICATION) {
    throw new InvalidInput(
      `output '${output.name}': parameters.classification must be an integer from 1 to ${MAX_CLASSIFICATION}, received ${JSON.stringify(k)}`,
    );
  }
  return k;
}

/** Throws InvalidInput for a classification asked of an output that has no scores, or of a pipeline. */
export function checkClassification(
  requested: readonly RequestOutput[] | undefined,
  outputs: readonly TensorMetadata[],
  platform: string,
): void {
  for (const output of requested ?? []) {
    if (classificationOf(output) === undefined) continue;
    if (platform === "ensemble") {
      throw new InvalidInput(
        `output '${output.name}': classification is served for ONNX models, not pipelines`,
      );
    }
    const datatype = outputs.find((t) => t.name === output.name)?.datatype;
    if (datatype !== undefined && NOT_SCORES.has(datatype)) {
      throw new InvalidInput(
        `output '${output.name}' has datatype ${datatype}: classification needs a numeric output`,
      );
    }
  }
}

/**
 * `outputs` with each one the request asked to classify replaced by its top-K strings: shape
 * [batch, K] when `batched`, else [K] (K at most the elements per item).
 */
export function applyClassification(
  requested: readonly RequestOutput[] | undefined,
  outputs: Tensor[],
  labels: readonly string[] | undefined,
  batched: boolean,
): Tensor[] {
  const asked = new Map<string, number>();
  for (const o of requested ?? []) {
    const k = classificationOf(o);
    if (k !== undefined) asked.set(o.name, k);
  }
  if (asked.size === 0) return outputs;
  return outputs.map((t) => {
    const k = asked.get(t.name);
    return k === undefined ? t : classify(t, k, labels, batched);
  });
}

function classify(t: Tensor, k: number, labels: readonly string[] | undefined, batched: boolean): Tensor {
  const scores = scoresOf(t);
  const items = batched ? (t.shape[0] ?? 1) : 1;
  const per = items === 0 ? 0 : scores.length / items;
  const top = Math.min(k, per);
  const data: Uint8Array[] = [];
  for (let item = 0; item < items; item++) {
    const base = item * per;
    const order = Array.from({ length: per }, (_, i) => i);
    // Highest score first; equal scores in index order, so an answer is the same on every run.
    order.sort((a, b) => (scores[base + b] as number) - (scores[base + a] as number) || a - b);
    for (const index of order.slice(0, top)) {
      const label = labels?.[index];
      const score = format(t, base + index, scores[base + index] as number);
      data.push(utf8.encode(`${score}:${index}${label === undefined ? "" : `:${label}`}`));
    }
  }
  return { name: t.name, datatype: "BYTES", shape: batched ? [items, top] : [top], data };
}

/** The elements as numbers (an INT64 beyond 2^53 loses precision in its ranking only, not in its text). */
function scoresOf(t: Tensor): number[] {
  const data = t.data;
  if (Array.isArray(data)) return [];
  if (t.datatype === "FP16") return Array.from(data as Uint16Array, fromHalf);
  return Array.from(data as ArrayLike<number | bigint>, Number);
}

function format(t: Tensor, at: number, value: number): string {
  if (t.datatype.startsWith("FP")) return Number.isFinite(value) ? value.toFixed(6) : String(value);
  return String((t.data as ArrayLike<number | bigint>)[at]);
}
