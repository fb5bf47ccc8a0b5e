import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelEngine } from "../../../layers/engine/engine";
import type { EngineOptions } from "../../../layers/engine/types";
import { inferenceWorkerOf } from "../../../layers/engine/worker-model";
import { inferenceWorkerCount } from "../../../layers/engine/worker-thread";
import { InvalidInput, ModelNotReady } from "../../../layers/errors";
import type { Tensor } from "../../../layers/protocol/types";
import { openRepository } from "../../../layers/repository";
import { writeLoadEdgeModels } from "../../support/engine-fixtures";
import { inferOn } from "../../support/infer";
import { buildModel, hasCuda, makeTestRepository, modelConfig, writeModelDir } from "../../support/models";
import { fp32, values } from "../../support/tensors";

let repo: { dir: string; cleanup(): Promise<void> };
const logs: Array<{ level: string; msg: string }> = [];
const engines: ModelEngine[] = [];
let worker: ModelEngine;

function newEngine(options: EngineOptions = {}, dir = repo.dir): ModelEngine {
  const engine = new ModelEngine(openRepository(dir), {
    inferenceThread: "worker",
    logger: (level, msg) => logs.push({ level, msg }),
    ...options,
  });
  engines.push(engine);
  return engine;
}

/** y = x·x on FP32 [n, n]: a run long enough (n = 1024, one thread) to still be in flight. */
const squareModel = (): Uint8Array =>
  buildModel({
    inputs: [{ name: "x", datatype: "FP32", dims: ["n", "n"] }],
    outputs: [{ name: "y", datatype: "FP32", dims: ["n", "n"] }],
    nodes: [{ op: "MatMul", inputs: ["x", "x"], outputs: ["y"] }],
  });
const N = 1024;
/** The identity matrix (scaled by `k`): x·x = k²·I, checkable without a reference. */
const square = (k: number): Tensor => {
  const data = new Float32Array(N * N);
  for (let i = 0; i < N; i++) data[i * N + i] = k;
  return { name: "x", datatype: "FP32", shape: [N, N], data };
};
const isScaledIdentity = (t: Tensor | undefined, k2: number): boolean => {
  const d = t?.data as Float32Array;
  for (let i = 0; i < N * N; i++) if (d[i] !== (i % (N + 1) === 0 ? k2 : 0)) return false;
  return true;
};

beforeAll(async () => {
  repo = await makeTestRepository();
  await writeModelDir(repo.dir, "square", modelConfig("square"), { 1: squareModel() });
  await writeLoadEdgeModels(repo.dir);
  worker = newEngine();
});
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
  await repo.cleanup();
});

