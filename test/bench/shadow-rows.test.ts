/** The bench's shadow rows (shadow-rows.ts), with tiny windows: their shape and notes, not their figures. */
import { describe, expect, it } from "vitest";
import { MODELS } from "./payloads";
import { readSettings } from "./settings";
import { measureShadowRows, SHADOW_PERCENTS } from "./shadow-rows";

describe("shadow rows", () => {
  it("measures 0 % and 10 % in turns and notes the 10 % row's cost against the 0 % row", async () => {
    const s = readSettings({ BENCH_CONCURRENCY: "1", BENCH_THREADS: "1" }, []);
    const cls = MODELS["ocr-cls"];
    if (cls === undefined) throw new Error("ocr-cls is a bench model");
    const rows = await measureShadowRows(cls, s, { durationMs: 300, warmupMs: 0, maxRequests: 4 }, undefined);
    expect(rows.map((r) => r.variant)).toEqual(SHADOW_PERCENTS.map((p) => `binary, shadow ${p} %`));
    for (const r of rows) {
      expect(r.errors).toBe(0);
      expect(r.requests).toBeGreaterThanOrEqual(4);
    }
    expect(rows[0]?.note).toBe("baseline: shadow configured, nothing mirrored");
    expect(rows[1]?.note).toMatch(
      /^vs 0 % \(the same windows, in turns\): p50 [+-]\d+\.\d %, req\/s [+-]\d+\.\d % \(target: cost < 5 %\); mirrors compared \d+, dropped \d+$/,
    );
  }, 180_000);
});
