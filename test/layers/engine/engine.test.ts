import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelEngine } from "../../../layers/engine/engine";
import { ModelNotFound } from "../../../layers/errors";
import { fromHalf, toHalf } from "../../../layers/protocol/datatypes";
import type { Tensor } from "../../../layers/protocol/types";
import { openRepository } from "../../../layers/repository";
import { IDENTITY_SAMPLES } from "../../support/engine-fixtures";
import { inferOn } from "../../support/infer";
import { ADD_SIGNATURE, IDENTITY_DATATYPES, makeTestRepository } from "../../support/models";
import { fp32, utf8 } from "../../support/tensors";

let repo: { dir: string; cleanup(): Promise<void> };
let engine: ModelEngine;

beforeAll(async () => {
  repo = await makeTestRepository();
  engine = new ModelEngine(openRepository(repo.dir));
});
afterAll(async () => {
  await engine.close();
  await repo.cleanup();
});

const byName = (outputs: Tensor[], name: string): Tensor => {
  const t = outputs.find((o) => o.name === name);
  if (t === undefined) throw new Error(`no output ${name}`);
  return t;
};

describe("ModelEngine on generated models", () => {
  it("runs add with two inputs and two outputs (default version = latest)", async () => {
    const a = fp32("a", [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
    const b = fp32("b", [2, 4], [10, 20, 30, 40, 50, 60, 70, 80]);
    const res = await inferOn(engine, "add", undefined, [a, b]);
    expect(res.version).toBe(2);
    expect(res.outputs.map((o) => o.name)).toEqual(["sum", "diff"]);
    const sum = byName(res.outputs, "sum");
    expect(sum).toMatchObject({ datatype: "FP32", shape: [2, 4] });
    expect([...(sum.data as Float32Array)]).toEqual([12, 23, 34, 45, 56, 67, 78, 89]);
    expect([...(byName(res.outputs, "diff").data as Float32Array)]).toEqual([
      -9, -18, -27, -36, -45, -54, -63, -72,
    ]);
  });

  it("serves two versions side by side with different results", async () => {
    const inputs = [fp32("a", [1, 4], [1, 1, 1, 1]), fp32("b", [1, 4], [2, 2, 2, 2])];
    const [v1, v2] = await Promise.all([
      inferOn(engine, "add", 1, inputs),
      inferOn(engine, "add", 2, inputs),
    ]);
    expect(v1.version).toBe(1);
    expect([...(byName(v1.outputs, "sum").data as Float32Array)]).toEqual([3, 3, 3, 3]);
    expect([...(byName(v2.outputs, "sum").data as Float32Array)]).toEqual([4, 4, 4, 4]);
    expect(engine.isReady("add", 1)).toBe(true);
    expect(engine.isReady("add", 2)).toBe(true);
    expect(engine.isReady("add")).toBe(true);
  });

  it("computes only the requested outputs, in the requested order", async () => {
    const inputs = [fp32("a", [1, 4], [5, 5, 5, 5]), fp32("b", [1, 4], [1, 2, 3, 4])];
    const res = await inferOn(engine, "add", 1, inputs, ["diff"]);
    expect(res.outputs.map((o) => o.name)).toEqual(["diff"]);
    expect([...(byName(res.outputs, "diff").data as Float32Array)]).toEqual([4, 3, 2, 1]);
  });

  it("validates requests against the served signature", async () => {
    const bad = [fp32("a", [1, 3], [1, 2, 3]), fp32("b", [1, 4], [1, 2, 3, 4])];
    await expect(inferOn(engine, "add", 1, bad)).rejects.toThrow(
      "input 'a' has shape [1,3]: dimension 1 is 3, expected 4 (shape [-1,4])",
    );
    const tooMany = [fp32("a", [9, 4], new Array(36).fill(0)), fp32("b", [9, 4], new Array(36).fill(0))];
    await expect(inferOn(engine, "add", 1, tooMany)).rejects.toThrow("batch size 9, expected 1 to 8");
  });

  it("INT64 in, INT64 and BOOL out", async () => {
    const x: Tensor = {
      name: "x",
      datatype: "INT64",
      shape: [2, 3],
      data: BigInt64Array.from([-3n, 0n, 7n, 2n ** 40n, -1n, 1n]),
    };
    const res = await inferOn(engine, "int64-ops", undefined, [x]);
    const doubled = byName(res.outputs, "doubled");
    expect(doubled).toMatchObject({ datatype: "INT64", shape: [2, 3] });
    expect(doubled.data).toBeInstanceOf(BigInt64Array);
    expect([...(doubled.data as BigInt64Array)]).toEqual([-6n, 0n, 14n, 2n ** 41n, -2n, 2n]);
    const pos = byName(res.outputs, "is_pos");
    expect(pos).toMatchObject({ datatype: "BOOL", shape: [2, 3] });
    expect([...(pos.data as Uint8Array)]).toEqual([0, 0, 1, 1, 0, 1]);
  });

  it("BOOL Not", async () => {
    const x: Tensor = { name: "x", datatype: "BOOL", shape: [3], data: Uint8Array.from([1, 0, 1]) };
    const res = await inferOn(engine, "bool-not", undefined, [x]);
    expect(res.outputs.map((o) => o.name)).toEqual(["y"]);
    const y = byName(res.outputs, "y");
    expect(y).toMatchObject({ datatype: "BOOL", shape: [3] });
    expect([...(y.data as Uint8Array)]).toEqual([0, 1, 0]);
  });

  it("BYTES identity keeps UTF-8 text, empty strings included", async () => {
    const words = ["héllo", "", "世界"];
    const text: Tensor = { name: "text", datatype: "BYTES", shape: [3], data: words.map(utf8) };
    const same = byName((await inferOn(engine, "bytes-identity", undefined, [text])).outputs, "same");
    expect(same).toMatchObject({ datatype: "BYTES", shape: [3] });
    expect((same.data as Uint8Array[]).map((b) => new TextDecoder().decode(b))).toEqual(words);
  });

  it("BYTES that are not UTF-8 are refused, naming the tensor", async () => {
    const text: Tensor = {
      name: "text",
      datatype: "BYTES",
      shape: [1],
      data: [Uint8Array.from([0xff, 0xfe])],
    };
    await expect(inferOn(engine, "bytes-identity", undefined, [text])).rejects.toThrow(
      "input 'text' element 0 is not UTF-8 text",
    );
  });

  it("FP16 travels as half bits, in and out", async () => {
    const values = [1, -2, 0.5, 65504];
    const x: Tensor = {
      name: "x",
      datatype: "FP16",
      shape: [2, 2],
      data: Uint16Array.from(values.map(toHalf)),
    };
    const res = await inferOn(engine, "half", undefined, [x]);
    const y = byName(res.outputs, "y");
    expect(y).toMatchObject({ datatype: "FP16", shape: [2, 2] });
    expect(y.data).toBeInstanceOf(Uint16Array);
    expect([...(y.data as Uint16Array)].map(fromHalf)).toEqual(values);
    const wide = byName(res.outputs, "wide");
    expect(wide.datatype).toBe("FP32");
    expect([...(wide.data as Float32Array)]).toEqual(values);
  });

  it("UINT8 in, UINT8 and INT8 (wrapped cast) out", async () => {
    const x: Tensor = { name: "x", datatype: "UINT8", shape: [3], data: Uint8Array.from([1, 127, 200]) };
    const res = await inferOn(engine, "uint8-cast", undefined, [x]);
    expect(byName(res.outputs, "same")).toMatchObject({
      datatype: "UINT8",
      data: Uint8Array.from([1, 127, 200]),
    });
    expect(byName(res.outputs, "signed")).toMatchObject({
      datatype: "INT8",
      data: Int8Array.from([1, 127, -56]),
    });
  });

  it("round-trips every fixed-size datatype through ORT", async () => {
    const samples = IDENTITY_SAMPLES;
    const inputs = IDENTITY_DATATYPES.map((d) => ({
      name: `in_${d}`,
      datatype: d,
      shape: [2],
      data: samples[d],
    }));
    const res = await inferOn(engine, "identity-all", undefined, inputs);
    for (const d of IDENTITY_DATATYPES) {
      const out = byName(res.outputs, `out_${d}`);
      expect(out.datatype).toBe(d);
      expect(out.shape).toEqual([2]);
      expect(out.data.constructor).toBe(samples[d].constructor);
      expect([...(out.data as Iterable<unknown>)]).toEqual([...(samples[d] as Iterable<unknown>)]);
    }
  });

  it("serves metadata: versions per policy, batch dimension prepended, config and model merged", async () => {
    expect(await engine.metadata("add")).toEqual({
      name: "add",
      versions: ["1", "2"],
      platform: "onnxruntime_onnx",
      ...ADD_SIGNATURE,
    });
    // No inputs/outputs in config.json: read from the model.
    const meta = await engine.metadata("int64-ops");
    expect(meta.inputs).toEqual([{ name: "x", datatype: "INT64", shape: [-1, 3] }]);
    expect(meta.outputs).toEqual([
      { name: "doubled", datatype: "INT64", shape: [-1, 3] },
      { name: "is_pos", datatype: "BOOL", shape: [-1, 3] },
    ]);
    expect((await engine.metadata("bytes-identity")).inputs).toEqual([
      { name: "text", datatype: "BYTES", shape: [-1] },
    ]);
  });

  it("refuses a version that is absent or not allowed by the policy", async () => {
    await expect(engine.load("add", 7)).rejects.toThrow(new ModelNotFound("model 'add' has no version 7"));
    // specific [1, 2]: 3 exists on disk but is not served, and the default is the highest listed.
    await expect(engine.load("specific", 3)).rejects.toThrow("model 'specific' has no version 3");
    const res = await inferOn(engine, "specific", undefined, [fp32("x", [1], [10])]);
    expect(res.version).toBe(2);
    expect([...(byName(res.outputs, "y").data as Float32Array)]).toEqual([12]);
    expect((await engine.metadata("specific")).versions).toEqual(["1", "2"]);
  });

  it("refuses an unknown model with ModelNotFound", async () => {
    await expect(inferOn(engine, "nope", undefined, [])).rejects.toBeInstanceOf(ModelNotFound);
  });

  it("lists what it holds", async () => {
    await engine.load("add", 1);
    expect(engine.loaded()).toContainEqual({ model: "add", version: 1, state: "READY" });
    expect(engine.state("nope")).toBe("UNAVAILABLE");
    expect(engine.state("add", 42)).toBe("UNAVAILABLE");
  });
});

describe("ModelEngine with a configured live version (a model function's MODEL_VERSION)", () => {
  it("serves the live version as the default even where the version_policy leaves it out", async () => {
    // specific [1, 2] on disk 1..3: an older function version pinned to 3 (or a newer one during a
    // canary) must keep serving its own version whatever the policy lists.
    const live = new ModelEngine(openRepository(repo.dir), { liveVersions: new Map([["specific", 3]]) });
    try {
      const res = await inferOn(live, "specific", undefined, [fp32("x", [1], [10])]);
      expect(res.version).toBe(3);
      expect(res.outputs[0]?.data).toEqual(Float32Array.from([13]));
      expect((await inferOn(live, "specific", 1, [fp32("x", [1], [10])])).version).toBe(1);
      expect((await live.metadata("specific")).versions).toEqual(["1", "2", "3"]);
    } finally {
      await live.close();
    }
  });

  it("names a live version that is not in the repository", async () => {
    const live = new ModelEngine(openRepository(repo.dir), { liveVersions: new Map([["specific", 9]]) });
    try {
      await expect(live.load("specific")).rejects.toThrow(
        "model 'specific' live version 9 is not in the repository (available: 1, 2, 3)",
      );
    } finally {
      await live.close();
    }
  });
});
