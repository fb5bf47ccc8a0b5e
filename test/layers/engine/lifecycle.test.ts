import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelEngine } from "../../../layers/engine/engine";
import { ModelRunFailed } from "../../../layers/engine/run-errors";
import type { EngineLogger, EngineOptions } from "../../../layers/engine/types";
import { InvalidInput, ModelNotReady } from "../../../layers/errors";
import type { Tensor } from "../../../layers/protocol/types";
import { openRepository } from "../../../layers/repository";
import type { ModelConfig, ModelRepository } from "../../../layers/repository/types";
import { writeLoadEdgeModels } from "../../support/engine-fixtures";
import { inferOn } from "../../support/infer";
import {
  addModel,
  buildModel,
  hasCuda,
  makeTestRepository,
  modelConfig,
  offsetModel,
  writeModelDir,
} from "../../support/models";

/** A real repository that counts model fetches (one per session created). */
class CountingRepository implements ModelRepository {
  fetches = 0;
  constructor(private readonly inner: ModelRepository) {}
  get uri(): string {
    return this.inner.uri;
  }
  listModels(): Promise<string[]> {
    return this.inner.listModels();
  }
  readConfig(model: string): Promise<ModelConfig> {
    return this.inner.readConfig(model);
  }
  listVersions(model: string): Promise<number[]> {
    return this.inner.listVersions(model);
  }
  fetchModel(model: string, version: number): Promise<string> {
    this.fetches++;
    return this.inner.fetchModel(model, version);
  }
}

let repo: { dir: string; cleanup(): Promise<void> };
const logs: Array<{ level: string; msg: string }> = [];
const logger: EngineLogger = (level, msg) => logs.push({ level, msg });
const engines: ModelEngine[] = [];

function newEngine(options: EngineOptions = {}): { engine: ModelEngine; counting: CountingRepository } {
  const counting = new CountingRepository(openRepository(repo.dir));
  const engine = new ModelEngine(counting, { logger, ...options });
  engines.push(engine);
  return { engine, counting };
}

const x = (values: number[]): Tensor => ({
  name: "x",
  datatype: "FP32",
  shape: [values.length],
  data: Float32Array.from(values),
});
const addInputs = (): Tensor[] => [
  { name: "a", datatype: "FP32", shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) },
  { name: "b", datatype: "FP32", shape: [1, 4], data: Float32Array.from([1, 1, 1, 1]) },
];
const values = (t: Tensor | undefined): number[] => [...((t?.data ?? []) as Float32Array)];

beforeAll(async () => {
  repo = await makeTestRepository();
  const addIo = (name: string, shape: number[], datatype: "FP32" | "INT32" = "FP32") => ({
    name,
    datatype,
    shape,
  });
  const add = { 1: addModel(0) };
  await writeModelDir(
    repo.dir,
    "bad-name",
    modelConfig("bad-name", { max_batch_size: 8, inputs: [addIo("q", [4])] }),
    add,
  );
  await writeModelDir(
    repo.dir,
    "bad-dtype",
    modelConfig("bad-dtype", { max_batch_size: 8, inputs: [addIo("a", [4], "INT32")] }),
    add,
  );
  await writeModelDir(
    repo.dir,
    "bad-rank",
    modelConfig("bad-rank", { max_batch_size: 8, inputs: [addIo("b", [2, 2])] }),
    add,
  );
  await writeModelDir(
    repo.dir,
    "bad-dim",
    modelConfig("bad-dim", { max_batch_size: 8, outputs: [addIo("sum", [5])] }),
    add,
  );
  await writeModelDir(repo.dir, "no-batch-dim", modelConfig("no-batch-dim", { max_batch_size: 4 }), {
    1: buildModel({
      inputs: [{ name: "x", datatype: "FP32", dims: [3] }],
      outputs: [{ name: "y", datatype: "FP32", dims: [3] }],
      nodes: [{ op: "Identity", inputs: ["x"], outputs: ["y"] }],
    }),
  });
  await writeModelDir(
    repo.dir,
    "narrowed",
    modelConfig("narrowed", { inputs: [{ name: "x", datatype: "FP32", shape: [3] }] }),
    {
      1: buildModel({
        inputs: [{ name: "x", datatype: "FP32", dims: ["n"] }],
        outputs: [{ name: "y", datatype: "FP32", dims: ["n"] }],
        nodes: [{ op: "Neg", inputs: ["x"], outputs: ["y"] }],
      }),
    },
  );
  await writeLoadEdgeModels(repo.dir);
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
  await repo.cleanup();
});

