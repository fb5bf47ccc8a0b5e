/**
 * The model container over real ONNX Runtime: a GPU model whose CUDA provider is missing is not
 * ready (so `/ping` keeps SageMaker from shifting traffic to it) unless config.json allows CPU;
 * an ONNX Runtime run failure (issue 12's ocr-det repro) is a 400 that names the input, with ORT's
 * text only in the log under the request id, counted in the run metrics.
 */
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFunctionConfig } from "../../../functions/model/config";
import { createServerApp } from "../../../functions/model/server";
import { createModelService, type ModelService } from "../../../functions/model/service";
import { DEMO_REPOSITORY } from "../../../gateway/config";
import type { LogSink } from "../../../layers/telemetry";
import { addModel, hasCuda, makeTestRepository, modelConfig, writeModelDir } from "../../support/models";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
const services: ModelService[] = [];
const logs: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
const logger: LogSink = {
  debug: (message, fields = {}) => logs.push({ level: "debug", message, fields }),
  info: (message, fields = {}) => logs.push({ level: "info", message, fields }),
  warn: (message, fields = {}) => logs.push({ level: "warn", message, fields }),
  error: (message, fields = {}) => logs.push({ level: "error", message, fields }),
};
const emitted: string[] = [];

/** The container's service and app (inference in a worker thread, as main.ts runs it). */
function container(model: string, repository: string) {
  const config = readFunctionConfig({ MODEL_NAME: model, MODEL_REPOSITORY: repository, LOG_LEVEL: "SILENT" });
  const service = createModelService(config, logger, {
    inferenceThread: "worker",
    emit: (line) => emitted.push(line),
  });
  services.push(service);
  return { service, app: createServerApp(service) };
}

beforeAll(async () => {
  repo = await makeTestRepository();
  const gpu = (allow?: boolean) =>
    modelConfig("m", { max_batch_size: 8, execution_providers: ["cuda", "cpu"], allow_cpu_fallback: allow });
  await writeModelDir(repo.dir, "gpu-strict", { ...gpu(), name: "gpu-strict" }, { 1: addModel(0) });
  await writeModelDir(repo.dir, "gpu-fallback", { ...gpu(true), name: "gpu-fallback" }, { 1: addModel(0) });
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
  await repo?.cleanup();
});

describe.runIf(!hasCuda())("a GPU model on a host without CUDA", () => {
  it("is not ready and fails /ping, naming the provider in the log, by default", async () => {
    const { service, app } = container("gpu-strict", pathToFileURL(repo.dir).href);
    await expect(service.warm()).rejects.toThrow(
      "model 'gpu-strict' version 1 failed to load: the CUDA execution provider is not available (optimization.allow_cpu_fallback is false)",
    );
    const ping = await app.request("/ping");
    expect(ping.status).toBe(503);
    const infer = await app.request("/invocations", {
      method: "POST",
      body: JSON.stringify({ action: "metadata", model: "gpu-strict" }),
    });
    expect(infer.status).toBe(503);
    expect(await infer.json()).toMatchObject({ ok: false, kind: "model_not_ready" });
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: "error",
        message: "model 'gpu-strict' version 1: CUDA execution provider failed",
        fields: expect.objectContaining({ provider: "cuda" }),
      }),
    );
  });

  it("runs on CPU with a warning when optimization.allow_cpu_fallback is true, and /config shows it", async () => {
    const { service, app } = container("gpu-fallback", pathToFileURL(repo.dir).href);
    await service.warm();
    expect((await app.request("/ping")).status).toBe(200);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message:
          "model 'gpu-fallback' version 1: CUDA execution provider failed, using CPU (optimization.allow_cpu_fallback)",
      }),
    );
    const config = (await (await app.request("/v2/models/gpu-fallback/config")).json()) as {
      optimization: Record<string, unknown>;
    };
    expect(config.optimization).toMatchObject({
      execution_providers: ["cuda", "cpu"],
      allow_cpu_fallback: true,
    });
  });
});

describe("an ONNX Runtime run failure on a validated input", () => {
  it("ocr-det with x [1,3,33,1]: 400 naming the input, ORT's text only in the log, a failed run counted", async () => {
    const { service, app } = container("ocr-det", DEMO_REPOSITORY);
    await service.warm();
    const res = await app.request("/v2/models/ocr-det/infer", {
      method: "POST",
      body: JSON.stringify({
        inputs: [{ name: "x", shape: [1, 3, 33, 1], datatype: "FP32", data: new Array(99).fill(0) }],
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error:
        "model 'ocr-det' version 1 cannot run on input 'x' (shape [1,3,33,1]): the model rejects these sizes or values",
    });
    const refused = logs.find((l) => l.message === "request refused" && l.fields.status === 400);
    expect(refused?.level).toBe("info");
    expect(refused?.fields).toMatchObject({
      requestId: res.headers.get("x-request-id"),
      cause: expect.stringMatching(/onnxruntime::BroadcastIterator/),
    });
    service.metrics.flush();
    expect(emitted.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ model: "ocr-det", version: "1", model_runs: 1, model_run_failures: 1 }),
    );
  });
});
