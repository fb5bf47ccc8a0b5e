/** Validation of `DynamicBatcherOptions`: a misconfigured batcher fails at construction. */
import type { DynamicBatcherOptions } from "./types";

/** Checks every numeric option; throws a `RangeError` naming the option. */
export function checkOptions(opts: DynamicBatcherOptions): void {
  const { maxBatchSize, preferredBatchSizes } = opts;
  requireInteger("maxBatchSize", maxBatchSize, 1);
  for (const p of preferredBatchSizes) {
    if (!Number.isInteger(p) || p < 1 || p > maxBatchSize) {
      throw new RangeError(
        `DynamicBatcher: preferredBatchSizes holds ${p}, expected integers from 1 to maxBatchSize ${maxBatchSize}`,
      );
    }
  }
  requireNonNegative("maxQueueDelayMicros", opts.maxQueueDelayMicros);
  requireInteger("maxQueueSize", opts.maxQueueSize, 0);
  requireNonNegative("defaultTimeoutMicros", opts.defaultTimeoutMicros);
  const maxConcurrent = opts.maxConcurrentBatches ?? 1;
  const instances = opts.instances ?? 1;
  requireInteger("maxConcurrentBatches", maxConcurrent, 1);
  requireInteger("instances", instances, 1);
  if (instances > maxConcurrent) {
    throw new RangeError(
      `DynamicBatcher: instances (${instances}) must be at most maxConcurrentBatches (${maxConcurrent})`,
    );
  }
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`DynamicBatcher: ${name} must be an integer >= ${min}, received ${value}`);
  }
}

function requireNonNegative(name: string, value: number): void {
  if (!(value >= 0 && Number.isFinite(value))) {
    throw new RangeError(`DynamicBatcher: ${name} must be a finite number >= 0, received ${value}`);
  }
}
