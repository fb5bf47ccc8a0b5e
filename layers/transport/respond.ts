import type { InferResult } from "../backend/contract";
import { type BinaryOutputs, type EncodedBody, encodeInferResponse } from "../protocol";
import type { DecodedInferRequest } from "../protocol/types";

/** The protocol response to `request` from a backend's result: names the version that answered, echoes the id. */
export function encodeBackendResult(
  model: string,
  request: DecodedInferRequest,
  result: InferResult,
  binary: BinaryOutputs,
): EncodedBody {
  return encodeInferResponse(
    {
      model_name: model,
      model_version: result.version,
      outputs: result.outputs,
      ...(request.id === undefined ? {} : { id: request.id }),
      ...(result.parameters === undefined ? {} : { parameters: result.parameters }),
    },
    binary,
  );
}
