/**
 * What the shadow comparison of each model found: counters and the max-abs-difference distribution
 * in the metrics registry (Prometheus locally), plus totals and the last disagreements for
 * `GET /v2/models/{m}/shadow`. Never whole tensors: one worst element per output.
 */

import type { OutputComparison } from "../../layers/shadow/compare";

type Labels = Record<string, string>;
type Count = (labels: Labels, by?: number) => void;
type Observe = (labels: Labels, value: number) => void;

/**
 * Where the shadow counters live: PrometheusMetrics (layers/telemetry/prometheus.ts) in local mode;
 * NO_REGISTRY where nothing is scraped (the summary route still counts).
 */
export interface ShadowRegistry {
  ownCounter(name: string, help: string, labelNames: readonly string[]): Count;
  ownHistogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Observe;
}

/** Records nothing. */
export const NO_REGISTRY: ShadowRegistry = { ownCounter: () => () => {}, ownHistogram: () => () => {} };

/** Buckets of the max absolute difference between live and shadow outputs. */
export const MAX_ABS_DIFF_BUCKETS = [0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10];

/** Why a mirrored request produced no comparison. */
export type ShadowFailure = "error" | "timeout" | "dropped_busy" | "dropped_concurrency";

/** One request on which the shadow disagreed: one entry per disagreeing output. */
export interface Disagreement {
  request_id: string;
  at: string;
  outputs: Array<Omit<OutputComparison, "agrees">>;
}

/** Totals of one model's shadow comparison (the summary route's body, less the model's settings). */
export interface ShadowTotals {
  /** Requests mirrored and answered by the shadow (compared). */
  requests: number;
  disagreements: number;
  errors: number;
  timeouts: number;
  /** Not mirrored: the model's backend was busy, or too many shadow calls were in flight. */
  dropped: number;
  /** Largest max-abs difference seen. */
  max_abs_diff: number;
}

interface ModelState {
  versions: { live: string; shadow: string };
  totals: ShadowTotals;
  last: Disagreement[];
}

/** Per-model shadow counters, in the process's metrics registry. */
export class ShadowStats {
  readonly #requests: Count;
  readonly #disagreements: Count;
  readonly #errors: Count;
  readonly #dropped: Count;
  readonly #maxAbs: Observe;
  readonly #models = new Map<string, ModelState>();

  constructor(
    registry: ShadowRegistry,
    /** Disagreements kept per model for the summary. */
    readonly keep = 20,
  ) {
    const labels = ["model", "live_version", "shadow_version"];
    this.#requests = registry.ownCounter(
      "shadow_requests",
      "Requests compared with the shadow version",
      labels,
    );
    this.#disagreements = registry.ownCounter(
      "shadow_disagreements",
      "Compared requests on which the shadow version disagreed beyond release.tolerance",
      labels,
    );
    this.#errors = registry.ownCounter("shadow_errors", "Shadow calls that failed or timed out", [
      ...labels,
      "kind",
    ]);
    this.#dropped = registry.ownCounter("shadow_dropped", "Requests not mirrored (backend busy)", [
      ...labels,
      "reason",
    ]);
    this.#maxAbs = registry.ownHistogram(
      "shadow_max_abs_diff",
      "Max absolute difference between live and shadow outputs, per compared request",
      labels,
      MAX_ABS_DIFF_BUCKETS,
    );
  }

  #state(model: string, live: string, shadow: string): ModelState {
    let s = this.#models.get(model);
    if (s === undefined || s.versions.live !== live || s.versions.shadow !== shadow) {
      // A new version pair starts new totals: the old pair's are still in the metrics.
      s = {
        versions: { live, shadow },
        totals: { requests: 0, disagreements: 0, errors: 0, timeouts: 0, dropped: 0, max_abs_diff: 0 },
        last: [],
      };
      this.#models.set(model, s);
    }
    return s;
  }

  /** Records a comparison; returns true when the shadow disagreed. */
  compared(
    model: string,
    live: string,
    shadow: string,
    requestId: string,
    outputs: OutputComparison[],
  ): boolean {
    const labels = { model, live_version: live, shadow_version: shadow };
    const s = this.#state(model, live, shadow);
    const maxAbs = outputs.reduce((m, o) => Math.max(m, o.maxAbsDiff), 0);
    const differing = outputs.filter((o) => !o.agrees);
    this.#requests(labels);
    this.#maxAbs(labels, maxAbs);
    s.totals.requests++;
    s.totals.max_abs_diff = Math.max(s.totals.max_abs_diff, maxAbs);
    if (differing.length === 0) return false;
    this.#disagreements(labels);
    s.totals.disagreements++;
    s.last.unshift({
      request_id: requestId,
      at: new Date().toISOString(),
      outputs: differing.map(({ agrees: _, ...o }) => o),
    });
    if (s.last.length > this.keep) s.last.length = this.keep;
    return true;
  }

  /** Records a mirrored request that produced no comparison. */
  failed(model: string, live: string, shadow: string, why: ShadowFailure): void {
    const labels = { model, live_version: live, shadow_version: shadow };
    const s = this.#state(model, live, shadow);
    if (why === "error" || why === "timeout") {
      this.#errors({ ...labels, kind: why });
      if (why === "error") s.totals.errors++;
      else s.totals.timeouts++;
    } else {
      this.#dropped({ ...labels, reason: why.slice("dropped_".length) });
      s.totals.dropped++;
    }
  }

  /** Totals and the last disagreements of a model, newest first; undefined before its first mirror. */
  summary(model: string):
    | {
        live_version: string;
        shadow_version: string;
        totals: ShadowTotals;
        last_disagreements: Disagreement[];
      }
    | undefined {
    const s = this.#models.get(model);
    if (s === undefined) return undefined;
    return {
      live_version: s.versions.live,
      shadow_version: s.versions.shadow,
      totals: { ...s.totals },
      last_disagreements: s.last.map((d) => ({ ...d })),
    };
  }
}
