/**
 * What one model function serves: MODEL_NAME and nothing else. An ONNX model runs on the engine; a
 * pipeline (`platform: "ensemble"`) runs its steps in this process, its step models on the same
 * engine, so the image is decoded once and no tensor crosses Lambda's 6 MB payload between steps.
 * The step models are not served by this function: each is addressed through its own.
 */
import type { Backend, EngineBackend, InferResult, ModelDescription } from "../../layers/backend";
import { ModelNotFound, ModelNotReady } from "../../layers/errors";
import { PipelineBackend, repositoryFiles } from "../../layers/pipeline";
import { quote } from "../../layers/protocol/quote";
import type { ModelRepository } from "../../layers/repository";
import type { LogSink } from "../../layers/telemetry";

/** A backend that can load and warm a model version ahead of requests. */
type Loading = Backend & { load(model: string, version?: number): Promise<unknown> };

/** Options of ServedModel. */
export interface ServedModelOptions {
  /** MODEL_NAME. */
  model: string;
  repo: ModelRepository;
  /** The engine: runs the model itself, or a pipeline's step models. */
  engine: EngineBackend;
  /** MODEL_VERSION, by model name (empty: the highest version the policy serves). */
  liveVersions: ReadonlyMap<string, number>;
  logger: LogSink;
}

/** The function's one model, on the engine or as a pipeline over it (decided by its config.json). */
export class ServedModel implements Backend {
  private kind: Promise<Loading> | undefined;

  constructor(private readonly options: ServedModelOptions) {}

  /** Loads and warms a version of MODEL_NAME (the live one by default); a pipeline runs its first sample. */
  async load(model: string, version?: number): Promise<void> {
    await (await this.of(model)).load(model, version);
  }

  /** Metadata and config of a version of MODEL_NAME. */
  async describe(...[model, version, signal]: Parameters<Backend["describe"]>): Promise<ModelDescription> {
    return (await this.of(model)).describe(model, version, signal);
  }

  /** True once the version is loaded and warmed up (a pipeline: its first sample agreed). */
  async ready(...[model, version, signal]: Parameters<Backend["ready"]>): Promise<boolean> {
    return (await this.of(model)).ready(model, version, signal);
  }

  /** Runs a validated request on MODEL_NAME. */
  async infer(...[model, version, request, signal]: Parameters<Backend["infer"]>): Promise<InferResult> {
    return (await this.of(model)).infer(model, version, request, signal);
  }

  /** The backend of MODEL_NAME, decided once from its config.json (a failed read is tried again). */
  private of(model: string): Promise<Loading> {
    if (model !== this.options.model)
      return Promise.reject(new ModelNotFound(`unknown model ${quote(model)}`));
    if (this.kind === undefined) {
      this.kind = this.decide();
      this.kind.catch(() => {
        this.kind = undefined;
      });
    }
    return this.kind;
  }

  private async decide(): Promise<Loading> {
    const { model, repo, engine, liveVersions, logger } = this.options;
    const config = await repo.readConfig(model);
    if (config.platform !== "ensemble") return engine;
    const files = repositoryFiles(repo);
    if (files === undefined)
      throw new ModelNotReady(`pipeline ${quote(model)}: its repository cannot hold files`);
    return new PipelineBackend({
      models: [model],
      readConfig: (m) => repo.readConfig(m),
      files,
      liveVersions,
      // Steps pinned to a version load it; -1 takes the highest version the step model's policy serves.
      stepBackend: (m) => (m === model ? undefined : engine),
      logger,
    });
  }
}
