/** The batcher in front of a real ONNX Runtime session: batched results equal unbatched ones. */
import { resolve } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamicBatcher, type RunBatch } from "../../../layers/batching";
import type { Tensor } from "../../../layers/protocol/types";

const MODEL = resolve(import.meta.dirname, "../../../functions/models/ocr-cls/1/model.onnx");
const ROW = 3 * 48 * 192;

let session: ort.InferenceSession;
beforeAll(async () => {
  session = await ort.InferenceSession.create(MODEL);
});
afterAll(async () => {
  await session.release();
});

async function infer(x: Float32Array, rows: number): Promise<Float32Array> {
  const result = await session.run({ x: new ort.Tensor("float32", x, [rows, 3, 48, 192]) });
  const y = result["softmax_0.tmp_0"];
  if (y === undefined || !(y.data instanceof Float32Array))
    throw new Error("ocr-cls gave no FP32 softmax_0.tmp_0");
  return y.data;
}

describe("DynamicBatcher with ocr-cls on onnxruntime-node", () => {
  it("returns for 8 concurrent requests what 8 separate runs return, in fewer runs", async () => {
    let runs = 0;
    const run: RunBatch = async (inputs) => {
      runs++;
      const x = inputs[0];
      if (x === undefined || !(x.data instanceof Float32Array)) throw new Error("expected FP32 input x");
      const feeds = { x: new ort.Tensor("float32", x.data, x.shape) };
      const result = await session.run(feeds);
      return Object.entries(result).map(([name, t]) => ({
        name,
        datatype: "FP32",
        shape: [...t.dims],
        data: t.data as Float32Array,
      }));
    };
    const batcher = new DynamicBatcher({
      run,
      maxBatchSize: 8,
      preferredBatchSizes: [4, 8],
      maxQueueDelayMicros: 100_000,
      maxQueueSize: 64,
      defaultTimeoutMicros: 0,
    });
    // Different data per request: a smooth image per seed, so the classifier's outputs differ.
    const requests: Tensor[] = Array.from({ length: 8 }, (_, k) => {
      const data = new Float32Array(ROW);
      for (let i = 0; i < ROW; i++) data[i] = Math.sin((i % 192) * 0.05 * (k + 1) + k) * 0.8;
      return { name: "x", datatype: "FP32", shape: [1, 3, 48, 192], data };
    });
    const expected: Float32Array[] = [];
    for (const r of requests) expected.push(await infer(r.data as Float32Array, 1));

    const results = await Promise.all(requests.map((r) => batcher.submit([r])));

    expect(runs).toBeLessThan(requests.length);
    expect(batcher.stats().batches).toBe(runs);
    expect(new Set(expected.map((e) => e.join())).size).toBeGreaterThan(1); // the data really differ
    results.forEach((r, k) => {
      const y = r.outputs.find((t) => t.name === "softmax_0.tmp_0");
      expect(y?.shape).toEqual([1, 2]);
      const got = Array.from(y?.data as Float32Array);
      const want = Array.from(expected[k] ?? []);
      expect(got).toHaveLength(2);
      got.forEach((v, i) => {
        expect(Math.abs(v - (want[i] ?? Number.NaN))).toBeLessThanOrEqual(1e-5);
      });
    });
  });
});
