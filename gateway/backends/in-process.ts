/**
 * Local mode: every model of a repository served by an engine in this process, through the same
 * EngineBackend the model function runs (minus the serialisation of the Lambda transport).
 */
import { type InferenceThread, ModelEngine } from "../../layers/engine";
import type { EngineLogger } from "../../layers/engine/types";
import { directoryFiles, PipelineBackend } from "../../layers/pipeline";
import { FileRepository } from "../../layers/repository";
import type { ModelRepository } from "../../layers/repository/types";
import { type Backend, EngineBackend, type Logger, type ModelCatalog } from "../../layers/transport";

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
  // Pipelines (platform "ensemble") run in their own backend and call their steps through the catalog.
  const platforms = await Promise.all(
    models.map((m) =>
      repo.readConfig(m).then(
        (c) => c.platform,
        () => "",
      ),
    ),
  );
  const pipelines = models.filter((_, i) => platforms[i] === "ensemble");
  const onnx = models.filter((_, i) => platforms[i] !== "ensemble");
  const backend = new EngineBackend(engine, { models: onnx, batching: options.batching ?? true });
  const catalog = new Map<string, Backend>(models.map((m) => [m, backend]));
  if (pipelines.length > 0) {
    if (!(repo instanceof FileRepository)) {
      throw new Error(
        `pipelines (${pipelines.join(", ")}) are served in local mode from a file:// repository only`,
      );
    }
    const pipelineBackend = new PipelineBackend({
      models: pipelines,
      readConfig: (m) => repo.readConfig(m),
      files: directoryFiles(repo.root),
      stepBackend: (m) => catalog.get(m),
      ...(logger === undefined ? {} : { logger }),
    });
    for (const p of pipelines) catalog.set(p, pipelineBackend);
  }
  return {
    catalog,
    backend,
    models,
    async warm() {
      const results = await Promise.all(
        models.map(async (model) => {
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
