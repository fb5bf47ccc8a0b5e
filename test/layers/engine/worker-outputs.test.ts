import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelEngine } from "../../../layers/engine/engine";
import type { EngineOptions } from "../../../layers/engine/types";
import { inferenceWorkerOf } from "../../../layers/engine/worker-model";
import { toHalf } from "../../../layers/protocol/datatypes";
import type { Tensor } from "../../../layers/protocol/types";
import { openRepository } from "../../../layers/repository";
import { IDENTITY_SAMPLES } from "../../support/engine-fixtures";
import { inferOn } from "../../support/infer";
import { IDENTITY_DATATYPES, makeTestRepository } from "../../support/models";
import { fp32, utf8, values } from "../../support/tensors";

// inferenceThread "worker" answers exactly what the main thread answers.
let repo: { dir: string; cleanup(): Promise<void> };
const engines: ModelEngine[] = [];
let main: ModelEngine;
let worker: ModelEngine;

function newEngine(options: EngineOptions = {}, dir = repo.dir): ModelEngine {
  const engine = new ModelEngine(openRepository(dir), {
    inferenceThread: "worker",
    ...options,
  });
  engines.push(engine);
  return engine;
}

beforeAll(async () => {
  repo = await makeTestRepository();
  main = newEngine({ inferenceThread: "main" });
  worker = newEngine();
});
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
  await repo.cleanup();
});

const cases: Array<[string, number | undefined, () => Tensor[]]> = [
  [
    "add",
    1,
    () => [fp32("a", [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]), fp32("b", [2, 4], [10, 20, 30, 40, 50, 60, 70, 80])],
  ],
  ["add", 2, () => [fp32("a", [1, 4], [1, 1, 1, 1]), fp32("b", [1, 4], [2, 2, 2, 2])]],
  [
    "int64-ops",
    undefined,
    () => [
      {
        name: "x",
        datatype: "INT64",
        shape: [2, 3],
        data: BigInt64Array.from([-3n, 0n, 7n, 2n ** 40n, -1n, 1n]),
      },
    ],
  ],
  [
    "bool-not",
    undefined,
    () => [{ name: "x", datatype: "BOOL", shape: [3], data: Uint8Array.from([1, 0, 1]) }],
  ],
  [
    "bytes-identity",
    undefined,
    () => [{ name: "text", datatype: "BYTES", shape: [3], data: ["héllo", "", "世界"].map(utf8) }],
  ],
  [
    "half",
    undefined,
    () => [
      { name: "x", datatype: "FP16", shape: [2, 2], data: Uint16Array.from([1, -2, 0.5, 65504].map(toHalf)) },
    ],
  ],
  [
    "uint8-cast",
    undefined,
    () => [{ name: "x", datatype: "UINT8", shape: [3], data: Uint8Array.from([1, 127, 200]) }],
  ],
  [
    "identity-all",
    undefined,
    () =>
      IDENTITY_DATATYPES.map((d) => ({
        name: `in_${d}`,
        datatype: d,
        shape: [2],
        data: IDENTITY_SAMPLES[d],
      })),
  ],
];

describe("inferenceThread 'worker' outputs", () => {
  it.each(cases)("gives the main thread's outputs: %s version %s", async (model, version, inputs) => {
    const here = await inferOn(main, model, version, inputs());
    const there = await inferOn(worker, model, version, inputs());
    expect(there.version).toBe(here.version);
    expect(there.outputs.length).toBeGreaterThan(0);
    expect(there.outputs).toEqual(here.outputs);
    for (const [i, t] of there.outputs.entries()) {
      expect(t.data.constructor).toBe(here.outputs[i]?.data.constructor);
    }
    expect(inferenceWorkerOf(await worker.load(model, version))).toBeDefined();
    expect(inferenceWorkerOf(await main.load(model, version))).toBeUndefined();
  });

  it("gives the main thread's outputs on ocr-cls, and serves the same metadata", async () => {
    const demo = join(import.meta.dirname, "../../../functions/models");
    const m = newEngine({ inferenceThread: "main" }, demo);
    const w = newEngine({}, demo);
    const x = fp32(
      "x",
      [2, 3, 48, 192],
      Array.from({ length: 2 * 3 * 48 * 192 }, (_, i) => Math.sin(i) / 2),
    );
    const [here, there] = [
      await inferOn(m, "ocr-cls", undefined, [x]),
      await inferOn(w, "ocr-cls", undefined, [x]),
    ];
    expect(there.outputs[0]?.shape).toEqual([2, 2]);
    expect(there.outputs).toEqual(here.outputs);
    expect(await w.metadata("ocr-cls")).toEqual(await m.metadata("ocr-cls"));
  });

  it("reads inputs that are views into a larger buffer, and leaves the caller's arrays intact", async () => {
    const body = new Float32Array(20).map((_, i) => i);
    const a: Tensor = { name: "a", datatype: "FP32", shape: [1, 4], data: body.subarray(3, 7) };
    const b: Tensor = { name: "b", datatype: "FP32", shape: [1, 4], data: body.subarray(10, 14) };
    const res = await inferOn(worker, "add", 1, [a, b], ["sum"]);
    expect(values(res.outputs[0])).toEqual([13, 15, 17, 19]);
    expect(body.buffer.byteLength).toBe(80);
    expect([...body]).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const bytes = utf8("xxabcyy");
    const text: Tensor = {
      name: "text",
      datatype: "BYTES",
      shape: [2],
      data: [bytes.subarray(2, 5), bytes.subarray(5)],
    };
    const same = (await inferOn(worker, "bytes-identity", undefined, [text])).outputs[0]
      ?.data as Uint8Array[];
    expect(same.map((s) => new TextDecoder().decode(s))).toEqual(["abc", "yy"]);
    expect(bytes.byteLength).toBe(7);
  });

  it("answers concurrent runs each with its own result", async () => {
    const runs = Array.from({ length: 24 }, (_, i) =>
      inferOn(worker, "add", 1 + (i % 2), [fp32("a", [1, 4], [i, i, i, i]), fp32("b", [1, 4], [1, 2, 3, 4])]),
    );
    const results = await Promise.all(runs);
    for (const [i, r] of results.entries()) {
      const offset = i % 2;
      expect(r.version).toBe(1 + offset);
      expect(values(r.outputs[0])).toEqual([1, 2, 3, 4].map((v) => i + v + offset));
    }
  });
});
