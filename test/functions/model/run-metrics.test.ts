/** Run metrics: EMF lines per version, under exactly the dimensions the rollback alarms read. */
import { describe, expect, it } from "vitest";
import { RUN_METRICS, RunMetrics } from "../../../functions/model/run-metrics";

describe("RunMetrics", () => {
  it("emits one line per version with both counts, then starts again from zero", () => {
    const lines: string[] = [];
    const metrics = new RunMetrics("EdgeInfer", "ocr-det", (l) => lines.push(l));
    metrics.flush(1);
    expect(lines).toEqual([]);
    metrics.ran("1", false);
    metrics.ran("1", true);
    metrics.ran("2", false);
    // A recent timestamp: Powertools warns of one CloudWatch would drop (older than 14 days).
    const at = Date.now() - 1000;
    metrics.flush(at);
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(docs).toEqual([
      {
        model: "ocr-det",
        version: "1",
        model_runs: 2,
        model_run_failures: 1,
        _aws: {
          Timestamp: at,
          CloudWatchMetrics: [
            {
              Namespace: "EdgeInfer",
              Dimensions: [["model", "version"]],
              Metrics: [
                { Name: RUN_METRICS.runs, Unit: "Count" },
                { Name: RUN_METRICS.failures, Unit: "Count" },
              ],
            },
          ],
        },
      },
      expect.objectContaining({ version: "2", model_runs: 1, model_run_failures: 0 }),
    ]);
    lines.length = 0;
    metrics.flush();
    expect(lines).toEqual([]);
  });

  it("emits nothing while Powertools Metrics is disabled (POWERTOOLS_METRICS_DISABLED)", () => {
    const saved = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = "true";
    try {
      const lines: string[] = [];
      const metrics = new RunMetrics("EdgeInfer", "ocr-det", (l) => lines.push(l));
      metrics.ran("1", true);
      metrics.flush();
      expect(lines).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = saved;
    }
  });
});
