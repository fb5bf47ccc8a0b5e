/**
 * The demo out of the box: ocr-cls version 1 is live and version 2 (generated from it, its last bias
 * moved) is its shadow, so the first requests already show a comparison in /metrics and the summary.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIAS_SHIFT, writeDemoVariant } from "../../../gateway/shadow/demo-variant";
import type { EngineBackend } from "../../../layers/backend";
import { DEMO_DIR, engineBackend } from "../helpers";
import { shadowGateway } from "./support";

let backend: EngineBackend;
beforeAll(() => {
  writeDemoVariant(fileURLToPath(DEMO_DIR));
  backend = engineBackend(DEMO_DIR, ["ocr-cls"]);
});
afterAll(() => backend.close());

describe("the demo's shadow", () => {
  it("serves version 1, compares with version 2, and reports small differences", async () => {
    const g = shadowGateway(new Map([["ocr-cls", backend]]), 20_000);
    // A new input each time: ocr-cls caches results, and a cache hit is not shadowed.
    const inputs = (k: number) => [
      {
        name: "x",
        datatype: "FP32",
        shape: [1, 3, 48, 192],
        data: Array.from({ length: 3 * 48 * 192 }, (_, i) => ((i * 7919 + k) % 255) / 255),
      },
    ];
    let compared = 0;
    for (let i = 0; i < 30 && compared === 0; i++) {
      const res = await g.infer("ocr-cls", inputs(i));
      expect(res.status).toBe(200);
      expect(((await res.json()) as { model_version: string }).model_version).toBe("1");
      await g.gateway.shadow.idle();
      compared = (await g.summary("ocr-cls")).totals.requests;
    }
    const s = await g.summary("ocr-cls");
    expect(s.shadow).toMatchObject({ version: 2, percent: 50 });
    expect(s.totals).toMatchObject({ errors: 0, timeouts: 0 });
    expect(s.totals.requests).toBeGreaterThan(0);
    expect(s.totals.disagreements).toBe(s.totals.requests);
    expect(s.totals.max_abs_diff).toBeGreaterThan(0);
    expect(s.totals.max_abs_diff).toBeLessThan(BIAS_SHIFT);
    expect(s.last_disagreements[0]?.outputs[0]).toMatchObject({ output: "softmax_0.tmp_0", sameShape: true });
    expect(await g.metrics()).toContain(
      'shadow_requests{model="ocr-cls",live_version="1",shadow_version="2"}',
    );
  });
});
