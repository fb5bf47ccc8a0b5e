/**
 * Assembles the gateway from its configuration: the catalog's backends (remote ones here; local
 * mode's in-process ones in runtime.ts), then what the public edge puts around them: origin check,
 * telemetry, API keys, rate and body limits, JSON limits, the result cache and per-model concurrency.
 * No ONNX Runtime is imported here, so the gateway's Lambda bundle stays free of it.
 */
import { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import type { MiddlewareHandler } from "hono";
import type { Backend, ModelCatalog } from "../layers/backend";
import type { InferMiddleware } from "../layers/http";
import {
  createLogger,
  fromPowertools,
  type Logger,
  Metrics,
  PROMETHEUS_CONTENT_TYPE,
  silentLogger,
} from "../layers/telemetry";
import type { AppDeps } from "./app";
import { DynamoKeyStore, keyStoreClient } from "./auth/dynamo-store";
import { authMiddleware } from "./auth/middleware";
import { originVerifyMiddleware } from "./auth/origin";
import { CachedKeyStore, type KeyStore } from "./auth/store";
import { LambdaBackend } from "./backends/lambda";
import { SageMakerBackend } from "./backends/sagemaker";
import { type CacheDeps, cacheDynamoClientConfig, createResultCache } from "./cache/create";
import { resultCacheMiddleware } from "./cache/middleware";
import type { ResultCache } from "./cache/result-cache";
import type { CatalogEntry, GatewayConfig } from "./config";
import { type BodyReader, bodyLimitMiddleware } from "./limits/body-limit";
import { ConcurrencyLimiter } from "./limits/concurrency";
import { concurrencyMiddleware } from "./limits/infer-concurrency";
import { rateLimitMiddleware } from "./limits/rate-limit";
import { lambdaResponseLimitMiddleware } from "./limits/response-limit";
import { RateLimiter } from "./limits/token-bucket";
import { cacheCountersText } from "./metrics-text";
import { type ShadowMirror, shadowMirror, shadowSummary } from "./shadow/wiring";
import { telemetryMiddleware } from "./telemetry";

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

/** The gateway's logger: JSON lines at LOG_LEVEL; Powertools' Logger on Lambda. */
export function gatewayLogger(config: Pick<GatewayConfig, "logLevel" | "onLambda" | "serviceName">): Logger {
  if (config.logLevel === "SILENT") return silentLogger;
  if (config.onLambda) {
    return fromPowertools(
      new PowertoolsLogger({ serviceName: config.serviceName, logLevel: config.logLevel }),
    );
  }
  const level = config.logLevel.toLowerCase() as "debug" | "info" | "warn" | "error";
  return createLogger({ service: config.serviceName, level });
}

/** What gatewayDeps may be handed besides the config (tests: clocks, counters). */
export interface GatewayOptions {
  logger?: Logger;
  /** Clock, breaker and client overrides of the result cache. */
  cache?: Omit<CacheDeps, "logger">;
  /** Where EMF lines go on Lambda. @default one line each on stdout */
  emit?: (lines: string[]) => void;
  /** Reads request bodies from the server's own request object (the node adapter's); @default web streams */
  readBody?: BodyReader;
}

/** The assembled gateway: deps for createApp and the parts worth reaching from outside. */
export interface Gateway {
  deps: AppDeps;
  cache: ResultCache;
  metrics: Metrics;
  /** Mirrors sampled requests to each model's shadow version (summary, idle()). */
  shadow: ShadowMirror;
  /** The key store in keys mode. */
  keys: KeyStore | undefined;
  /** Lines to print at start (the auth mode, loudly when open). */
  notices: string[];
  /** Waits for background cache writes and releases SDK clients. */
  close(): Promise<void>;
}

/** Writes EMF documents where CloudWatch Logs parses them: raw stdout lines, no console prefix. */
const stdoutEmit = (lines: string[]) => {
  for (const line of lines) process.stdout.write(`${line}\n`);
};

/** Everything around `catalog` that the configuration asks for. */
export function gatewayDeps(
  config: GatewayConfig,
  catalog: ModelCatalog,
  options: GatewayOptions = {},
): Gateway {
  const logger = options.logger ?? gatewayLogger(config);
  const metrics = new Metrics({ emf: config.onLambda, namespace: config.metricsNamespace });
  const clients: DynamoDBClient[] = [];
  let cacheClient = options.cache?.client;
  if (config.cache.table !== undefined && cacheClient === undefined) {
    cacheClient = new DynamoDBClient(cacheDynamoClientConfig(config.cache.endpoint));
    clients.push(cacheClient);
  }
  const cache = createResultCache(config.cache, {
    ...options.cache,
    ...(cacheClient === undefined ? {} : { client: cacheClient }),
    logger,
  });

  let keys: KeyStore | undefined;
  const { auth } = config;
  if (auth.mode === "keys") {
    // Credentials are the SDK's business (its default chain); only a local endpoint gets fixed ones.
    const client = keyStoreClient({
      DYNAMODB_ENDPOINT: auth.endpoint,
      AWS_REGION: config.region,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
    });
    clients.push(client);
    keys = new CachedKeyStore(new DynamoKeyStore(client, auth.table), {
      ttlMs: config.keyCacheTtlMs,
      negativeTtlMs: Math.min(5_000, config.keyCacheTtlMs),
    });
  }

  // Open mode (local) has no origin secret and no keys: those middleware would only pass every
  // request on, so they are left out of the chain rather than run as no-ops on every request.
  const middleware: MiddlewareHandler[] = [
    // First: a request that did not come through CloudFront learns nothing else about the gateway.
    ...(config.originVerifySecret === undefined ? [] : [originVerifyMiddleware(config.originVerifySecret)]),
    telemetryMiddleware({
      metrics,
      logger,
      catalog,
      ...(config.onLambda ? { emit: options.emit ?? stdoutEmit } : {}),
    }) as MiddlewareHandler,
    // Inside telemetry, so an answer too large for Lambda is logged and counted as the 413 it becomes.
    ...(config.onLambda ? [lambdaResponseLimitMiddleware()] : []),
    // The rate limit counts per API key, so it has nothing to count without keys.
    ...(keys === undefined
      ? []
      : [
          authMiddleware({ open: false, store: keys }) as MiddlewareHandler,
          rateLimitMiddleware({ limiter: new RateLimiter() }),
        ]),
    // After auth: an anonymous client cannot make the gateway buffer a body.
    bodyLimitMiddleware(config.maxBodyBytes, options.readBody) as MiddlewareHandler,
  ];
  const limiter = new ConcurrencyLimiter(config.concurrency);
  const shadow = shadowMirror(config, metrics, limiter, logger);
  const inferMiddleware: InferMiddleware[] = [
    // Outermost: a hit takes no concurrency slot, and identical requests share one (single flight).
    resultCacheMiddleware(cache, { logger }),
    // Inside the cache (a hit is not shadowed), outside the limit (a mirror takes no client slot).
    shadow.middleware(),
    concurrencyMiddleware(limiter),
  ];
  const deps: AppDeps = {
    catalog,
    logger,
    backendTimeoutMs: config.backendTimeoutMs,
    middleware,
    inferMiddleware,
    jsonLimits: config.jsonLimits,
    shadowSummary: (model) => shadowSummary(shadow, model),
  };
  // Local mode only: on Lambda each instance counts for itself, and EMF carries the metrics.
  if (!config.onLambda) {
    deps.metricsEndpoint = {
      contentType: PROMETHEUS_CONTENT_TYPE,
      render: () => metrics.renderPrometheus() + cacheCountersText(cache.stats()),
    };
  }
  const notices = [auth.mode === "open" ? auth.warning : auth.message];
  return {
    deps,
    cache,
    metrics,
    keys,
    notices,
    shadow,
    async close() {
      await shadow.idle();
      await cache.flush();
      for (const c of clients) c.destroy();
    },
  };
}

/** The gateway on AWS: MODEL_CATALOG names the backends. */
export function remoteGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  if (config.catalog === undefined) {
    throw new Error("MODEL_CATALOG: required when the gateway runs on AWS (local mode is `npm start`)");
  }
  return gatewayDeps(config, remoteCatalog(config.catalog, config), options);
}
