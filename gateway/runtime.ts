/**
 * Local mode (`npm start`): every model of MODEL_REPOSITORY served in-process, or, when
 * MODEL_CATALOG is set, the AWS backends it names; the same edge (gatewayDeps) around either.
 * Imports ONNX Runtime: never bundled for Lambda.
 */
import { openConfiguredRepository } from "../layers/config/repository";
import { PrometheusMetrics } from "../layers/telemetry/prometheus";
import type { AppDeps } from "./app";
import { inProcessModels } from "./backends/in-process";
import type { GatewayConfig } from "./config";
import { buildConsoleAssets } from "./console/build";
import { type Gateway, type GatewayOptions, gatewayDeps, gatewayLogger, remoteGateway } from "./deps";

/** Deps plus what the node adapter needs to start and stop them. */
export interface Runtime {
  deps: AppDeps;
  gateway: Gateway;
  /** "local (in-process)" or "aws (MODEL_CATALOG)". */
  mode: string;
  models: string[];
  /** Loads every model (local mode); resolves with the models that failed to load. */
  warm(): Promise<Array<{ model: string; error: string }>>;
  close(): Promise<void>;
}

/** Builds the runtime for `config`: in-process models unless MODEL_CATALOG names remote ones. */
export async function createRuntime(config: GatewayConfig, options: GatewayOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? gatewayLogger(config);
  options = { consoleAssets: buildConsoleAssets(), ...options };
  // Only here (and in the model container) is prom-client imported: /metrics is a local-mode page.
  const prometheus = options.prometheus ?? new PrometheusMetrics();
  if (config.catalog !== undefined) {
    const gateway = remoteGateway(config, { ...options, logger, prometheus });
    return {
      deps: gateway.deps,
      gateway,
      mode: "aws (MODEL_CATALOG)",
      models: Object.keys(config.catalog),
      warm: async () => [],
      close: () => gateway.close(),
    };
  }
  const repo = openConfiguredRepository(config, logger);
  const local = await inProcessModels(repo, {
    logger,
    batching: config.batching,
    inferenceThread: config.inferenceThread,
  }).catch((e: unknown) => {
    // A start-up message for the operator: say which repository, and why.
    const cause =
      e instanceof Error && e.cause instanceof Error ? ` (${e.cause.name}: ${e.cause.message})` : "";
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`MODEL_REPOSITORY ${config.modelRepository}: ${why}${cause}`, { cause: e });
  });
  if (local.models.length === 0) {
    await local.close();
    // A server with nothing to serve would print a ready line whose example cannot work.
    throw new Error(
      `MODEL_REPOSITORY ${config.modelRepository}: no models found (each model is a folder <name>/ with config.json and <version>/model.onnx; skipped folders are logged above)`,
    );
  }
  const gateway = gatewayDeps(config, local.catalog, {
    ...options,
    logger,
    prometheus,
    repository: local.control,
  });
  return {
    deps: gateway.deps,
    gateway,
    mode: "local (in-process)",
    models: local.models,
    warm: () => local.warm(),
    close: async () => {
      await gateway.close();
      await local.close();
    },
  };
}
