/** Local mode's in-process models: BATCHING reaches the EngineBackend (real ORT, the demo ocr-cls). */

import { afterEach, describe, expect, it } from "vitest";
import { inProcessModels } from "../../../gateway/backends/in-process";
import { DEMO_REPOSITORY, readGatewayConfig } from "../../../gateway/config";
import { createRuntime, type Runtime } from "../../../gateway/runtime";
import { EngineBackend } from "../../../layers/backend";
import { inferenceWorkerOf } from "../../../layers/engine/worker-model";
import type { Tensor } from "../../../layers/protocol/types";
import { openRepository } from "../../../layers/repository";
import { unchecked } from "../../support/infer";

const input = (): Tensor => ({
  name: "x",
  datatype: "FP32",
  shape: [1, 3, 48, 192],
  data: new Float32Array(3 * 48 * 192),
});

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe("inProcessModels", () => {
  it.each([
    [true, "queues ocr-cls in its batcher (config.json enables dynamic_batching)"],
    [false, "runs each request on its own"],
  ])("batching %s: %s", async (batching) => {
    const local = await inProcessModels(openRepository(DEMO_REPOSITORY), { batching });
    closers.push(() => local.close());
    const result = await local.backend.infer("ocr-cls", undefined, unchecked({ inputs: [input()] }));
    expect(result.outputs[0]?.shape).toEqual([1, 2]);
    // Only a batched request reports time spent queueing, and only then is a batcher created.
    expect(result.timing?.queueMs !== undefined).toBe(batching);
    expect(local.backend.batcherStats("ocr-cls", 1) !== undefined).toBe(batching);
  });
});

describe("createRuntime", () => {
  it("hands BATCHING=off to the local backend", async () => {
    const runtime: Runtime = await createRuntime(readGatewayConfig({ BATCHING: "off", LOG_LEVEL: "SILENT" }));
    closers.push(() => runtime.close());
    const backend = runtime.deps.catalog.get("ocr-cls");
    expect(backend).toBeInstanceOf(EngineBackend);
    const result = await backend?.infer("ocr-cls", undefined, unchecked({ inputs: [input()] }));
    expect(result?.timing?.queueMs).toBeUndefined();
    expect((backend as EngineBackend).batcherStats("ocr-cls", 1)).toBeUndefined();
  });

  it("hands INFERENCE_THREAD=worker to the engine: inference runs on a worker thread", async () => {
    const runtime: Runtime = await createRuntime(
      readGatewayConfig({ INFERENCE_THREAD: "worker", LOG_LEVEL: "SILENT" }),
    );
    closers.push(() => runtime.close());
    const backend = runtime.deps.catalog.get("ocr-cls") as EngineBackend;
    const result = await backend.infer("ocr-cls", undefined, unchecked({ inputs: [input()] }));
    expect(result.outputs[0]?.shape).toEqual([1, 2]);
    expect(inferenceWorkerOf(await backend.engine.load("ocr-cls"))).toBeDefined();
  });
});
