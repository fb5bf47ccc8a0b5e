/** The result cache's own counters on the /metrics page, beside the inference metrics. */
import type { PrometheusMetrics } from "../../layers/telemetry/prometheus";
import type { CacheCounters } from "./types";

const HELP: Record<keyof CacheCounters, string> = {
  hits_l1: "Result cache hits in memory (L1)",
  hits_l2: "Result cache hits in DynamoDB (L2)",
  misses: "Result cache lookups that found nothing",
  errors: "Result cache store calls that failed (served without the cache)",
  timeouts: "Result cache store calls cut off by CACHE_TIMEOUT_MS",
  skipped_oversize: "Results too large for a DynamoDB item, kept in L1 only",
  short_circuited: "Result cache store calls skipped while its circuit breaker was open",
};

/**
 * One counter per field of the cache's counters, `edgeinfer_result_cache_<field>_total`, read from
 * `stats()` at each scrape. A type-only import of prometheus.ts: nothing of prom-client is bundled here.
 */
export function registerCacheCounters(metrics: PrometheusMetrics, stats: () => CacheCounters): void {
  metrics.countersFrom("edgeinfer_result_cache_", HELP, stats);
}
