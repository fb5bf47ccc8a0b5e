/**
 * `limits` in config.json: per-input bounds on free dimensions and a bound on response bytes, so
 * that what one request may cost (ORT's work and memory, the answer's size) is stated by the model:
 * `{"x": {"max_shape": [8, 3, 2048, 2048]}, "max_response_bytes": 67108864}`.
 */
import type { FieldReader } from "./config-fields";
import type { ModelSignature } from "./types";

/** One input's bound: the largest size of each dimension, batch included when the model batches. */
export interface InputLimit {
  max_shape: number[];
}

/** `limits` as written in config.json: input names → InputLimit, plus `max_response_bytes`. */
export interface ModelLimits {
  /** Largest encoded infer response (the protocol body, before any compression). */
  max_response_bytes?: number;
  [input: string]: InputLimit | number | undefined;
}

/** The response bound of a model whose config.json names none: 64 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** The `max_shape` of `input`, if its limits name one. */
export function maxShapeOf(limits: ModelLimits | undefined, input: string): number[] | undefined {
  if (input === "max_response_bytes") return undefined;
  const l = limits?.[input];
  return typeof l === "object" ? l.max_shape : undefined;
}

/** Validates config.json's `limits` (unknown keys of an input's entry are refused, naming them). */
export function parseLimits(r: FieldReader, value: unknown): ModelLimits {
  const doc = r.object(value, "limits", Object.keys((value ?? {}) as object));
  const limits: ModelLimits = {};
  for (const [key, v] of Object.entries(doc)) {
    const path = `limits.${key}`;
    if (key === "max_response_bytes") {
      limits.max_response_bytes = r.integer(v, path, 1);
      continue;
    }
    const entry = r.object(v, path, ["max_shape"]);
    const dims = r.array(entry.max_shape, `${path}.max_shape`, true);
    limits[key] = { max_shape: dims.map((d, i) => r.integer(d, `${path}.max_shape[${i}]`, 1)) };
  }
  return limits;
}

/**
 * Checks `limits` against the served signature once it is known (config.json may leave the inputs
 * to the ONNX file): every named input exists and its max_shape has the input's rank. Returns the
 * first problem, or undefined.
 */
export function limitsProblem(limits: ModelLimits | undefined, sig: ModelSignature): string | undefined {
  for (const key of Object.keys(limits ?? {})) {
    const maxShape = maxShapeOf(limits, key);
    if (maxShape === undefined) continue;
    const input = sig.inputs.find((t) => t.name === key);
    if (input === undefined) {
      return `config.json limits.${key} names no input of the model (its inputs: ${sig.inputs.map((t) => t.name).join(", ")})`;
    }
    if (maxShape.length !== input.shape.length) {
      return `config.json limits.${key}.max_shape has rank ${maxShape.length}, input '${key}' has shape [${input.shape.join(",")}] (rank ${input.shape.length}, batch included)`;
    }
  }
  return undefined;
}
