/** Local mode's in-process models: BATCHING reaches the EngineBackend (real ORT, the demo ocr-cls). */

import { readFile } from "node:fs/promises";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { inProcessModels } from "../../../gateway/backends/in-process";
import { DEMO_REPOSITORY, readGatewayConfig } from "../../../gateway/config";
import { createRuntime, type Runtime } from "../../../gateway/runtime";
import { EngineBackend } from "../../../layers/backend";
import { inferenceWorkerOf } from "../../../layers/engine/worker-model";
import { PipelineBackend } from "../../../layers/pipeline";
import type { Tensor } from "../../../layers/protocol/types";
import { openRepository } from "../../../layers/repository";
import { unchecked } from "../../support/infer";
import { startS3rver } from "../../support/s3rver";

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

describe("pipelines in local mode", () => {
  it("serves the demo pipeline through a PipelineBackend, its steps through the engine", async () => {
    const local = await inProcessModels(openRepository(DEMO_REPOSITORY));
    closers.push(() => local.close());
    expect(local.models).toEqual(["ocr", "ocr-cls", "ocr-det", "ocr-rec"]);
    expect([...local.catalog.keys()]).toEqual(local.models);
    expect(local.catalog.get("ocr")).toBeInstanceOf(PipelineBackend);
    expect(local.catalog.get("ocr-det")).toBe(local.backend);
  });

  it("leaves the pipelines of an s3:// repository out, with a warning, and serves the rest", async () => {
    const s3 = await startS3rver(["repo"]);
    closers.push(() => s3.close());
    const put = async (key: string, file: string) =>
      s3.client.send(
        new PutObjectCommand({ Bucket: "repo", Key: `m/${key}`, Body: await readFile(new URL(file)) }),
      );
    await put("ocr/config.json", `${DEMO_REPOSITORY}/ocr/config.json`);
    await put("ocr-cls/config.json", `${DEMO_REPOSITORY}/ocr-cls/config.json`);
    const warnings: unknown[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (...a: unknown[]) => warnings.push(a),
      child() {
        return logger;
      },
    };
    const local = await inProcessModels(openRepository("s3://repo/m", { s3Client: s3.client }), { logger });
    closers.push(() => local.close());
    expect(local.models).toEqual(["ocr-cls"]);
    expect(local.catalog.has("ocr")).toBe(false);
    expect(warnings).toEqual([
      [
        "pipelines are served in local mode from a file:// repository only; not serving them",
        { pipelines: ["ocr"], repository: "s3://repo/m" },
      ],
    ]);
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
