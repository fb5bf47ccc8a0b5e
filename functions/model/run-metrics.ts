/**
 * Runs of each model version, as CloudWatch EMF lines: `model_runs` and `model_run_failures`
 * (Count) under exactly the dimensions `{model, version}`. The rollback alarms divide the two for
 * the version being released, so a version that fails on inputs its predecessor served is rolled
 * back even though each failure is a 400 to its client.
 */

import type { Backend } from "../../layers/backend";
import { MalformedOutput, ModelRunFailed } from "../../layers/engine/run-errors";
import { emfCounts } from "../../layers/telemetry/emf";

/** EMF metric names, shared with the alarms in infra/. */
export const RUN_METRICS = { runs: "model_runs", failures: "model_run_failures" } as const;

/** Counts per version between two flushes. */
export class RunMetrics {
  private readonly counts = new Map<string, { runs: number; failures: number }>();

  constructor(
    private readonly namespace: string,
    private readonly model: string,
    private readonly emit: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  /** One run of `version`: it answered, or it failed (ORT refused the input, or malformed outputs). */
  ran(version: string, failed: boolean): void {
    const c = this.counts.get(version) ?? { runs: 0, failures: 0 };
    c.runs++;
    if (failed) c.failures++;
    this.counts.set(version, c);
  }

  /** Emits one EMF line per version counted since the last flush (none when nothing ran). */
  flush(timestamp: number = Date.now()): void {
    for (const [version, c] of this.counts) {
      // A zero keeps the failure rate defined (0 %) for versions that only succeeded.
      const counts = { [RUN_METRICS.runs]: c.runs, [RUN_METRICS.failures]: c.failures };
      for (const line of emfCounts(this.namespace, { model: this.model, version }, counts, timestamp)) {
        this.emit(line);
      }
    }
    this.counts.clear();
  }
}

/** `backend` with every run it starts counted in `metrics` (a refused request never ran: not counted). */
export function meteredBackend(backend: Backend, metrics: RunMetrics): Backend {
  return {
    describe: (model, version, signal) => backend.describe(model, version, signal),
    ready: (model, version, signal) => backend.ready(model, version, signal),
    infer: async (model, version, request, signal) => {
      try {
        const result = await backend.infer(model, version, request, signal);
        metrics.ran(result.version, false);
        return result;
      } catch (e) {
        if (e instanceof ModelRunFailed || e instanceof MalformedOutput) metrics.ran(String(e.version), true);
        throw e;
      }
    },
  };
}
