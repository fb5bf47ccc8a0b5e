/**
 * CloudWatch Embedded Metric Format through Powertools Metrics: JSON log lines that CloudWatch Logs
 * turns into metrics, so a Lambda publishes metrics by printing them (no PutMetricData call on the
 * request path). Namespace, dimensions, units, the document shape and the 100-values-per-metric
 * split are Powertools'; this file only decides what is recorded per model.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { MetricUnit, Metrics as PowertoolsMetrics } from "@aws-lambda-powertools/metrics";
import { isServerError, PHASE_METRIC, PHASES, type RequestMetrics, type RequestOutcome } from "./metrics";

/** The namespace the CDK dashboard reads. */
export const EMF_NAMESPACE = "EdgeInfer";
/** The one dimension of every metric: the dashboard and alarms query exactly this set. */
export const EMF_DIMENSION = "model";

/** Powertools Metrics whose documents are kept for the caller to print, not written to stdout itself. */
class CollectedMetrics extends PowertoolsMetrics {
  readonly documents: string[] = [];

  // Powertools also calls this itself when a metric reaches 100 values: those documents land here too.
  override publishStoredMetrics(): this {
    try {
      if (this.hasStoredMetrics() && !this.isDisabled()) {
        this.documents.push(JSON.stringify(this.serializeMetrics()));
      }
    } finally {
      this.clearMetrics();
      this.clearDimensions();
      this.clearMetadata();
    }
    return this;
  }
}

/** What one model recorded since the last flush. */
interface Pending {
  /** Count metrics, summed: one value per document, as the dashboard's Sum reads them. */
  counts: Map<string, number>;
  /** Millisecond observations, one value each. */
  observations: Map<string, number[]>;
}

/** Records requests per model and turns them into EMF documents at each flush. */
export class EmfMetrics implements RequestMetrics {
  readonly #powertools: CollectedMetrics;
  readonly #pending = new Map<string, Pending>();

  /** `namespace` @default "EdgeInfer" */
  constructor(namespace = EMF_NAMESPACE) {
    this.#powertools = new CollectedMetrics({ namespace });
    // Powertools adds a `service` dimension by default; the dashboard queries [model] alone.
    this.#powertools.clearDefaultDimensions();
  }

  recordRequest(o: RequestOutcome): void {
    const p = this.#of(o.model);
    const ok = o.status < 400;
    const server = !ok && isServerError(o.status, o.reason);
    count(p, "requests", 1);
    count(p, "errors", server ? 1 : 0);
    count(p, "client_errors", !ok && !server ? 1 : 0);
    observe(p, "latency_ms", o.durationMs);
    for (const phase of PHASES) {
      const ms = o.phases?.[phase];
      if (ms !== undefined) observe(p, PHASE_METRIC[phase].emf, ms);
    }
  }

  cacheHit(model: string): void {
    count(this.#of(model), "cache_hits", 1);
  }

  cacheMiss(model: string): void {
    count(this.#of(model), "cache_misses", 1);
  }

  /**
   * The EMF documents (one JSON line each, one or more per model) for what was recorded since the
   * last flush, which they replace; print each on its own stdout line on Lambda.
   */
  flush(): string[] {
    const pt = this.#powertools;
    for (const [model, p] of this.#pending) {
      // A default dimension, so the documents Powertools splits off at 100 values keep it too.
      pt.clearDefaultDimensions();
      pt.setDefaultDimensions({ [EMF_DIMENSION]: model });
      for (const [name, n] of p.counts) pt.addMetric(name, MetricUnit.Count, n);
      for (const [name, values] of p.observations) {
        for (const v of values) pt.addMetric(name, MetricUnit.Milliseconds, v);
      }
      pt.publishStoredMetrics();
    }
    this.#pending.clear();
    return pt.documents.splice(0);
  }

  #of(model: string): Pending {
    let p = this.#pending.get(model);
    if (p === undefined) {
      p = { counts: new Map(), observations: new Map() };
      this.#pending.set(model, p);
    }
    return p;
  }
}

function count(p: Pending, metric: string, by: number): void {
  p.counts.set(metric, (p.counts.get(metric) ?? 0) + by);
}

function observe(p: Pending, metric: string, ms: number): void {
  if (!Number.isFinite(ms)) return;
  const values = p.observations.get(metric);
  if (values === undefined) p.observations.set(metric, [ms]);
  else values.push(ms);
}

/**
 * The EMF documents (JSON lines) of count metrics under exactly one dimension set, made of every key
 * of `dimensions` (e.g. `{ model, version }`), which is what an alarm on those dimensions reads. One
 * document, or none where Powertools Metrics is disabled (`POWERTOOLS_METRICS_DISABLED`).
 */
export function emfCounts(
  namespace: string,
  dimensions: Readonly<Record<string, string>>,
  counts: Readonly<Record<string, number>>,
  timestamp: number = Date.now(),
): string[] {
  const pt = new CollectedMetrics({ namespace });
  // No `service` dimension: the dimension set is exactly the keys of `dimensions`.
  pt.clearDefaultDimensions();
  pt.addDimensions({ ...dimensions });
  for (const [name, n] of Object.entries(counts)) pt.addMetric(name, MetricUnit.Count, n);
  pt.setTimestamp(timestamp);
  pt.publishStoredMetrics();
  return pt.documents;
}
