/**
 * Triton's statistics extension (`GET /v2/models[/{m}[/versions/{v}]]/stats`) from the requests the
 * telemetry middleware records: per model and version, success/fail/queue/compute counts and
 * nanoseconds, batch stats by batch size, cache hits and misses, as perf_analyzer reads them.
 */
import type { Phase, RequestOutcome } from "./metrics";

/** A count and its cumulative duration, as Triton writes them. */
export interface StatDuration {
  count: number;
  ns: number;
}

/** One entry of `model_stats`, in Triton's shape. */
export interface TritonModelStats {
  name: string;
  version: string;
  /** Milliseconds since the epoch of the last successful inference; 0: none yet. */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: Record<
    | "success"
    | "fail"
    | "queue"
    | "compute_input"
    | "compute_infer"
    | "compute_output"
    | "cache_hit"
    | "cache_miss",
    StatDuration
  >;
  batch_stats: Array<{
    batch_size: number;
    compute_input: StatDuration;
    compute_infer: StatDuration;
    compute_output: StatDuration;
  }>;
  memory_usage: never[];
}

/** (model, version) pairs kept; past it new ones are not counted, so invented versions cannot grow it. */
const MAX_ENTRIES = 256;
const PHASE_STAT = {
  queue: "queue",
  decode: "compute_input",
  infer: "compute_infer",
  encode: "compute_output",
} as const;

const zero = (): StatDuration => ({ count: 0, ns: 0 });
const add = (d: StatDuration, ms: number) => {
  d.count++;
  d.ns += Math.round(ms * 1e6);
};

function emptyStats(name: string, version: string): TritonModelStats {
  return {
    name,
    version,
    last_inference: 0,
    inference_count: 0,
    execution_count: 0,
    inference_stats: {
      success: zero(),
      fail: zero(),
      queue: zero(),
      compute_input: zero(),
      compute_infer: zero(),
      compute_output: zero(),
      cache_hit: zero(),
      cache_miss: zero(),
    },
    batch_stats: [],
    memory_usage: [],
  };
}

/** The per-model statistics of one process. */
export class ModelStats {
  readonly #entries = new Map<string, TritonModelStats>();

  /** Counts one finished infer request (`cacheMiss`: the result cache was asked and had nothing). */
  record(o: RequestOutcome & { cacheMiss?: boolean }): void {
    const version = o.version ?? "";
    const key = `${o.model}\u0000${version}`;
    let s = this.#entries.get(key);
    if (s === undefined) {
      if (this.#entries.size >= MAX_ENTRIES) return;
      s = emptyStats(o.model, version);
      this.#entries.set(key, s);
    }
    const stats = s.inference_stats;
    if (o.status >= 400) {
      add(stats.fail, o.durationMs);
      return;
    }
    add(stats.success, o.durationMs);
    s.last_inference = Date.now();
    if (o.cached === true) {
      add(stats.cache_hit, o.durationMs);
      return;
    }
    if (o.cacheMiss === true) add(stats.cache_miss, o.phases?.infer ?? 0);
    const batchSize = o.batchSize ?? 1;
    s.inference_count += batchSize;
    s.execution_count++;
    let batch = s.batch_stats.find((b) => b.batch_size === batchSize);
    if (batch === undefined) {
      batch = { batch_size: batchSize, compute_input: zero(), compute_infer: zero(), compute_output: zero() };
      s.batch_stats.push(batch);
      s.batch_stats.sort((a, b) => a.batch_size - b.batch_size);
    }
    // Only the protocol's phases: a request's timer also holds others (cache lookup, pipeline steps).
    for (const [phase, name] of Object.entries(PHASE_STAT) as Array<[Phase, (typeof PHASE_STAT)[Phase]]>) {
      const ms = o.phases?.[phase];
      if (ms === undefined) continue;
      add(stats[name], ms);
      if (name !== "queue") add(batch[name], ms);
    }
  }

  /**
   * `model_stats` for `models` (in that order), each version seen, or one entry of zeros for a
   * model not called yet; only `version` when given.
   */
  report(models: Iterable<string>, version?: string): TritonModelStats[] {
    const out: TritonModelStats[] = [];
    for (const model of models) {
      const seen = [...this.#entries.values()].filter(
        (s) => s.name === model && (version === undefined || s.version === version),
      );
      out.push(...(seen.length > 0 ? structuredClone(seen) : [emptyStats(model, version ?? "")]));
    }
    return out;
  }
}
