/** The infer path of one process, for tests: describe, validate once, run. */

import { type Backend, EngineBackend, validateFor } from "../../layers/backend";
import { ModelEngine } from "../../layers/engine";
import type { DecodedInferRequest, Tensor } from "../../layers/protocol/types";
import type { ValidatedRequest } from "../../layers/validation/request";

/**
 * Runs `inputs` on a version (undefined: the live one) as a server does: the request is validated
 * against the version's description, then run. An engine runs through an EngineBackend without batching.
 */
export async function inferOn(
  on: Backend | ModelEngine,
  model: string,
  version: number | undefined,
  inputs: Tensor[],
  outputs?: string[],
): Promise<{ version: number; outputs: Tensor[] }> {
  const backend = on instanceof ModelEngine ? new EngineBackend(on, { batching: false }) : on;
  const request: DecodedInferRequest = { inputs };
  if (outputs !== undefined) request.outputs = outputs.map((name) => ({ name }));
  const validated = validateFor(request, await backend.describe(model, version));
  const result = await backend.infer(model, version, validated);
  return { version: Number(result.version), outputs: result.outputs };
}

/**
 * Brands a request without checking it: only for tests that send what a gateway would have refused
 * straight to the far end (a model function), to prove that it refuses it too.
 */
export function unchecked(request: DecodedInferRequest): ValidatedRequest {
  return request as ValidatedRequest;
}
