/** Local mode's in-process models: BATCHING reaches the EngineBackend (real ORT, the demo ocr-cls); pipelines from file:// and s3://. */

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inProcessModels } from "../../../gateway/backends/in-process";
import { DEMO_REPOSITORY, readGatewayConfig } from "../../../gateway/config";
import { createRuntime, type Runtime } from "../../../gateway/runtime";
import { EngineBackend } from "../../../layers/backend";
import { inferenceWorkerOf } from "../../../layers/engine/worker-model";
import { PipelineBackend } from "../../../layers/pipeline";
import type { Tensor } from "../../../layers/protocol/types";
import { type ModelRepository, openRepository } from "../../../layers/repository";
import { demoRepository, s3Models } from "../../functions/model/fixtures";
import { EXPECTED, FIXTURES, imageInput, strings } from "../../layers/pipeline/support";
import { checkedInfer, unchecked } from "../../support/infer";

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

  it("serves the pipelines of an s3:// repository too: files, samples and steps read from S3", async () => {
    const models = await s3Models(undefined, undefined, demoRepository);
    const cacheDir = await mkdtemp(join(tmpdir(), "s3-cache-"));
    closers.push(
      () => models.close(),
      () => rm(cacheDir, { recursive: true, force: true }),
    );
    const repo = openRepository(models.uri, { s3Client: models.s3.client, cacheDir });
    const local = await inProcessModels(repo);
    closers.push(() => local.close());
    expect(local.models).toEqual(["ocr", "ocr-cls", "ocr-det", "ocr-rec"]);
    // Ready means its sample (ocr/1/samples/hello.json, in S3) ran and agreed.
    expect(await local.warm()).toEqual([]);
    const ocr = local.catalog.get("ocr") as PipelineBackend;
    expect(await ocr.ready("ocr", undefined)).toBe(true);
    const image = imageInput(await readFile(`${FIXTURES}lines.jpg`));
    const r = await checkedInfer(ocr, "ocr", { inputs: [image], outputs: [{ name: "text" }] });
    expect(strings(r.outputs[0])).toEqual(EXPECTED["lines.jpg"]);
  });

  it("leaves the pipelines of another kind of repository out, with a warning, and serves the rest", async () => {
    const demo = openRepository(DEMO_REPOSITORY);
    // A repository that is neither file:// nor s3://: its pipelines' files cannot be read.
    const other: ModelRepository = {
      uri: "memory://demo",
      listModels: async () => ["ocr", "ocr-cls"],
      readConfig: (m) => demo.readConfig(m),
      listVersions: (m) => demo.listVersions(m),
      fetchModel: (m, v) => demo.fetchModel(m, v),
    };
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
    const local = await inProcessModels(other, { logger });
    closers.push(() => local.close());
    expect(local.models).toEqual(["ocr-cls"]);
    expect(local.catalog.has("ocr")).toBe(false);
    expect(warnings).toEqual([
      [
        "pipelines are served from file:// and s3:// repositories only; not serving them",
        { pipelines: ["ocr"], repository: "memory://demo" },
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
