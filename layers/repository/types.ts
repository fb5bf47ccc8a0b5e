import type { Datatype, TensorMetadata } from "../protocol/types";
import type { ModelLimits } from "./limits";
import type { ReleaseConfig } from "./release";
import type { ShadowConfig } from "./shadow";

/** Which versions of a model are served (Triton's version_policy). */
export type VersionPolicy =
  | { latest: { num_versions: number } }
  | { all: Record<string, never> }
  | { specific: { versions: number[] } };

/**
 * Triton's `instance_group` (one group): how many sessions of each version compute at once. Locally
 * and in the model container, `count` worker threads per version (INFERENCE_THREAD auto keeps its
 * main-thread session beside them); Lambda runs one request per instance and ignores it.
 */
export interface InstanceGroup {
  count: number;
  kind: "KIND_CPU" | "KIND_GPU";
}

/** Triton-style dynamic batching settings. */
export interface DynamicBatching {
  enabled: boolean;
  /** Preferred batch sizes; a batch is dispatched at once when it reaches one of them. */
  preferred_batch_size: number[];
  /** How long the first request of a batch may wait for others. */
  max_queue_delay_microseconds: number;
  /** Requests allowed to wait; beyond it requests are shed (503). */
  max_queue_size: number;
  /** Deadline of a queued request; 0 = none. */
  default_timeout_microseconds: number;
}

/** ORT session options. */
export interface SessionOptions {
  graph_optimization_level: "disabled" | "basic" | "extended" | "all";
  intra_op_threads?: number;
  inter_op_threads?: number;
  /** Tried in order; `cuda` falls back to `cpu` only when `allow_cpu_fallback` is true. */
  execution_providers: Array<"cuda" | "cpu">;
  /**
   * When `cuda` is listed but cannot be used: true runs on the remaining providers with a warning;
   * false leaves the version not ready (a GPU fleet on CPU is slow and costly, and no alarm sees it).
   */
  allow_cpu_fallback: boolean;
  /**
   * ORT's CPU memory arena (Triton's `enable_mem_arena`): on, a run's tensors come from blocks the
   * session keeps, so the largest request the model's `limits` admit stays reserved for the session's
   * life; off, they are malloc'd and freed every run.
   */
  enable_mem_arena: boolean;
}

/** A tensor in config.json; `shape` excludes the batch dimension when max_batch_size > 0 (Triton). */
export interface ConfigTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
}

/**
 * `<repo>/<model>/config.json`, validated and with defaults applied.
 * `inputs`/`outputs` are optional in the file; the engine fills them from the ONNX model.
 */
export interface ModelConfig {
  name: string;
  /** `ensemble`: a pipeline of steps (`ensemble_scheduling`), run by layers/pipeline, not the engine. */
  platform: "onnxruntime_onnx" | "ensemble";
  backend: "cpu" | "gpu";
  /** 0: the model has no batch dimension. >0: first dimension is the batch, at most this size. */
  max_batch_size: number;
  inputs?: ConfigTensor[];
  outputs?: ConfigTensor[];
  version_policy: VersionPolicy;
  cache: { enabled: boolean; ttl_seconds: number };
  dynamic_batching: DynamicBatching;
  optimization: SessionOptions;
  /** Sessions per version (config.json `instance_group`, one group); absent: one. */
  instance_group?: [InstanceGroup];
  /** What a new version is checked against before it takes traffic (functions/release-hook). */
  release: ReleaseConfig;
  /** Bounds on one request's inputs and answer (config.json `limits`); absent: the defaults. */
  limits?: ModelLimits;
  /** Local mode: mirror a share of unpinned requests to this version and compare (config.json `shadow`). */
  shadow?: ShadowConfig;
  /** Local mode: the version unpinned requests get; @default the highest the version_policy serves. */
  live_version?: number;
  /** Pipelines only (`platform: "ensemble"`). */
  ensemble_scheduling?: EnsembleScheduling;
}

/** A model a pipeline calls, at a pinned version or -1 (its live version). */
export interface StepModel {
  model_name: string;
  model_version: number;
}

/**
 * One step of a pipeline: a model (Triton's ensemble step) or a named processor. `input_map`: the
 * step's input name → the pipeline tensor it reads; `output_map`: the step's output → the tensor it writes.
 */
export type EnsembleStep = { input_map: Record<string, string>; output_map: Record<string, string> } & (
  | StepModel
  | { processor: string; parameters: Record<string, unknown>; models: Record<string, StepModel> }
);

/** Triton's `ensemble_scheduling`. */
export interface EnsembleScheduling {
  step: EnsembleStep[];
}

/** A model's full signature as served: shapes include the batch dimension (-1) when batched. */
export interface ModelSignature {
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/**
 * A Triton-layout model repository: `<root>/<model>/config.json`, `<root>/<model>/<n>/model.onnx`.
 * Implementations: file:// and s3://.
 */
export interface ModelRepository {
  /** The URI it was opened with. */
  readonly uri: string;
  /** Model names (directories holding a config.json). */
  listModels(): Promise<string[]>;
  /** Parsed and validated config; ModelNotFound if absent, ModelNotReady naming the field if malformed. */
  readConfig(model: string): Promise<ModelConfig>;
  /** Numeric version directories that hold a model.onnx, ascending. */
  listVersions(model: string): Promise<number[]>;
  /** A local path of `<model>/<version>/model.onnx`, downloaded and verified if remote. */
  fetchModel(model: string, version: number): Promise<string>;
  /**
   * The text of a small file beside the version's model.onnx (`labels.txt`), at most
   * MAX_VERSION_FILE_BYTES; undefined when there is none. Absent: the repository has no such files.
   */
  readVersionFile?(model: string, version: number, name: string): Promise<string | undefined>;
}

/** The largest file readVersionFile reads (a labels.txt of ~100k classes). */
export const MAX_VERSION_FILE_BYTES = 4 * 1024 * 1024;

/** Receives diagnostics that must not reach a client (paths, causes, SDK errors). */
export type RepositoryLogger = (msg: string, fields?: object) => void;