describe("ModelEngine lifecycle", () => {
  it("shares one load (one session) between concurrent calls", async () => {
    const { engine, counting } = newEngine();
    const all = await Promise.all(Array.from({ length: 6 }, () => engine.load("add", 2)));
    expect(counting.fetches).toBe(1);
    for (const m of all) expect(m).toBe(all[0]);
    await inferOn(engine, "add", undefined, addInputs());
    expect(counting.fetches).toBe(1);
  });

  it("marks a model READY only after its warm-up run", async () => {
    const seen: string[] = [];
    const engine = new ModelEngine(openRepository(repo.dir), {
      logger: (_level, msg) => {
        if (msg.endsWith("warmed up")) seen.push(`warmed up while ${engine.state("bool-not", 1)}`);
        if (msg.endsWith("is ready")) seen.push(`ready while ${engine.state("bool-not", 1)}`);
      },
    });
    engines.push(engine);
    const loading = engine.load("bool-not");
    expect(engine.isReady("bool-not", 1)).toBe(false);
    await loading;
    expect(seen).toEqual(["warmed up while LOADING", "ready while READY"]);
    expect(engine.state("bool-not")).toBe("READY");
  });

  it("fails the load when the warm-up run fails; without warm-up the same model loads", async () => {
    const { engine } = newEngine();
    const err = await engine.load("reshape").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotReady);
    expect((err as Error).message).toMatch(
      /^model 'reshape' version 1 failed to load: the warm-up run failed: .*reshape/i,
    );
    expect((err as Error).message).not.toContain("/onnxruntime_src");
    expect(engine.state("reshape", 1)).toBe("FAILED");

    const { engine: cold } = newEngine({ warmup: false });
    const res = await inferOn(cold, "reshape", undefined, [x([1, 2, 3, 4])]);
    expect(res.outputs[0]?.shape).toEqual([2, 2]);
    expect(values(res.outputs[0])).toEqual([1, 2, 3, 4]);
    // ORT's refusal is the client's 400 naming the input; ORT's own text stays in the cause.
    const refused = await inferOn(cold, "reshape", undefined, [x([1, 2, 3])]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ModelRunFailed);
    expect(refused).toBeInstanceOf(InvalidInput);
    expect((refused as Error).message).toBe(
      "model 'reshape' version 1 cannot run on input 'x' (shape [3]): the model rejects these sizes or values",
    );
    expect(String((refused as Error).cause)).toMatch(/reshape/i);
  });

  it("reports a garbage model file as ModelNotReady and keeps serving the others", async () => {
    const { engine } = newEngine();
    const err = await engine.load("broken").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotReady);
    expect((err as Error).message).toBe(
      "model 'broken' version 1 failed to load: ONNX Runtime cannot open the file (not a valid or supported ONNX model)",
    );
    expect(engine.state("broken")).toBe("FAILED");
    expect(engine.loaded()).toContainEqual({ model: "broken", version: 1, state: "FAILED" });
    expect(
      logs.some((l) => l.level === "error" && l.msg.startsWith("model 'broken' version 1 failed to load")),
    ).toBe(true);
    const res = await inferOn(engine, "add", 1, addInputs());
    expect(values(res.outputs[0])).toEqual([2, 3, 4, 5]);
  });

  it("answers a recent failure from memory, then retries once the delay has passed", async () => {
    await writeModelDir(repo.dir, "flaky", modelConfig("flaky"), { 1: new TextEncoder().encode("garbage") });
    const { engine: patient, counting: c1 } = newEngine({ retryFailedAfterMs: 60_000 });
    await expect(patient.load("flaky")).rejects.toBeInstanceOf(ModelNotReady);
    await expect(patient.load("flaky")).rejects.toBeInstanceOf(ModelNotReady);
    expect(c1.fetches).toBe(1);

    const { engine, counting } = newEngine({ retryFailedAfterMs: 0 });
    await expect(engine.load("flaky")).rejects.toBeInstanceOf(ModelNotReady);
    await writeModelDir(repo.dir, "flaky", modelConfig("flaky"), { 1: offsetModel(1) });
    const res = await inferOn(engine, "flaky", undefined, [x([1, 2])]);
    expect(values(res.outputs[0])).toEqual([2, 3]);
    expect(counting.fetches).toBe(2);
    expect(engine.state("flaky")).toBe("READY");
  });

  it.each([
    ["bad-name", "config.json input 'q' is not an input of the model (the model's inputs: a, b)"],
    ["bad-dtype", "config.json input 'a' has datatype INT32, the model has FP32"],
    [
      "bad-rank",
      "config.json input 'b' has shape [2,2] (rank 3 with the batch dimension), the model has [-1,4] (rank 2)",
    ],
    [
      "bad-dim",
      "config.json output 'sum' has shape [5]: dimension 1 of [-1,5] is 5, the model's is 4 (model shape [-1,4])",
    ],
    [
      "no-batch-dim",
      "model input 'x' has shape [3] with no free first (batch) dimension, but max_batch_size is 4: set max_batch_size to 0",
    ],
  ])("rejects %s: a config.json that contradicts the model", async (model, reason) => {
    const { engine } = newEngine();
    await expect(engine.load(model)).rejects.toThrow(
      new ModelNotReady(`model '${model}' version 1 failed to load: ${reason}`),
    );
    expect(engine.state(model)).toBe("FAILED");
  });

  it("lets config.json fix a free dimension of the model", async () => {
    const { engine } = newEngine();
    expect((await engine.metadata("narrowed")).inputs).toEqual([{ name: "x", datatype: "FP32", shape: [3] }]);
    expect((await engine.metadata("narrowed")).outputs).toEqual([
      { name: "y", datatype: "FP32", shape: [-1] },
    ]);
    expect(values((await inferOn(engine, "narrowed", undefined, [x([1, -2, 3])])).outputs[0])).toEqual([
      -1, 2, -3,
    ]);
    await expect(inferOn(engine, "narrowed", undefined, [x([1, 2])])).rejects.toThrow(
      "input 'x' has shape [2]: dimension 0 is 2, expected 3 (shape [3])",
    );
  });

  it("falls back from CUDA to CPU with a warning naming the model, where config.json allows it", async () => {
    const { engine } = newEngine();
    const res = await inferOn(engine, "gpu-add", undefined, addInputs());
    expect(values(res.outputs[0])).toEqual([2, 3, 4, 5]);
    if (!hasCuda()) {
      expect(logs).toContainEqual({
        level: "warn",
        msg: "model 'gpu-add' version 1: CUDA execution provider failed, using CPU (optimization.allow_cpu_fallback)",
      });
    }
  });

  it.runIf(!hasCuda())(
    "leaves a GPU model not ready without CUDA unless CPU fallback is allowed",
    async () => {
      const { engine } = newEngine();
      const err = await engine.load("gpu-only").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelNotReady);
      expect((err as Error).message).toBe(
        "model 'gpu-only' version 1 failed to load: the CUDA execution provider is not available (optimization.allow_cpu_fallback is false)",
      );
      expect(engine.state("gpu-only")).toBe("FAILED");
      expect(logs).toContainEqual({
        level: "error",
        msg: "model 'gpu-only' version 1: CUDA execution provider failed",
      });
    },
  );

  it("keeps at most 2 versions for policy `all` by default, evicting the least recently used non-default", async () => {
    const { engine } = newEngine();
    expect((await inferOn(engine, "pinned", undefined, [x([0])])).version).toBe(3);
    expect(values((await inferOn(engine, "pinned", 1, [x([0])])).outputs[0])).toEqual([1]);
    expect(values((await inferOn(engine, "pinned", 2, [x([0])])).outputs[0])).toEqual([2]);
    const held = () =>
      engine
        .loaded()
        .filter((e) => e.model === "pinned")
        .map((e) => `${e.version}:${e.state}`)
        .sort();
    expect(held()).toEqual(["2:READY", "3:READY"]);
    expect(engine.state("pinned", 1)).toBe("UNAVAILABLE");
    // Version 1 loads again on demand and 2 goes: 3, the default, stays.
    expect(values((await inferOn(engine, "pinned", 1, [x([5])])).outputs[0])).toEqual([6]);
    expect(held()).toEqual(["1:READY", "3:READY"]);
  });

  it("honours maxVersionsPerModel", async () => {
    const { engine } = newEngine({ maxVersionsPerModel: 3 });
    for (const v of [3, 1, 2]) await engine.load("pinned", v);
    expect([1, 2, 3].map((v) => engine.state("pinned", v))).toEqual(["READY", "READY", "READY"]);
  });

  it("unloads a version: runs in flight finish, later runs on it are refused, a new request reloads", async () => {
    const { engine, counting } = newEngine();
    const model = await engine.load("add", 1);
    const inFlight = model.run(addInputs());
    await engine.unload("add", 1);
    expect(values((await inFlight)[0])).toEqual([2, 3, 4, 5]);
    expect(engine.state("add", 1)).toBe("UNAVAILABLE");
    await expect(model.run(addInputs())).rejects.toThrow(
      new ModelNotReady("model 'add' version 1 is unloaded"),
    );
    expect((await inferOn(engine, "add", 1, addInputs())).version).toBe(1);
    expect(counting.fetches).toBe(2);
  });

  it("refresh picks up a new version and unloads the one the policy no longer serves", async () => {
    await writeModelDir(repo.dir, "growing", modelConfig("growing"), { 1: offsetModel(1) });
    const { engine } = newEngine();
    expect((await inferOn(engine, "growing", undefined, [x([0])])).version).toBe(1);
    await writeModelDir(repo.dir, "growing", modelConfig("growing"), { 2: offsetModel(2) });
    // Until refreshed, the engine keeps serving what it read (no repository I/O on the hot path).
    expect((await inferOn(engine, "growing", undefined, [x([0])])).version).toBe(1);
    await engine.refresh("growing");
    expect(engine.state("growing", 1)).toBe("UNAVAILABLE");
    const res = await inferOn(engine, "growing", undefined, [x([0])]);
    expect(res.version).toBe(2);
    expect(values(res.outputs[0])).toEqual([2]);
    await expect(engine.load("growing", 1)).rejects.toThrow("model 'growing' has no version 1");
  });

  it("a reload that reads an edited config.json opens the version again with it; an unchanged one keeps it", async () => {
    const edited = (fields: Record<string, unknown>) =>
      writeModelDir(
        repo.dir,
        "edited",
        { ...modelConfig("edited", { max_batch_size: 8 }), ...fields },
        {
          1: addModel(0),
        },
      );
    await edited({});
    const { engine, counting } = newEngine();
    const before = await engine.load("edited");
    expect(before.config.dynamic_batching.enabled).toBe(false);
    // Nothing changed: the same session, no fetch.
    const fetches = counting.fetches;
    expect(await engine.reload("edited")).toBe(before);
    expect(counting.fetches).toBe(fetches);
    // Batching switched on in config.json, then a load (Triton's): served with it from then on.
    await edited({ dynamic_batching: { enabled: true, preferred_batch_size: [2] } });
    const after = await engine.reload("edited");
    expect(after).not.toBe(before);
    expect(after.config.dynamic_batching).toMatchObject({ enabled: true, preferred_batch_size: [2] });
    expect(await engine.load("edited")).toBe(after);
    expect(values((await after.run(addInputs()))[0])).toEqual([2, 3, 4, 5]);
    expect(logs.map((l) => l.msg)).toContain(
      "reopening model 'edited' version 1 on thread 'main' (0 workers): its config.json changed",
    );
    // A role field alone (live_version; shadow likewise) opens nothing again: placement follows roles.
    await edited({ dynamic_batching: { enabled: true, preferred_batch_size: [2] }, live_version: 1 });
    expect(await engine.reload("edited")).toBe(after);
    // The old session is released once its runs are done.
    await expect(before.run(addInputs())).rejects.toThrow(
      new ModelNotReady("model 'edited' version 1 is unloaded"),
    );
  });

  it("refuses work once closed", async () => {
    const { engine } = newEngine();
    await engine.load("add");
    await engine.close();
    expect(engine.loaded()).toEqual([]);
    await expect(engine.load("add")).rejects.toThrow(new ModelNotReady("the inference engine is shut down"));
  });
});
