/**
 * The core of the model function, shared by the Lambda handler and the container server: one
 * engine over the repository, serving one model, its live version loaded once per instance.
 */
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { type Backend, EngineBackend, type ModelCatalog } from "../../layers/backend";
import { openConfiguredRepository } from "../../layers/config/repository";
import { type InferenceThread, ModelEngine } from "../../layers/engine";
import { fromPowertools, type LogSink, silentLogger } from "../../layers/telemetry";
import { type FunctionConfig, readFunctionConfig } from "./config";
import { meteredBackend, RunMetrics } from "./run-metrics";

/** One model, served from an in-process engine. */
export interface ModelService {
  readonly config: FunctionConfig;
  readonly logger: LogSink;
  readonly backend: EngineBackend;
  /** What requests go through: `backend`, each run counted in `metrics`. */
  readonly served: Backend;
  /** The one-model catalog the protocol routes serve (over `served`). */
  readonly catalog: ModelCatalog;
  /** Runs per version; flushed as EMF lines by the handler (Lambda) or on a timer (container). */
  readonly metrics: RunMetrics;
  /** Loads and warms the live version; the engine shares one load, and retries a failed one on a later call. */
  warm(): Promise<void>;
  /** True once the live version is loaded and warmed up. */
  ready(): Promise<boolean>;
  /** Unloads the model. */
  close(): Promise<void>;
}

/** Options of createModelService. */
export interface ModelServiceOptions {
  /**
   * Honour the model's `dynamic_batching`. The container server (many requests at once) wants it;
   * a Lambda instance serves one request at a time, where a batcher only adds its queue delay.
   * @default true
   */
  batching?: boolean;
  /** Where ONNX Runtime runs: `worker` overlaps HTTP work and inference (container). @default "main" */
  inferenceThread?: InferenceThread;
  /** Where the run metrics' EMF lines go. @default stdout */
  emit?: (line: string) => void;
}

/** Builds the service for `config`; nothing is loaded until `warm()` or the first request. */
export function createModelService(
  config: FunctionConfig,
  logger: LogSink = functionLogger(config),
  options: ModelServiceOptions = {},
): ModelService {
  const repo = openConfiguredRepository(config, logger);
  const { modelName: model, modelVersion } = config;
  const liveVersions = modelVersion === undefined ? undefined : new Map([[model, modelVersion]]);
  const engine = new ModelEngine(repo, {
    logger: (level, msg, fields) => logger[level](msg, fields ?? {}),
    liveVersions,
    inferenceThread: options.inferenceThread ?? "main",
  });
  const backend = new EngineBackend(engine, {
    models: [model],
    liveVersions,
    batching: options.batching ?? true,
  });
  const metrics = new RunMetrics(config.metricsNamespace, model, options.emit);
  const served = meteredBackend(backend, metrics);
  return {
    config,
    logger,
    backend,
    served,
    catalog: new Map([[model, served]]),
    metrics,
    warm: async () => {
      await backend.load(model);
    },
    ready: () => backend.ready(model, undefined),
    close: () => backend.close(),
  };
}

/** Structured JSON logs (Powertools), tagged with the model. */
export function functionLogger(config: FunctionConfig): LogSink {
  if (config.logLevel === "SILENT") return silentLogger;
  return fromPowertools(
    new PowertoolsLogger({
      serviceName: "edge-infer-model",
      logLevel: config.logLevel,
      persistentKeys: { model: config.modelName },
    }),
  );
}

let instance: ModelService | undefined;

/** The instance's service, built on first call from the environment (read once) and `options`. */
export function modelService(options: ModelServiceOptions = {}): ModelService {
  if (instance === undefined) {
    const config = readFunctionConfig();
    instance = createModelService(config, functionLogger(config), options);
  }
  return instance;
}
