/** A batcher with test defaults (no delay, no queue bound, no deadline) that records each batch. */
import {
  type BatchInfo,
  DynamicBatcher,
  type DynamicBatcherOptions,
  type RunBatch,
} from "../../../layers/batching";
import type { Tensor } from "../../../layers/protocol/types";

export function make(run: RunBatch, over: Partial<DynamicBatcherOptions> = {}) {
  const infos: BatchInfo[] = [];
  const batcher = new DynamicBatcher({
    run,
    maxBatchSize: 8,
    preferredBatchSizes: [],
    maxQueueDelayMicros: 0,
    maxQueueSize: 0,
    defaultTimeoutMicros: 0,
    onBatch: (info) => infos.push(info),
    ...over,
  });
  return { batcher, infos };
}

/** The numbers of an FP32/FP64 tensor. */
export function values(t: Tensor | undefined): number[] {
  if (t?.data instanceof Float32Array || t?.data instanceof Float64Array) return Array.from(t.data);
  throw new Error(`expected an FP32 or FP64 tensor, got ${t?.datatype}`);
}
