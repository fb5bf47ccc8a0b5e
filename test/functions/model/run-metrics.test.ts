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
    metrics.flush(1_700_000_000_000);
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(docs).toEqual([
      {
        model: "ocr-det",
        version: "1",
        model_runs: 2,
        model_run_failures: 1,
        _aws: {
          Timestamp: 1_700_000_000_000,
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
});
