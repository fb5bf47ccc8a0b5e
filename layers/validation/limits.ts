/**
 * Bounds on the work one request asks for, checked with the signature before anything runs: the
 * body limit bounds bytes in, not work (a [1,3,1,380000] image is 4.5 MB of zeros and 7 s of ORT
 * and 1.4 GB of memory). Each input's free dimensions are bounded by `limits.<input>.max_shape`,
 * or, where the model names none, by a cap on the input's elements.
 */
import { InvalidInput, PayloadTooLarge } from "../errors";
import { elementCount, elementSize } from "../protocol/datatypes";
import type { Tensor } from "../protocol/types";
import { DEFAULT_MAX_RESPONSE_BYTES, type ModelLimits, maxShapeOf } from "../repository/limits";
import type { ModelSignature } from "../repository/types";

/**
 * Elements an input with a free dimension may hold when config.json sets no max_shape for it:
 * 4 × the FP32 elements the default body limit (MAX_BODY_BYTES, 4620288 bytes) carries in binary.
 */
export const DEFAULT_MAX_INPUT_ELEMENTS = 4 * Math.floor(4_620_288 / 4);

const fmt = (shape: readonly number[]): string => `[${shape.join(",")}]`;

/** Throws InvalidInput naming the input and the limit when an input's shape exceeds its bound. */
export function checkInputLimits(inputs: readonly Tensor[], sig: ModelSignature, limits?: ModelLimits): void {
  for (const input of inputs) {
    const maxShape = maxShapeOf(limits, input.name);
    if (maxShape !== undefined) {
      input.shape.forEach((d, i) => {
        const max = maxShape[i] ?? d;
        if (d > max) {
          throw new InvalidInput(
            `input '${input.name}' has shape ${fmt(input.shape)}: dimension ${i} is ${d}, over its limit ${max} (limits.${input.name}.max_shape ${fmt(maxShape)})`,
          );
        }
      });
      continue;
    }
    const meta = sig.inputs.find((t) => t.name === input.name);
    // Only a free dimension past the batch can grow an input without bound (the batch has max_batch_size).
    const free = meta?.shape.some((d, i) => d < 0 && i > 0) ?? false;
    const count = elementCount(input.shape);
    if (free && count > DEFAULT_MAX_INPUT_ELEMENTS) {
      throw new InvalidInput(
        `input '${input.name}' has shape ${fmt(input.shape)}, ${count} elements: over the limit of ${DEFAULT_MAX_INPUT_ELEMENTS} for an input without limits.${input.name}.max_shape`,
      );
    }
  }
}

/** The response bound of a model: `limits.max_response_bytes`, else DEFAULT_MAX_RESPONSE_BYTES. */
export function maxResponseBytes(limits: ModelLimits | undefined): number {
  return limits?.max_response_bytes ?? DEFAULT_MAX_RESPONSE_BYTES;
}

/**
 * Refuses before running a request whose answer must exceed the bound, where the output shapes
 * tell (no free dimension but the batch): at least each element's bytes in binary, two characters
 * ("0,") in JSON. Outputs with other free dimensions are checked after the run (checkResponseBytes).
 */
export function checkExpectedResponse(
  sig: ModelSignature,
  batch: number,
  outputs: readonly string[] | undefined,
  binary: "all" | ReadonlySet<string> | undefined,
  limits: ModelLimits | undefined,
): void {
  const max = maxResponseBytes(limits);
  let least = 0;
  for (const out of sig.outputs) {
    if (outputs !== undefined && !outputs.includes(out.name)) continue;
    const dims = out.shape.map((d, i) => (i === 0 && d < 0 ? batch : d));
    if (dims.some((d) => d < 0)) continue;
    const isBinary = binary === "all" || binary?.has(out.name) === true;
    const per = isBinary ? (elementSize(out.datatype) ?? 1) : 2;
    least += elementCount(dims) * per;
  }
  if (least > max) throw tooLarge(`would be at least ${least} bytes`, max);
}

/** 413 for an encoded answer over the bound (the protocol body, before any compression). */
export function checkResponseBytes(bytes: number, limits: ModelLimits | undefined): void {
  const max = maxResponseBytes(limits);
  if (bytes > max) throw tooLarge(`is ${bytes} bytes`, max);
}

function tooLarge(what: string, max: number): PayloadTooLarge {
  return new PayloadTooLarge(
    `the answer ${what}, over the model's limit of ${max} (limits.max_response_bytes); ` +
      "ask for binary outputs (binary_data_output), fewer outputs or smaller inputs",
  );
}
