/**
 * Local mode: every model of a repository served by an engine in this process, through the same
 * EngineBackend the model function runs (minus the serialisation of the Lambda transport).
 */

import { EngineBackend, type ModelCatalog } from "../../layers/backend";
import { type InferenceThread, ModelEngine } from "../../layers/engine";
import type { EngineLogger } from "../../layers/engine/types";
import type { ModelRepository } from "../../layers/repository/types";
import type { Logger } from "../../layers/telemetry";

/** An in-process catalog and the handles to warm and stop it. */
export interface InProcessModels {
  catalog: ModelCatalog;
  backend: EngineBackend;
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
  /** Where ONNX Runtime runs (INFERENCE_THREAD). @default "main" */
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
  const backend = new EngineBackend(engine, { models, batching: options.batching ?? true });
  return {
    catalog: new Map(models.map((m) => [m, backend])),
    backend,
    models,
    async warm() {
      const results = await Promise.all(
        models.map(async (model) => {
          try {
            await backend.load(model);
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
