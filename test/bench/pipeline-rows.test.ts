/** The bench's pipeline rows: bounded, both systems timed on the same images, what each read checked. */
import { describe, expect, it } from "vitest";
import { OCR_STEPS } from "../layers/pipeline/support";
import { measurePipelineRows, pipelineTable } from "./pipeline-rows";

describe("the pipeline rows", () => {
  it("time the pipeline and @gutenye/ocr-node image by image, within their bounds", async () => {
    const lines: string[] = [];
    // A request cap (a smoke run) means one round; a zero budget starts no second one anyway.
    const r = await measurePipelineRows({ seconds: 0, maxRequests: 1 }, (l) => lines.push(l));
    expect(r.rounds).toBe(1);
    expect(r.images).toBe(8);
    for (const s of [r.pipeline, r.reference]) {
      expect(s.imagesPerSec).toBeGreaterThan(0);
      expect(s.p50Ms).toBeGreaterThan(0);
    }
    expect(r.ratio.imagesPerSec).toBeCloseTo(r.pipeline.imagesPerSec / r.reference.imagesPerSec, 6);
    expect(r.ratio.p50).toBeCloseTo(r.pipeline.p50Ms / r.reference.p50Ms, 6);
    expect(Object.keys(r.steps)).toEqual(OCR_STEPS);
    // Every fixture but the rotated one read alike by both; the pipeline reads each one exactly.
    expect(r.agree).toEqual({ same: 7, compared: 7, differing: [] });
    expect(r.wrong).toEqual([]);
    expect(lines).toEqual([
      expect.stringMatching(/^ocr pipeline \| [\d.]+ images\/s, p50 [\d.]+ ms; @gutenye/),
    ]);

    const table = pipelineTable(r);
    expect(table).toContain("| edge-infer ocr pipeline |");
    expect(table).toContain(`| ratio (pipeline / reference) | ${r.ratio.imagesPerSec.toFixed(2)} |`);
    expect(table).toContain(
      "Same characters on 7 of 7 images; the pipeline read every image's expected text.",
    );
  }, 120_000);
});
