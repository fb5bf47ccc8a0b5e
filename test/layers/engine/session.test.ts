/** ORT session options: config.json's optimization block, plus the entries every session gets. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSession, fixedInputShapes, ortOptions, SESSION_CONFIG } from "../../../layers/engine/session";
import { addModel } from "../../support/models";
import { cpuOptions } from "../../support/session-options";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-infer-session-"));
  await writeFile(join(dir, "add.onnx"), addModel(2));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("ortOptions", () => {
  it("turns spinning off for both thread pools of every session", () => {
    const options = ortOptions(cpuOptions(), ["cpu"]);
    expect(options.extra).toEqual({
      session: { "intra_op.allow_spinning": "0", "inter_op.allow_spinning": "0" },
    });
    expect(SESSION_CONFIG).toEqual({ "intra_op.allow_spinning": "0", "inter_op.allow_spinning": "0" });
    expect(options.intraOpNumThreads).toBeUndefined();
    expect(options.enableCpuMemArena).toBe(false);
  });

  it("turns ORT's CPU memory arena on where the config asks for it", () => {
    expect(ortOptions(cpuOptions({ enable_mem_arena: true }), ["cpu"]).enableCpuMemArena).toBe(true);
    expect(ortOptions(cpuOptions({ enable_mem_arena: false }), ["cpu"]).enableCpuMemArena).toBe(false);
  });

  it("maps thread counts and the optimisation level", () => {
    const options = ortOptions(
      cpuOptions({ graph_optimization_level: "basic", intra_op_threads: 2, inter_op_threads: 1 }),
      ["cpu"],
    );
    expect(options).toMatchObject({
      graphOptimizationLevel: "basic",
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      executionProviders: ["cpu"],
    });
  });
});

describe("memory pattern", () => {
  const cpu = cpuOptions();
  it("is on only for a model whose config fixes every input shape (the batch dimension aside)", () => {
    const fixed = { inputs: [{ name: "x", datatype: "FP32" as const, shape: [3, 48, 192] }] };
    const free = { inputs: [{ name: "x", datatype: "FP32" as const, shape: [3, -1, -1] }] };
    expect(fixedInputShapes(fixed)).toBe(true);
    expect(fixedInputShapes(free)).toBe(false);
    expect(fixedInputShapes({})).toBe(false);
    expect(fixedInputShapes({ inputs: [...fixed.inputs, ...free.inputs] })).toBe(false);
    expect(ortOptions(cpu, ["cpu"], true)).toMatchObject({
      enableMemPattern: true,
      enableCpuMemArena: false,
    });
    expect(ortOptions(cpu, ["cpu"])).toMatchObject({ enableMemPattern: false, enableCpuMemArena: false });
  });
});

describe("createSession", () => {
  it.each([false, true])(
    "creates a session ORT accepts with those entries, and it runs (arena %s)",
    async (arena) => {
      const log = () => undefined;
      const session = await createSession(
        join(dir, "add.onnx"),
        cpuOptions({ intra_op_threads: 2, enable_mem_arena: arena }),
        log,
        { model: "add", version: 1 },
      );
      try {
        const a = new ort.Tensor("float32", Float32Array.from([1, 2, 3, 4]), [1, 4]);
        const b = new ort.Tensor("float32", Float32Array.from([10, 20, 30, 40]), [1, 4]);
        const out = await session.run({ a, b });
        // sum = a + b + 2 (the model's offset), diff = a - b
        expect(Array.from(out.sum?.data as Float32Array)).toEqual([13, 24, 35, 46]);
        expect(Array.from(out.diff?.data as Float32Array)).toEqual([-9, -18, -27, -36]);
      } finally {
        await session.release();
      }
    },
  );
});
