/**
 * One shadow comparison on AWS: the job's infer event goes to the model function (pinned to the
 * shadow version, RequestResponse), its answer is compared output by output with the live answer
 * the job carries, and the outcome becomes EMF metrics with dimensions {model, version: the live
 * version} plus, for a disagreement, one log line naming the worst element of each output (never
 * whole tensors). Shadow failures are counted as `shadow_errors`, apart from disagreements.
 */
import { compareOutputs, type OutputComparison } from "../../layers/shadow/compare";
import type { ShadowJob } from "../../layers/shadow/job";
import { emfCounts } from "../../layers/telemetry/emf";
import { inferResultOf, parseTransportResult } from "../../layers/transport/wire";

/** The EMF metrics of the comparison function (the alarm and the dashboard read them). */
export const SHADOW_METRICS = {
  requests: "shadow_requests",
  disagreements: "shadow_disagreements",
  errors: "shadow_errors",
  maxAbsDiff: "shadow_max_abs_diff",
} as const;

/** The model function's answer to one Invoke: its payload, or the function error it reported. */
export type Invoked = { payload: unknown } | { functionError: string };

/** What compareJob needs of the world. */
export interface JobDeps {
  /** Invokes the model's function with the event (RequestResponse); rejects when the call fails. */
  invoke(event: ShadowJob["event"]): Promise<Invoked>;
  namespace: string;
  /** Prints EMF documents and log lines (stdout on Lambda). */
  print(line: string): void;
  now?: () => number;
}

/** What one job came to. */
export type JobOutcome =
  | { kind: "compared"; agrees: boolean; maxAbsDiff: number; outputs: OutputComparison[] }
  | { kind: "error"; error: string };

/** Runs one job; never throws (an asynchronous invocation that throws is retried and counted twice). */
export async function compareJob(job: ShadowJob, deps: JobDeps): Promise<JobOutcome> {
  const model = job.event.model;
  const dims = { model, version: job.liveVersion };
  const log = (level: string, message: string, fields: Record<string, unknown>) =>
    deps.print(JSON.stringify({ level, message, requestId: job.requestId, ...dims, ...fields }));
  let outcome: JobOutcome;
  try {
    const got = await deps.invoke(job.event);
    if ("functionError" in got) throw new Error(`the shadow version failed: ${got.functionError}`);
    const shadow = inferResultOf(parseTransportResult(got.payload, model), model);
    const live = inferResultOf(job.live, model);
    const outputs = compareOutputs(live.outputs, shadow.outputs, job.tolerance, job.argmax);
    const maxAbsDiff = outputs.reduce((m, o) => Math.max(m, o.maxAbsDiff), 0);
    outcome = { kind: "compared", agrees: outputs.every((o) => o.agrees), maxAbsDiff, outputs };
  } catch (e) {
    outcome = { kind: "error", error: e instanceof Error ? e.message : String(e) };
  }
  const now = deps.now?.() ?? Date.now();
  const counts: Record<string, number> =
    outcome.kind === "error"
      ? { [SHADOW_METRICS.errors]: 1 }
      : { [SHADOW_METRICS.requests]: 1, [SHADOW_METRICS.disagreements]: outcome.agrees ? 0 : 1 };
  for (const line of emfCounts(deps.namespace, dims, counts, now)) deps.print(line);
  if (outcome.kind === "error") {
    log("WARN", "shadow call failed", { shadowVersion: job.event.version, error: outcome.error });
    return outcome;
  }
  deps.print(distribution(deps.namespace, dims, outcome.maxAbsDiff, now));
  if (!outcome.agrees) {
    log("INFO", "shadow disagreement", {
      shadowVersion: job.event.version,
      outputs: outcome.outputs.filter((o) => !o.agrees).map(({ agrees: _, ...o }) => o),
    });
  }
  return outcome;
}

/** The EMF document of one max-abs-difference value (unit None: it is in the outputs' own units). */
function distribution(namespace: string, dims: Record<string, string>, value: number, now: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(dims)],
          Metrics: [{ Name: SHADOW_METRICS.maxAbsDiff, Unit: "None" }],
        },
      ],
    },
    ...dims,
    [SHADOW_METRICS.maxAbsDiff]: Number.isFinite(value) ? value : Number.MAX_VALUE,
  });
}
