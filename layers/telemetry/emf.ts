/**
 * CloudWatch Embedded Metric Format: JSON log lines that CloudWatch Logs turns into metrics, so a
 * Lambda publishes metrics by printing them (no PutMetricData call on the request path).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

/** EMF units this module uses. */
export type EmfUnit = "Count" | "Milliseconds";

/** The namespace the CDK dashboard and alarms read. */
export const EMF_NAMESPACE = "EdgeInfer";
/** EMF accepts at most 100 values per metric in one document. */
const MAX_VALUES = 100;

/** Per-dimension accumulator between two flushes. */
export class EmfBuffer {
  readonly #units = new Map<string, EmfUnit>();
  /** dimension value (model) -> metric -> values */
  readonly #data = new Map<string, Map<string, number[]>>();

  constructor(
    readonly namespace = EMF_NAMESPACE,
    readonly dimension = "model",
  ) {}

  /** Adds to a count metric (one value per flush, summed). */
  count(dim: string, metric: string, by = 1): void {
    const values = this.#values(dim, metric, "Count");
    values[0] = (values[0] ?? 0) + by;
  }

  /** Records one observation of a distribution metric (ms). */
  observe(dim: string, metric: string, ms: number): void {
    if (Number.isFinite(ms)) this.#values(dim, metric, "Milliseconds").push(ms);
  }

  /** True when nothing was recorded since the last flush. */
  get empty(): boolean {
    return this.#data.size === 0;
  }

  /** The EMF documents (one JSON line each) for everything recorded since the last flush; clears it. */
  flush(timestamp: number = Date.now()): string[] {
    const lines: string[] = [];
    for (const [dim, metrics] of this.#data) {
      // More than MAX_VALUES observations spill into further documents for the same dimension.
      for (let page = 0; ; page++) {
        const doc: Record<string, unknown> = { [this.dimension]: dim };
        const defs: Array<{ Name: string; Unit: EmfUnit }> = [];
        for (const [name, values] of metrics) {
          const slice = values.slice(page * MAX_VALUES, (page + 1) * MAX_VALUES);
          if (slice.length === 0) continue;
          defs.push({ Name: name, Unit: this.#units.get(name) ?? "Count" });
          doc[name] = slice.length === 1 ? slice[0] : slice;
        }
        if (defs.length === 0) break;
        doc._aws = emfMetadata(this.namespace, [this.dimension], defs, timestamp);
        lines.push(JSON.stringify(doc));
      }
    }
    this.#data.clear();
    return lines;
  }

  #values(dim: string, metric: string, unit: EmfUnit): number[] {
    this.#units.set(metric, unit);
    let metrics = this.#data.get(dim);
    if (metrics === undefined) {
      metrics = new Map();
      this.#data.set(dim, metrics);
    }
    let values = metrics.get(metric);
    if (values === undefined) {
      values = [];
      metrics.set(metric, values);
    }
    return values;
  }
}

/** The `_aws` member of an EMF document: one dimension set, made of `dimensions`. */
function emfMetadata(
  namespace: string,
  dimensions: string[],
  metrics: Array<{ Name: string; Unit: EmfUnit }>,
  timestamp: number,
): Record<string, unknown> {
  return {
    Timestamp: timestamp,
    CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [dimensions], Metrics: metrics }],
  };
}

/**
 * One EMF document (a JSON line) of count metrics under exactly one dimension set: every key of
 * `dimensions` (e.g. `{ model, version }`), which is what an alarm on those dimensions reads.
 */
export function emfCounts(
  namespace: string,
  dimensions: Readonly<Record<string, string>>,
  counts: Readonly<Record<string, number>>,
  timestamp: number = Date.now(),
): string {
  const defs = Object.keys(counts).map((Name) => ({ Name, Unit: "Count" as const }));
  const doc = {
    ...dimensions,
    ...counts,
    _aws: emfMetadata(namespace, Object.keys(dimensions), defs, timestamp),
  };
  return JSON.stringify(doc);
}
