/** Public types of the ONNX Runtime engine. */

import type { Tensor } from "../protocol/types";
import type { ModelConfig, ModelSignature } from "../repository/types";

/** Structured log sink; the function handler plugs Powertools' logger in. */
export type EngineLogger = (
  level: "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/** Lifecycle of one model version in the engine (Triton's model states). */
export type ModelState = "UNAVAILABLE" | "LOADING" | "READY" | "FAILED";

/** Options of a ModelEngine. */
export interface EngineOptions {
  logger?: EngineLogger;
  /** Run each model once with a generated input before marking it READY. @default true */
  warmup?: boolean;
  /**
   * Most versions of one model kept loaded; past it the least recently used version other than
   * the default one is unloaded. @default 2 + the versions the policy names (0 for `all`)
   */
  maxVersionsPerModel?: number;
  /**
   * A pinned version the engine has not seen makes it list the model's versions again, at most
   * once per this many ms per model (a flood of misses costs one listing). @default 2000
   */
  rescanIntervalMs?: number;
  /** A failed load is answered from memory for this long before the next call retries it. @default 1000 */
  retryFailedAfterMs?: number;
  /**
   * The live version per model (a model function's configured version): the default version, and
   * servable whatever the version_policy says, so an older function version keeps serving its own
   * model version while a canary of the next one runs. @default none: the policy decides
   */
  liveVersions?: ReadonlyMap<string, number>;
  /**
   * Where ONNX Runtime runs: "main" (this thread; ORT's run blocks it while it computes) or
   * "worker" (one worker thread per loaded version, so a server keeps parsing and encoding
   * requests meanwhile, at the cost of a copy of the inputs and a thread hop per run), or "auto"
   * (a session on each: a run that finds the version idle runs here, one that arrives while
   * another is in flight goes to the worker; the memory of both). Bundles need the worker entry
   * built beside them (`inference-worker.mjs`). @default "main"
   */
  inferenceThread?: InferenceThread;
}

/** Where a ModelEngine runs ONNX Runtime. */
export type InferenceThread = "main" | "worker" | "auto";

/** A model version loaded, warmed up and ready to run. */
export interface LoadedModel {
  readonly name: string;
  readonly version: number;
  readonly config: ModelConfig;
  /** As served: shapes include the batch dimension (-1) when max_batch_size > 0. */
  readonly signature: ModelSignature;
  /** The version's `labels.txt`, one label per line (the classification extension); absent: none. */
  readonly labels?: readonly string[];
  /** Runs of this version that compute at once (its sessions, config.json's `instance_group`); absent: one. */
  readonly concurrency?: number;
  /** Runs the model; `outputs` (absent or empty: all) selects what ONNX Runtime computes. */
  run(inputs: Tensor[], outputs?: string[]): Promise<Tensor[]>;
}
