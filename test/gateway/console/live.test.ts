/** The console's live windows: per-model counts in fixed windows, percentiles from the histogram buckets. */
import { describe, expect, it } from "vitest";
import { LiveStats, quantile } from "../../../gateway/console/live";
import type { Backend } from "../../../layers/backend";

const catalog = new Map<string, Backend>([["m", {} as Backend]]);

describe("quantile", () => {
  it("interpolates inside the bucket holding the rank, as histogram_quantile does", () => {
    // 10 observations in (5, 10] ms: the median is half-way through that bucket.
    expect(quantile([0, 0, 0, 10], 10, 0.5)).toBe(7.5);
    expect(quantile([], 0, 0.5)).toBeNull();
  });
  it("reports the last bound for observations above it", () => {
    const buckets: number[] = [];
    buckets[14] = 3;
    expect(quantile(buckets, 3, 0.99)).toBe(30_000);
  });
});

describe("LiveStats", () => {
  it("counts requests, 5xx and cache hits per window, and forgets windows past the ring", () => {
    let now = 1_000_000;
    const live = new LiveStats(catalog, { windowMs: 10_000, windows: 3, now: () => now });
    for (let i = 0; i < 9; i++) live.record("m", 3, 200, i < 3 ? "HIT" : "MISS");
    live.record("m", 400, 503, undefined);
    live.record("other", 1, 200, undefined); // not in the catalog: ignored
    now += 10_000;
    const [, first, current] = live.snapshot().models.m ?? [];
    expect(first).toMatchObject({ rps: 1, errors: 1, hitRatio: 1 / 3 });
    expect(first?.p50).toBeGreaterThan(2.5);
    expect(first?.p50).toBeLessThanOrEqual(5);
    expect(first?.p99).toBeGreaterThan(250);
    expect(current).toMatchObject({ rps: 0, p50: null, hitRatio: null });
    expect(Object.keys(live.snapshot().models)).toEqual(["m"]);
    now += 30_000;
    expect(live.snapshot().models.m?.every((p) => p.rps === 0)).toBe(true);
  });
});
