/**
 * Local mode (`npm start`): every model of MODEL_REPOSITORY served in-process, or, when
 * MODEL_CATALOG is set, the AWS backends it names. Imports ONNX Runtime: never bundled for Lambda.
 */
import { openRepository } from "../layers/repository";
import type { Logger } from "../layers/transport";
import type { AppDeps } from "./app";
import { inProcessModels } from "./backends/in-process";
import type { GatewayConfig } from "./config";
import { gatewayLogger, remoteCatalog } from "./deps";

/** Deps plus what the node adapter needs to start and stop them. */
export interface Runtime {
  deps: AppDeps;
  /** "local (in-process)" or "aws (MODEL_CATALOG)". */
  mode: string;
  models: string[];
  /** Loads every model (local mode); resolves with the models that failed to load. */
  warm(): Promise<Array<{ model: string; error: string }>>;
  close(): Promise<void>;
}

/** Builds the runtime for `config`: in-process models unless MODEL_CATALOG names remote ones. */
export async function createRuntime(
  config: GatewayConfig,
  logger: Logger = gatewayLogger(config.logLevel),
): Promise<Runtime> {
  const base = { logger, backendTimeoutMs: config.backendTimeoutMs };
  if (config.catalog !== undefined) {
    return {
      deps: { ...base, catalog: remoteCatalog(config.catalog, config) },
      mode: "aws (MODEL_CATALOG)",
      models: Object.keys(config.catalog),
      warm: async () => [],
      close: async () => undefined,
    };
  }
  const repo = openRepository(config.modelRepository, {
    s3Endpoint: config.s3Endpoint,
    region: config.region,
    cacheDir: config.modelCacheDir,
    logger: (msg, fields) => logger.warn(msg, { ...fields }),
  });
  const local = await inProcessModels(repo, logger);
  return {
    deps: { ...base, catalog: local.catalog },
    mode: "local (in-process)",
    models: local.models,
    warm: () => local.warm(),
    close: () => local.close(),
  };
}
