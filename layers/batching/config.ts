/** From a model's `config.json` (`max_batch_size`, `dynamic_batching`) to a batcher's options. */
import type { ModelConfig } from "../repository/types";
import type { DynamicBatcherOptions, RunBatch } from "./types";

/** True when requests of this model should go through a dynamic batcher. */
export function batchingEnabled(config: ModelConfig): boolean {
  return config.dynamic_batching.enabled && config.max_batch_size > 0;
}

/**
 * The batcher options Triton's `dynamic_batching` section describes, for `run` (the loaded model's
 * run). `config.json`'s `max_queue_size` bounds the queue the same way (config requires >= 1).
 */
export function batcherOptionsOf(
  config: ModelConfig,
  run: RunBatch,
  extra: Pick<DynamicBatcherOptions, "maxConcurrentBatches" | "instances" | "onBatch"> = {},
): DynamicBatcherOptions {
  const b = config.dynamic_batching;
  const options: DynamicBatcherOptions = {
    run,
    maxBatchSize: config.max_batch_size,
    preferredBatchSizes: [...b.preferred_batch_size],
    maxQueueDelayMicros: b.max_queue_delay_microseconds,
    maxQueueSize: b.max_queue_size,
    defaultTimeoutMicros: b.default_timeout_microseconds,
  };
  if (extra.maxConcurrentBatches !== undefined) options.maxConcurrentBatches = extra.maxConcurrentBatches;
  if (extra.instances !== undefined) options.instances = extra.instances;
  if (extra.onBatch !== undefined) options.onBatch = extra.onBatch;
  return options;
}
