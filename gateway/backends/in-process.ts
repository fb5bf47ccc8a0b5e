/**
 * Local mode: every model of a repository served by an engine in this process, through the same
 * EngineBackend the model function runs (minus the serialisation of the Lambda transport).
 */

import type { Backend } from "../../layers/backend";
import { EngineBackend, type ModelCatalog } from "../../layers/backend";
import { EngineControl } from "../../layers/backend/repository-control";
import { type InferenceThread, ModelEngine } from "../../layers/engine";
import type { EngineLogger } from "../../layers/engine/types";
import type { PipelineBackend } from "../../layers/pipeline";
import type { ModelRepository } from "../../layers/repository/types";
import type { Logger } from "../../layers/telemetry";
import { addPipelines, splitPipelines } from "./pipelines";

/** An in-process catalog and the handles to warm and stop it. */
export interface InProcessModels {
  catalog: ModelCatalog;
  backend: EngineBackend;
  /** The repository extension: load, unload, and models added to the repository after start. */
  control: EngineControl;
  models: string[];
  /** Loads and warms the live version of every model; resolves with the ones that failed, and why. */
  warm(): Promise<Array<{ model: string; error: string }>>;
  close(): Promise<void>;
}

/** Options of inProcessModels. */
export interface InProcessOptions {
  logger?: Logger;
  /** Honour each model's `dynamic_batching` (BATCHING); false runs every request on its own. @default true */
  batching?: boolean;
  /** Where ONNX Runtime runs (INFERENCE_THREAD). @default "main" (the gateway's INFERENCE_THREAD defaults to auto) */
  inferenceThread?: InferenceThread;
}

/** Serves every model of `repo` in-process. */
export async function inProcessModels(
  repo: ModelRepository,
  options: InProcessOptions = {},
): Promise<InProcessModels> {
  const { logger } = options;
  const models = await repo.listModels();
  const engineLogger: EngineLogger | undefined =
    logger === undefined ? undefined : (level, msg, fields) => logger[level](msg, fields ?? {});
  const engine = new ModelEngine(repo, {
    ...(engineLogger === undefined ? {} : { logger: engineLogger }),
    inferenceThread: options.inferenceThread ?? "main",
  });
  const { pipelines, onnx } = await splitPipelines(repo, models);
  const backend = new EngineBackend(engine, { models: onnx, batching: options.batching ?? true });
  const backends = new Map<string, Backend>(onnx.map((m) => [m, backend]));
  const served = [...onnx, ...addPipelines(backends, repo, pipelines, logger)].sort();
  // The catalog lists models in the repository's order, pipelines among them.
  const catalog = new Map(served.map((m) => [m, backends.get(m) as Backend]));
  return {
    catalog,
    backend,
    control: new EngineControl({
      repo,
      engine: backend,
      catalog,
      ...(logger === undefined ? {} : { logger }),
    }),
    models: served,
    async warm() {
      const results = await Promise.all(
        served.map(async (model) => {
          try {
            await (catalog.get(model) as EngineBackend | PipelineBackend).load(model);
            return undefined;
          } catch (e) {
            return { model, error: e instanceof Error ? e.message : String(e) };
          }
        }),
      );
      return results.filter((r) => r !== undefined);
    },
    close: () => backend.close(),
  };
}
