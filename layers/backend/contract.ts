/**
 * The one interface between the protocol's HTTP routes and whatever runs a model: an engine in
 * this process, a Lambda function, a SageMaker endpoint. A requested version is a number, parsed once
 * from the path (or the wire); a version that answered is the protocol's string (`model_version`).
 */
import type { DecodedInferRequest, ModelMetadataResponse, Parameters, Tensor } from "../protocol/types";
import type { ModelConfig } from "../repository/types";
import { checkClassification } from "../validation/classification";
import { type ValidatedRequest, validateRequest } from "../validation/request";

/** What a backend knows of one model version: protocol metadata and the validated config. */
export interface ModelDescription {
  /** The version described: the live (default) one when none was asked for. */
  version: string;
  /** Shapes include the batch dimension (-1) when `config.max_batch_size` > 0. */
  metadata: ModelMetadataResponse;
  config: ModelConfig;
}

/** A backend's answer to an infer request, before it is encoded for a client. */
export interface InferResult {
  /** The model version that produced the outputs. */
  version: string;
  outputs: Tensor[];
  parameters?: Parameters;
  /**
   * Where the time went, in ms, when the backend knows (Server-Timing, metrics): `queueMs` waiting
   * in the dynamic batcher's queue, `inferMs` in the model run (a batched run's whole duration),
   * `steps` each step of a pipeline by its name (one Server-Timing entry each).
   */
  timing?: { queueMs?: number; inferMs?: number; steps?: Record<string, number> };
}

/**
 * Serves models. Every method throws the classes of layers/errors.ts: ModelNotFound for an unknown
 * model or version, InvalidInput, ModelNotReady, BackendFailure, BackendTimeout, Overloaded.
 * `version` undefined means the live version. `signal` aborts the call (deadline, client gone).
 */
export interface Backend {
  /** Metadata and config of a model version (loading it if needed). */
  describe(model: string, version: number | undefined, signal?: AbortSignal): Promise<ModelDescription>;
  /** True when the version is loaded and warmed up; false when not (yet), or after a failed load. */
  ready(model: string, version: number | undefined, signal?: AbortSignal): Promise<boolean>;
  /** Runs a request already validated (once per process) against `describe()`'s signature. */
  infer(
    model: string,
    version: number | undefined,
    request: ValidatedRequest,
    signal?: AbortSignal,
  ): Promise<InferResult>;
}

/** Validates `request` against the description of the version that will run it (InvalidInput). */
export function validateFor(request: DecodedInferRequest, d: ModelDescription): ValidatedRequest {
  const { inputs, outputs } = d.metadata;
  const validated = validateRequest(request, { inputs, outputs }, d.config.max_batch_size, d.config.limits);
  checkClassification(request.outputs, outputs, d.config.platform);
  return validated;
}

/** Which backend serves each model; iteration order is the order models are listed in. */
export type ModelCatalog = ReadonlyMap<string, Backend>;
