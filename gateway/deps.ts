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
import type { Context, MiddlewareHandler } from "hono";
import type { Backend, ModelCatalog } from "../layers/backend";
import type { RepositoryControl } from "../layers/backend/repository-control";
import type { InferMiddleware } from "../layers/http";
import { responseCompressionMiddleware } from "../layers/http/compression";
import { deployedCatalog } from "../layers/http/repository-routes";
import { createLogger, EmfMetrics, fromPowertools, type Logger, silentLogger } from "../layers/telemetry";
import type { RequestMetrics } from "../layers/telemetry/metrics";
import { ModelStats } from "../layers/telemetry/model-stats";
import type { PrometheusMetrics } from "../layers/telemetry/prometheus";
import type { AppDeps } from "./app";
import { DynamoKeyStore, keyStoreClient } from "./auth/dynamo-store";
import { allowsModel } from "./auth/keys";
import { type AuthEnv, assertAdmin, authMiddleware, isPublicPath } from "./auth/middleware";
import { originVerifyMiddleware } from "./auth/origin";
import { CachedKeyStore, type KeyStore } from "./auth/store";
import { LambdaBackend } from "./backends/lambda";
import { SageMakerBackend } from "./backends/sagemaker";
import { type CacheDeps, cacheDynamoClientConfig, createResultCache } from "./cache/create";
import { registerCacheCounters } from "./cache/metrics";
import { resultCacheMiddleware } from "./cache/middleware";
import type { ResultCache } from "./cache/result-cache";
import type { CatalogEntry, GatewayConfig } from "./config";
import { CONSOLE_PUBLIC_PATHS, type ConsoleAssets } from "./console/assets";
import { LiveStats, liveMiddleware } from "./console/live";
import { type BodyReader, bodyLimitMiddleware } from "./limits/body-limit";
import { ConcurrencyLimiter } from "./limits/concurrency";
import { concurrencyMiddleware } from "./limits/infer-concurrency";
import { rateLimitMiddleware } from "./limits/rate-limit";
import { lambdaResponseLimitMiddleware } from "./limits/response-limit";
import { RateLimiter } from "./limits/token-bucket";
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
/** The `counters` field of statistics answered on Lambda. */
export const LAMBDA_STATS_SCOPE =
  "this gateway instance only, since it started; the fleet's totals are on the CloudWatch dashboard";

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
  /**
   * Served at GET /metrics with the result cache's counters (local mode: runtime.ts makes it, so
   * prom-client stays out of the Lambda bundle). @default none: on Lambda the metrics leave as EMF
   */
  prometheus?: PrometheusMetrics;
  /** The console's page and files; without them only its data routes are served. */
  consoleAssets?: ConsoleAssets;
  /** The client's connection signal (the node adapter's): a client that leaves aborts its backend work. */
  clientSignal?: AppDeps["clientSignal"];
  /** Loads and unloads the models (local mode's engine). @default the catalog, deployed: index only */
  repository?: RepositoryControl;
}

