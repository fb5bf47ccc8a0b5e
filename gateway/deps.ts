/**
 * Assembles the gateway's dependencies from its configuration for AWS: one remote backend per
 * MODEL_CATALOG entry, sharing one SDK client per service. No ONNX Runtime is imported here, so
 * the gateway's Lambda bundle stays free of it (local mode lives in gateway/runtime.ts).
 */

import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import type { Backend, Logger, ModelCatalog } from "../layers/transport";
import { silentLogger } from "../layers/transport";
import type { AppDeps } from "./app";
import { LambdaBackend } from "./backends/lambda";
import { SageMakerBackend } from "./backends/sagemaker";
import type { CatalogEntry, GatewayConfig, LogLevel } from "./config";

/** The SDK clients remote backends use; tests hand in clients aimed at local servers. */
export interface RemoteClients {
  lambda?: LambdaClient;
  sagemaker?: SageMakerRuntimeClient;
}

/** One backend per catalog entry; clients are created on first need from `config`. */
export function remoteCatalog(
  entries: Record<string, CatalogEntry>,
  config: Pick<GatewayConfig, "region" | "lambdaEndpoint" | "sagemakerEndpoint">,
  clients: RemoteClients = {},
): ModelCatalog {
  const region = config.region;
  let lambda = clients.lambda;
  let sagemaker = clients.sagemaker;
  const catalog = new Map<string, Backend>();
  for (const [model, entry] of Object.entries(entries)) {
    if (entry.backend === "lambda") {
      lambda ??= new LambdaClient({ region, endpoint: config.lambdaEndpoint });
      catalog.set(model, new LambdaBackend({ client: lambda, target: entry.target }));
    } else {
      sagemaker ??= new SageMakerRuntimeClient({ region, endpoint: config.sagemakerEndpoint });
      catalog.set(model, new SageMakerBackend({ client: sagemaker, target: entry.target }));
    }
  }
  return catalog;
}

/** The gateway's logger: structured JSON (Powertools), at LOG_LEVEL. */
export function gatewayLogger(level: LogLevel): Logger {
  if (level === "SILENT") return silentLogger;
  return new PowertoolsLogger({ serviceName: "edge-infer-gateway", logLevel: level });
}

/** Deps for the gateway on AWS; MODEL_CATALOG is required there. */
export function remoteDeps(config: GatewayConfig, logger: Logger = gatewayLogger(config.logLevel)): AppDeps {
  if (config.catalog === undefined) {
    throw new Error("MODEL_CATALOG: required when the gateway runs on AWS (local mode is `npm start`)");
  }
  return {
    catalog: remoteCatalog(config.catalog, config),
    logger,
    backendTimeoutMs: config.backendTimeoutMs,
  };
}
