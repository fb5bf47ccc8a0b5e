/**
 * Checks a decoded infer request against a model's served signature before it reaches ONNX Runtime,
 * so that a client gets a 400 naming the tensor instead of an opaque runtime failure.
 */
import { InvalidInput } from "../errors";
import { elementCount } from "../protocol/datatypes";
import type { DecodedInferRequest, Tensor, TensorMetadata } from "../protocol/types";
import type { ModelSignature } from "../repository/types";

declare const validated: unique symbol;

/**
 * A decoded request checked against the signature of the model version that runs it. Only
 * `validateRequest` makes one, so a backend that takes it never checks the request again.
 */
export type ValidatedRequest = DecodedInferRequest & { readonly [validated]: true };

const fmt = (shape: readonly number[]): string => `[${shape.join(",")}]`;
const names = (list: readonly { name: string }[]): string => list.map((t) => t.name).join(", ");

/**
 * Throws InvalidInput unless the request's inputs and requested outputs fit `sig`; returns the same
 * object, branded. Signature shapes include the batch dimension (-1, first) when `maxBatchSize` > 0.
 */
export function validateRequest(
  request: DecodedInferRequest,
  sig: ModelSignature,
  maxBatchSize: number,
): ValidatedRequest {
  const { inputs, outputs } = request;
  const expected = new Map(sig.inputs.map((t) => [t.name, t]));
  const seen = new Set<string>();
  for (const input of inputs) {
    if (seen.has(input.name)) throw new InvalidInput(`input '${input.name}' is given more than once`);
    seen.add(input.name);
    if (!expected.has(input.name)) {
      throw new InvalidInput(`unexpected input '${input.name}': the model's inputs are ${names(sig.inputs)}`);
    }
  }
  for (const meta of sig.inputs) {
    if (!seen.has(meta.name)) {
      throw new InvalidInput(`missing input '${meta.name}': the model's inputs are ${names(sig.inputs)}`);
    }
  }

  let batch: { size: number; from: string } | undefined;
  for (const input of inputs) {
    const meta = expected.get(input.name);
    if (meta === undefined) continue; // unreachable: checked above
    checkTensor(input, meta);
    if (maxBatchSize > 0) {
      const size = input.shape[0] ?? 0;
      if (size < 1 || size > maxBatchSize) {
        throw new InvalidInput(
          `input '${input.name}' has batch size ${size}, expected 1 to ${maxBatchSize} (max_batch_size)`,
        );
      }
      if (batch === undefined) batch = { size, from: input.name };
      else if (batch.size !== size) {
        throw new InvalidInput(
          `input '${input.name}' has batch size ${size}, expected ${batch.size} as input '${batch.from}'`,
        );
      }
    }
  }

  if (outputs !== undefined && outputs.length > 0) checkOutputs(outputs, sig.outputs);
  return request as ValidatedRequest;
}

/** The output names a validated request asks for; undefined: all of them. */
export function requestedOutputs(request: ValidatedRequest): string[] | undefined {
  const { outputs } = request;
  return outputs === undefined || outputs.length === 0 ? undefined : outputs.map((o) => o.name);
}

function checkTensor(input: Tensor, meta: TensorMetadata): void {
  const { name, shape } = input;
  if (input.datatype !== meta.datatype) {
    throw new InvalidInput(`input '${name}' has datatype ${input.datatype}, expected ${meta.datatype}`);
  }
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new InvalidInput(`input '${name}' has shape ${fmt(shape)}: dimensions must be integers >= 0`);
  }
  if (shape.length !== meta.shape.length) {
    throw new InvalidInput(
      `input '${name}' has shape ${fmt(shape)} (rank ${shape.length}), expected rank ${meta.shape.length} ${fmt(meta.shape)}`,
    );
  }
  meta.shape.forEach((want, i) => {
    const got = shape[i];
    if (want >= 0 && got !== want) {
      throw new InvalidInput(
        `input '${name}' has shape ${fmt(shape)}: dimension ${i} is ${got}, expected ${want} (shape ${fmt(meta.shape)})`,
      );
    }
  });
  // The codecs already check this; kept because a tensor may come from elsewhere (batching, tests).
  const count = elementCount(shape);
  if (input.data.length !== count) {
    throw new InvalidInput(
      `input '${name}' has ${input.data.length} elements of data, expected ${count} for shape ${fmt(shape)}`,
    );
  }
}

function checkOutputs(requested: readonly { name: string }[], outputs: TensorMetadata[]): void {
  const known = new Set(outputs.map((t) => t.name));
  const seen = new Set<string>();
  for (const { name } of requested) {
    if (!known.has(name)) {
      throw new InvalidInput(`unknown output '${name}' requested: the model's outputs are ${names(outputs)}`);
    }
    if (seen.has(name)) throw new InvalidInput(`output '${name}' is requested more than once`);
    seen.add(name);
  }
}
