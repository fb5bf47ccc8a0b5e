/**
 * The core of the model function, shared by the Lambda handler and the container server: one
 * engine over the repository, serving one model, its live version loaded once per instance.
 */
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { type InferenceThread, ModelEngine } from "../../layers/engine";
import { openRepository } from "../../layers/repository";
import { EngineBackend, type Logger, type ModelCatalog, silentLogger } from "../../layers/transport";
import { type FunctionConfig, readFunctionConfig } from "./config";

/** One model, served from an in-process engine. */
export interface ModelService {
  readonly config: FunctionConfig;
  readonly logger: Logger;
  readonly backend: EngineBackend;
  /** The one-model catalog the protocol routes serve. */
  readonly catalog: ModelCatalog;
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
}

/** Builds the service for `config`; nothing is loaded until `warm()` or the first request. */
export function createModelService(
  config: FunctionConfig,
  logger: Logger = functionLogger(config),
  options: ModelServiceOptions = {},
): ModelService {
  const repo = openRepository(config.modelRepository, {
    s3Endpoint: config.s3Endpoint,
    region: config.region,
    cacheDir: config.modelCacheDir,
    allowMissingChecksum: config.allowMissingChecksum,
    logger: (msg, fields) => logger.warn(msg, { ...fields }),
  });
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
  return {
    config,
    logger,
    backend,
    catalog: new Map([[model, backend]]),
    warm: async () => {
      await backend.load(model);
    },
    ready: () => backend.ready(model, undefined),
    close: () => backend.close(),
  };
}

/** Structured JSON logs (Powertools), tagged with the model. */
export function functionLogger(config: FunctionConfig): Logger {
  if (config.logLevel === "SILENT") return silentLogger;
  return new PowertoolsLogger({
    serviceName: "edge-infer-model",
    logLevel: config.logLevel,
    persistentKeys: { model: config.modelName },
  });
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
