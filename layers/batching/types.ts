import type { Tensor } from "../protocol/types";

/** Runs one (possibly stacked) batch: what the batcher wraps; it knows nothing else of the engine. */
export type RunBatch = (inputs: Tensor[], outputs?: string[]) => Promise<Tensor[]>;

/** What `onBatch` learns at each dispatch (for metrics). */
export interface BatchInfo {
  /** Rows in the batch (the stacked dim 0). */
  size: number;
  /** Requests stacked into it. */
  requests: number;
  /** Each request's time in the queue, in dispatch order. */
  queueMicros: number[];
}

/** Options of a `DynamicBatcher`, named after Triton's `dynamic_batching` settings. */
export interface DynamicBatcherOptions {
  run: RunBatch;
  /** Most rows one batch may hold (the model's `max_batch_size`), >= 1. */
  maxBatchSize: number;
  /** Batch sizes the model runs best at; a batch reaching one is sent at once. */
  preferredBatchSizes: number[];
  /** Longest the oldest request waits for company before its batch is sent anyway. */
  maxQueueDelayMicros: number;
  /** Most requests waiting (not yet dispatched); more are refused with `Overloaded`. 0 = unbounded. */
  maxQueueSize: number;
  /** Deadline of a queued request, from its submission; 0 = none. */
  defaultTimeoutMicros: number;
  /**
   * Batches allowed to run at once (default 1: an ORT CPU session already uses every core). Past
   * `instances` running batches, another is sent only once it is full or of a preferred size: a run
   * on another thread then has its next batch queued beside it instead of idling for the round
   * trip, and a partial batch still waits for a running one (it gathers more requests meanwhile).
   */
  maxConcurrentBatches?: number;
  /**
   * Batches that compute at once, each on its own session (Triton's instance count; default 1, at
   * most maxConcurrentBatches): while fewer than this many run, the next batch is sent as to an idle
   * model (full, preferred, or its oldest request's delay passed); past them, only full or preferred
   * ones, up to maxConcurrentBatches.
   */
  instances?: number;
  /** Called at each dispatch; a throw here is ignored. */
  onBatch?: (info: BatchInfo) => void;
}

/** Per-request options of `submit`. */
export interface SubmitOptions {
  /** Aborting removes the request while it is still queued; it is rejected with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides `defaultTimeoutMicros` for this request; 0 = none. */
  timeoutMicros?: number;
}

/** A request's share of its batch's result. */
export interface SubmitResult {
  outputs: Tensor[];
  /** Time from `submit` to the dispatch of its batch. */
  queueMicros: number;
  /** Time its batch spent in `run` (stacking and splitting excluded): shared by the batch's requests. */
  runMicros: number;
  /** Rows in its batch (1 = it ran alone, or with no company of its key). */
  batchSize: number;
}

/** Counters of a `DynamicBatcher`. */
export interface BatcherStats {
  /** Requests waiting to be dispatched. */
  queued: number;
  /** Batches running now. */
  running: number;
  /** Batches dispatched so far. */
  batches: number;
  /** Requests dispatched so far (the number of runs saved is `requests - batches`). */
  requests: number;
}