/** The assembled gateway: deps for createApp and the parts worth reaching from outside. */
export interface Gateway {
  deps: AppDeps;
  cache: ResultCache;
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
  // EMF on Lambda; else the /metrics registry if one is given (absent: requests are not counted).
  const sink = config.onLambda ? new EmfMetrics(config.metricsNamespace) : options.prometheus;
  // Triton's statistics extension counts the same requests, whichever sink (if any) records them.
  const stats = new ModelStats();
  const metrics = withStats(sink, stats);
  const live = new LiveStats(catalog);
  const clients: DynamoDBClient[] = [];
  let cacheClient = options.cache?.client;
  if (config.cache.table !== undefined && cacheClient === undefined) {
    cacheClient = new DynamoDBClient(cacheDynamoClientConfig(config.cache.endpoint, config.region));
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
    const client = keyStoreClient(auth.endpoint, config.region);
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
      ...(metrics === undefined ? {} : { metrics }),
      logger,
      catalog,
      ...(config.onLambda ? { emit: options.emit ?? stdoutEmit } : {}),
    }) as MiddlewareHandler,
    liveMiddleware(live) as MiddlewareHandler,
    // Inside telemetry, so an answer too large for Lambda is logged and counted as the 413 it becomes.
    ...(config.onLambda ? [lambdaResponseLimitMiddleware()] : []),
    // Inside the response limit, which then bounds what is sent: the compressed body.
    responseCompressionMiddleware(),
    // The rate limit counts per API key, so it has nothing to count without keys.
    ...(keys === undefined
      ? []
      : [
          authMiddleware({
            open: false,
            store: keys,
            // The console's page and files are public; its data calls carry the key like any client.
            isPublic: (path) => isPublicPath(path) || CONSOLE_PUBLIC_PATHS.has(path),
          }) as MiddlewareHandler,
          rateLimitMiddleware({ limiter: new RateLimiter() }),
        ]),
    // After auth: an anonymous client cannot make the gateway buffer a body.
    bodyLimitMiddleware(config.maxBodyBytes, options.readBody) as MiddlewareHandler,
  ];
  const limiter = new ConcurrencyLimiter(config.concurrency);
  const shadow = shadowMirror(config, options.prometheus, limiter, logger, options.emit ?? stdoutEmit);
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
    console: {
      catalog,
      live,
      ...(options.consoleAssets === undefined ? {} : { assets: options.consoleAssets }),
      // On Lambda each instance counts alone: the page says so and links the fleet's dashboard.
      scope: config.onLambda ? "instance" : "process",
      ...(config.onLambda ? { dashboardUrl: dashboardUrl(config.region) } : {}),
    },
    ...(options.clientSignal === undefined ? {} : { clientSignal: options.clientSignal }),
    repository: {
      control: options.repository ?? deployedCatalog(catalog),
      visible,
      // Loading and unloading change the server for every client: admin keys only, in keys mode.
      assertMayControl: assertAdmin,
    },
    statistics: {
      stats,
      // Keys mode: a key sees the statistics of the models it may use, no others.
      visible,
      // Each Lambda instance counts alone: say so, and where the fleet's numbers are.
      ...(config.onLambda ? { scope: LAMBDA_STATS_SCOPE } : {}),
    },
    shadowSummary: async (model) => {
      const backend = catalog.get(model);
      return backend && shadowSummary(shadow, backend, model, config.backendTimeoutMs);
    },
  };
  // Local mode only: on Lambda each instance counts for itself, and EMF carries the metrics.
  const prometheus = options.prometheus;
  if (!config.onLambda && prometheus !== undefined) {
    registerCacheCounters(prometheus, () => cache.stats());
    deps.metricsEndpoint = {
      contentType: prometheus.contentType,
      render: () => prometheus.renderPrometheus(),
    };
  }
  const notices = [auth.mode === "open" ? auth.warning : auth.message];
  return {
    deps,
    cache,
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

/** Keys mode: a request sees (statistics, repository index) the models its key may use, no others. */
function visible(c: Context, model: string): boolean {
  const key = (c as Context<AuthEnv>).get("apiKey");
  return key === undefined || allowsModel(key, model);
}

/** The CloudWatch dashboards of the region (the stack's dashboard is listed there). */
function dashboardUrl(region: string | undefined): string {
  const r = encodeURIComponent(region ?? "us-east-1");
  return `https://${r}.console.aws.amazon.com/cloudwatch/home?region=${r}#dashboards:`;
}

/** The gateway on AWS: MODEL_CATALOG names the backends. */
export function remoteGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  if (config.catalog === undefined) {
    throw new Error("MODEL_CATALOG: required when the gateway runs on AWS (local mode is `npm start`)");
  }
  return gatewayDeps(config, remoteCatalog(config.catalog, config), options);
}

/** `sink` (EMF, Prometheus or none) with every recorded request also counted in `stats`. */
function withStats(sink: RequestMetrics | undefined, stats: ModelStats): RequestMetrics {
  return {
    recordRequest: (o) => {
      stats.record(o);
      sink?.recordRequest(o);
    },
    cacheHit: (model) => sink?.cacheHit(model),
    cacheMiss: (model) => sink?.cacheMiss(model),
    flush: () => sink?.flush?.() ?? [],
  };
}
