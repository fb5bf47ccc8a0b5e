/**
 * The console's live figures: a small ring of fixed windows per model (requests, errors, cache hits
 * and misses, and a latency histogram with the buckets of the Prometheus one), so the page can chart
 * requests/s and p50/p99 over the last minutes. Cumulative counters (/metrics, Triton's statistics)
 * give no percentiles over a recent window; these windows do, within a bucket's width.
 */
import type { MiddlewareHandler } from "hono";
import type { ModelCatalog } from "../../layers/backend";
import type { ProtocolEnv } from "../../layers/http";
import { targetOf } from "../../layers/http/target";
import { DEFAULT_BUCKETS_MS } from "../../layers/telemetry";
import type { LiveAnswer, LivePoint } from "./live-answer";

/** One model's counts during one window. */
interface Window {
  start: number;
  requests: number;
  errors: number;
  hits: number;
  misses: number;
  /** Counts per bucket of DEFAULT_BUCKETS_MS, plus one for above the last bound. */
  buckets: number[];
}

/** Options of LiveStats. */
export interface LiveOptions {
  /** Width of a window, ms. @default 10000 */
  windowMs?: number;
  /** Windows kept per model. @default 30 (five minutes) */
  windows?: number;
  now?: () => number;
}

/** Per-model rings of recent windows; memory bounded by catalog size × windows. */
export class LiveStats {
  readonly windowMs: number;
  readonly #keep: number;
  readonly #now: () => number;
  readonly #rings = new Map<string, Window[]>();

  constructor(
    readonly catalog: ModelCatalog,
    options: LiveOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 10_000;
    this.#keep = options.windows ?? 30;
    this.#now = options.now ?? Date.now;
  }

  /** Counts one infer request of a catalog model; other names are ignored (bounded memory). */
  record(model: string, durationMs: number, status: number, cache: string | undefined): void {
    if (!this.catalog.has(model)) return;
    const w = this.#current(model);
    w.requests++;
    if (status >= 500) w.errors++;
    if (cache === "HIT") w.hits++;
    else if (cache === "MISS") w.misses++;
    let i = 0;
    while (i < DEFAULT_BUCKETS_MS.length && durationMs > (DEFAULT_BUCKETS_MS[i] as number)) i++;
    w.buckets[i] = (w.buckets[i] ?? 0) + 1;
  }

  #current(model: string): Window {
    const start = Math.floor(this.#now() / this.windowMs) * this.windowMs;
    let ring = this.#rings.get(model);
    if (ring === undefined) {
      ring = [];
      this.#rings.set(model, ring);
    }
    const last = ring[ring.length - 1];
    if (last !== undefined && last.start === start) return last;
    const w: Window = { start, requests: 0, errors: 0, hits: 0, misses: 0, buckets: [] };
    ring.push(w);
    if (ring.length > this.#keep) ring.shift();
    return w;
  }

  /** The series of `names` (default: the catalog) over the kept windows, oldest first; empty windows are zeros. */
  snapshot(names: Iterable<string> = this.catalog.keys()): Pick<LiveAnswer, "windowSeconds" | "models"> {
    const end = Math.floor(this.#now() / this.windowMs) * this.windowMs;
    const models: Record<string, LivePoint[]> = {};
    for (const model of names) {
      const byStart = new Map((this.#rings.get(model) ?? []).map((w) => [w.start, w]));
      const points: LivePoint[] = [];
      for (let k = this.#keep - 1; k >= 0; k--) {
        const start = end - k * this.windowMs;
        points.push(pointOf(start, byStart.get(start), start === end ? this.#now() - end : this.windowMs));
      }
      models[model] = points;
    }
    return { windowSeconds: this.windowMs / 1000, models };
  }
}

function pointOf(start: number, w: Window | undefined, spanMs: number): LivePoint {
  const t = start / 1000;
  if (w === undefined) return { t, rps: 0, p50: null, p99: null, errors: 0, hitRatio: null };
  const looked = w.hits + w.misses;
  return {
    t,
    rps: w.requests / Math.max(spanMs / 1000, 1),
    p50: quantile(w.buckets, w.requests, 0.5),
    p99: quantile(w.buckets, w.requests, 0.99),
    errors: w.errors,
    hitRatio: looked === 0 ? null : w.hits / looked,
  };
}

/** The q-quantile of a bucketed count, interpolated linearly inside its bucket (as Prometheus does). */
export function quantile(buckets: readonly number[], total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i <= DEFAULT_BUCKETS_MS.length; i++) {
    const n = buckets[i] ?? 0;
    if (n > 0 && seen + n >= rank) {
      const lower = i === 0 ? 0 : (DEFAULT_BUCKETS_MS[i - 1] as number);
      // Above the last bound there is no upper edge: report the bound, as histogram_quantile does.
      if (i === DEFAULT_BUCKETS_MS.length) return lower;
      const upper = DEFAULT_BUCKETS_MS[i] as number;
      return lower + ((upper - lower) * (rank - seen)) / n;
    }
    seen += n;
  }
  return null;
}

/** Hono middleware (right after telemetry): feeds `live` with each infer request's outcome. */
export function liveMiddleware(live: LiveStats): MiddlewareHandler<ProtocolEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const target = targetOf(c);
    if (c.req.method !== "POST" || target?.infer !== true || target.model === undefined) return;
    live.record(target.model, performance.now() - started, c.res.status, c.get("cache"));
  };
}