describe("inferenceThread 'worker' lifecycle and errors", () => {
  it("maps a refused input and ORT's run error as the main thread does", async () => {
    const bad: Tensor = {
      name: "text",
      datatype: "BYTES",
      shape: [1],
      data: [Uint8Array.from([0xff, 0xfe])],
    };
    const err = await inferOn(worker, "bytes-identity", undefined, [bad]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as Error).message).toBe(
      "input 'text' element 0 is not UTF-8 text, which ONNX string tensors require",
    );

    const cold = { warmup: false };
    const [m, w] = [newEngine({ ...cold, inferenceThread: "main" }), newEngine(cold)];
    const x = fp32("x", [3], [1, 2, 3]);
    const here = (await inferOn(m, "reshape", undefined, [x]).catch((e: unknown) => e)) as Error;
    const there = (await inferOn(w, "reshape", undefined, [x]).catch((e: unknown) => e)) as Error;
    expect(there).toBeInstanceOf(InvalidInput);
    expect(there.message).toBe(
      "model 'reshape' version 1 cannot run on input 'x' (shape [3]): the model rejects these sizes or values",
    );
    expect(String(there.cause)).toMatch(/reshape/i);
    expect(there.message).toBe(here.message);
    expect(
      values((await inferOn(w, "reshape", undefined, [fp32("x", [4], [1, 2, 3, 4])])).outputs[0]),
    ).toEqual([1, 2, 3, 4]);
  });

  it("fails a warm-up in the worker with the main thread's message", async () => {
    const here = (await newEngine({ inferenceThread: "main" })
      .load("reshape")
      .catch((e: unknown) => e)) as Error;
    const there = (await newEngine()
      .load("reshape")
      .catch((e: unknown) => e)) as Error;
    expect(there).toBeInstanceOf(ModelNotReady);
    expect(there.message).toMatch(
      /^model 'reshape' version 1 failed to load: the warm-up run failed: .*reshape/i,
    );
    expect(there.message).toBe(here.message);
  });

  it("reports a garbage model file as ModelNotReady and leaves no worker behind", async () => {
    const before = inferenceWorkerCount();
    const engine = newEngine();
    const err = await engine.load("broken").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotReady);
    expect((err as Error).message).toBe(
      "model 'broken' version 1 failed to load: ONNX Runtime cannot open the file (not a valid or supported ONNX model)",
    );
    expect(engine.state("broken")).toBe("FAILED");
    await expect.poll(() => inferenceWorkerCount()).toBe(before);
  });

  it("forwards the worker's logs: the CUDA → CPU fallback", async () => {
    const res = await inferOn(newEngine(), "gpu-add", undefined, [
      fp32("a", [1, 4], [1, 2, 3, 4]),
      fp32("b", [1, 4], [1, 1, 1, 1]),
    ]);
    expect(values(res.outputs[0])).toEqual([2, 3, 4, 5]);
    if (!hasCuda()) {
      expect(logs).toContainEqual({
        level: "warn",
        msg: "model 'gpu-add' version 1: CUDA execution provider failed, using CPU (optimization.allow_cpu_fallback)",
      });
    }
  });

  it.runIf(!hasCuda())("fails a GPU model without CUDA in the worker, naming the provider", async () => {
    const err = await newEngine()
      .load("gpu-only")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotReady);
    expect((err as Error).message).toBe(
      "model 'gpu-only' version 1 failed to load: the CUDA execution provider is not available (optimization.allow_cpu_fallback is false)",
    );
    expect(String((err as Error).cause)).toMatch(/cuda/i);
  });

  it("unloads after the run in flight: it finishes, later runs are refused, the worker exits", async () => {
    const engine = newEngine();
    const model = await engine.load("square");
    const before = inferenceWorkerCount();
    const inFlight = model.run([square(2)]);
    const unloaded = engine.unload("square", 1);
    expect(engine.state("square", 1)).toBe("UNAVAILABLE");
    await expect(model.run([square(1)])).rejects.toThrow(
      new ModelNotReady("model 'square' version 1 is unloaded"),
    );
    expect(isScaledIdentity((await inFlight)[0], 4)).toBe(true);
    await unloaded;
    expect(inferenceWorkerCount()).toBe(before - 1);
  });

  it("fails the runs of a killed worker with ModelNotReady, marks the version FAILED, reloads it", async () => {
    const engine = newEngine({ retryFailedAfterMs: 0 });
    const model = await engine.load("square");
    const thread = inferenceWorkerOf(model);
    if (thread === undefined) throw new Error("no worker");
    // Killed while idle: terminating a thread inside a native ORT run aborts the whole process (a
    // Napi::Error thrown with nowhere to go), so the in-flight case is the uncaught-error test below.
    await thread.terminate();
    const err = await model.run([square(1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotReady);
    expect((err as Error).message).toBe(
      "model 'square' version 1 is not available: its inference worker stopped",
    );
    expect(engine.state("square", 1)).toBe("FAILED");
    expect(logs).toContainEqual({
      level: "error",
      msg: "model 'square' version 1: the inference worker stopped unexpectedly",
    });
    await expect(model.run([square(1)])).rejects.toBeInstanceOf(ModelNotReady);
    const res = await inferOn(engine, "square", undefined, [square(3)]);
    expect(isScaledIdentity(res.outputs[0], 9)).toBe(true);
    expect(engine.state("square", 1)).toBe("READY");
  });

  it("treats an uncaught error in the worker as a crash, and answers from memory until the retry delay", async () => {
    const engine = newEngine({ retryFailedAfterMs: 60_000 });
    const model = await engine.load("bool-not");
    // The worker throws on a message it does not know: an uncaught error ends the thread.
    inferenceWorkerOf(model)?.postMessage({ type: "no-such-message" });
    const run = model.run([{ name: "x", datatype: "BOOL", shape: [1], data: Uint8Array.from([1]) }]);
    await expect(run).rejects.toThrow(
      new ModelNotReady("model 'bool-not' version 1 is not available: its inference worker stopped"),
    );
    expect(engine.state("bool-not")).toBe("FAILED");
    await expect(engine.load("bool-not")).rejects.toBeInstanceOf(ModelNotReady);
  });

  it("close() ends every worker, after the runs in flight", async () => {
    const engine = newEngine();
    const model = await engine.load("square");
    await engine.load("add", 1);
    expect(inferenceWorkerCount()).toBeGreaterThanOrEqual(2);
    const inFlight = model.run([square(1)]);
    await engine.close();
    expect(isScaledIdentity((await inFlight)[0], 1)).toBe(true);
    await Promise.all(engines.filter((e) => e !== engine).map((e) => e.close()));
    expect(inferenceWorkerCount()).toBe(0);
  });
});
