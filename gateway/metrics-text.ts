/** The result cache's own counters in Prometheus text, appended to the inference metrics at /metrics. */
import type { CacheCounters } from "./cache/types";

const HELP: Record<keyof CacheCounters, string> = {
  hits_l1: "Result cache hits in memory (L1)",
  hits_l2: "Result cache hits in DynamoDB (L2)",
  misses: "Result cache lookups that found nothing",
  errors: "Result cache store calls that failed (served without the cache)",
  timeouts: "Result cache store calls cut off by CACHE_TIMEOUT_MS",
  skipped_oversize: "Results too large for a DynamoDB item, kept in L1 only",
  short_circuited: "Result cache store calls skipped while its circuit breaker was open",
};

/** One counter per field of `counters`, named `edgeinfer_result_cache_<field>_total`. */
export function cacheCountersText(counters: CacheCounters): string {
  const lines: string[] = [];
  for (const [field, help] of Object.entries(HELP) as Array<[keyof CacheCounters, string]>) {
    const name = `edgeinfer_result_cache_${field}_total`;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${counters[field]}`);
  }
  return `${lines.join("\n")}\n`;
}
