/**
 * The gateway's configuration: read from the environment once, typed, validated. A bad value
 * fails the start with a message naming the variable.
 */
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  type Env,
  envText,
  integer,
  type LogLevel,
  logLevel,
  oneOf,
  onOff,
  url,
} from "../layers/config/env";
import { readServerLimits, type ServerLimits } from "../layers/config/server-limits";
import type { InferenceThread } from "../layers/engine";
import { isValidModelName } from "../layers/repository/names";
import { readShadow, type ShadowConfig } from "../layers/repository/shadow";
import { type AuthMode, authMode } from "./auth/mode";
import type { CacheConfig } from "./cache/create";
import { DEFAULT_MAX_BODY_BYTES } from "./limits/body-limit";
import { DEFAULT_JSON_LIMITS, type JsonLimits } from "./limits/json-limits";

const INFERENCE_THREADS: readonly InferenceThread[] = ["auto", "main", "worker"];

/** Where one model is served when the gateway runs against AWS. */
export type CatalogEntry = (
  | { backend: "lambda"; target: string }
  | { backend: "sagemaker"; target: string }
) & {
  /** The catalog line's `shadow`: on AWS it wins over config.json's. */
  shadow?: ShadowConfig;
};

/** The gateway's settings. */
export interface GatewayConfig {
  /** PORT, default 8080 (0: any free port). */
  port: number;
  /** HOST, default 127.0.0.1. */
  host: string;
  /** MODEL_REPOSITORY (local mode): file:// or s3:// URI, default the demo models in functions/models. */
  modelRepository: string;
  /** MODEL_CACHE_DIR: local cache of s3:// model files. */
  modelCacheDir: string | undefined;
  /** ALLOW_MISSING_CHECKSUM, default off: serve an s3:// version that has no model.onnx.sha256. */
  allowMissingChecksum: boolean;
  /** MODEL_CATALOG: model → remote backend; undefined = local mode (every repository model in-process). */
  catalog: Record<string, CatalogEntry> | undefined;
  /** BACKEND_TIMEOUT_MS, default 30000. */
  backendTimeoutMs: number;
  /** HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, HTTP_KEEP_ALIVE_TIMEOUT_MS, HTTP_IDLE_TIMEOUT_MS, HTTP_MAX_CONNECTIONS (`npm start`). */
  server: ServerLimits;
  /** AWS_REGION. */
  region: string | undefined;
  /** S3_ENDPOINT: an S3-compatible endpoint (tests: s3rver). */
  s3Endpoint: string | undefined;
  /** SHADOW_FUNCTION: on Lambda, the shadow comparison function sampled requests are handed to (infra sets it). */
  shadowFunction: string | undefined;
  /** LAMBDA_ENDPOINT: a Lambda-compatible endpoint (tests). */
  lambdaEndpoint: string | undefined;
  /** SAGEMAKER_RUNTIME_ENDPOINT: a SageMaker-runtime-compatible endpoint (tests). */
  sagemakerEndpoint: string | undefined;
  /** LOG_LEVEL: DEBUG, INFO (default), WARN, ERROR, SILENT. */
  logLevel: LogLevel;
  /** AWS_LAMBDA_FUNCTION_NAME is set: the gateway runs on Lambda (EMF metrics, Powertools logs, no /metrics). */
  onLambda: boolean;
  /** API_KEYS_TABLE (+ DYNAMODB_ENDPOINT, HOST): keys mode, or open mode on loopback only. */
  auth: AuthMode;
  /** API_KEY_CACHE_TTL_MS, default 30000: how long a key lookup is reused (a revoked key works this long). */
  keyCacheTtlMs: number;
  /** ORIGIN_VERIFY_SECRET: the secret CloudFront adds as `x-origin-verify`; unset: no origin check. */
  originVerifySecret: string | undefined;
  /** CACHE_TABLE, DYNAMODB_ENDPOINT, CACHE_L1_BYTES, CACHE_TIMEOUT_MS. */
  cache: CacheConfig;
  /** MAX_BODY_BYTES, default 4620288 (≈4.4 MiB): base64 of it still fits Lambda's 6 MiB payload. */
  maxBodyBytes: number;
  /** MAX_JSON_DEPTH (default 32), MAX_JSON_ELEMENTS (default 16777216). */
  jsonLimits: JsonLimits;
  /** MODEL_MAX_CONCURRENCY (default 32), MODEL_MAX_QUEUE (default 128), MODEL_QUEUE_TIMEOUT_MS (default 5000). */
  concurrency: { maxInFlight: number; maxQueued: number; queueTimeoutMs: number };
  /**
   * BATCHING, on (default) or off: local mode honours each model's `dynamic_batching`; off runs every
   * request on its own (no queue delay at low load).
   */
  batching: boolean;
  /**
   * INFERENCE_THREAD, auto (default), main or worker: where local mode runs ONNX Runtime. `worker`
   * gives each model version its own thread, so HTTP work and inference overlap (more throughput
   * under concurrency, a thread hop more per lone request); `auto` opens both and runs a request
   * here when the version is idle, in the worker when another run is in flight.
   */
  inferenceThread: InferenceThread;
  /** POWERTOOLS_SERVICE_NAME, default edge-infer-gateway: `service` of every log line. */
  serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE, default EdgeInfer: the EMF namespace on Lambda. */
  metricsNamespace: string;
}

export { ConfigError, type LogLevel };

/** The demo repository next to this file (source checkouts only: a bundle has no functions/models). */
export const DEMO_REPOSITORY = `file://${fileURLToPath(new URL("../functions/models", import.meta.url))}`;

/** Reads and validates the gateway's variables; throws ConfigError naming the first bad one. */
export function readGatewayConfig(env: Env = process.env): GatewayConfig {
  const text = envText(env);
  const int = (name: string, fallback: number, min: number, max: number) =>
    integer(name, text(name), fallback, min, max);
  const onLambda = text("AWS_LAMBDA_FUNCTION_NAME") !== undefined;
  const dynamodbEndpoint = url("DYNAMODB_ENDPOINT", text("DYNAMODB_ENDPOINT"));
  const backendTimeoutMs = integer("BACKEND_TIMEOUT_MS", text("BACKEND_TIMEOUT_MS"), 30_000, 1, 900_000);
  return {
    port: integer("PORT", text("PORT"), 8080, 0, 65_535),
    host: text("HOST") ?? "127.0.0.1",
    modelRepository: text("MODEL_REPOSITORY") ?? DEMO_REPOSITORY,
    modelCacheDir: text("MODEL_CACHE_DIR"),
    allowMissingChecksum: onOff("ALLOW_MISSING_CHECKSUM", text("ALLOW_MISSING_CHECKSUM"), false),
    catalog: parseCatalog(text("MODEL_CATALOG")),
    backendTimeoutMs,
    server: readServerLimits(env, backendTimeoutMs),
    region: text("AWS_REGION"),
    s3Endpoint: url("S3_ENDPOINT", text("S3_ENDPOINT")),
    lambdaEndpoint: url("LAMBDA_ENDPOINT", text("LAMBDA_ENDPOINT")),
    shadowFunction: text("SHADOW_FUNCTION"),
    sagemakerEndpoint: url("SAGEMAKER_RUNTIME_ENDPOINT", text("SAGEMAKER_RUNTIME_ENDPOINT")),
    logLevel: logLevel(text("LOG_LEVEL")),
    onLambda,
    // authMode names API_KEYS_TABLE when open mode would be reachable from outside.
    auth: authMode({
      API_KEYS_TABLE: text("API_KEYS_TABLE"),
      DYNAMODB_ENDPOINT: dynamodbEndpoint,
      HOST: text("HOST"),
      AWS_LAMBDA_FUNCTION_NAME: text("AWS_LAMBDA_FUNCTION_NAME"),
    }),
    keyCacheTtlMs: int("API_KEY_CACHE_TTL_MS", 30_000, 0, 3_600_000),
    originVerifySecret: originSecret(env.ORIGIN_VERIFY_SECRET),
    cache: {
      table: text("CACHE_TABLE"),
      endpoint: dynamodbEndpoint,
      l1Bytes: int("CACHE_L1_BYTES", 64 * 1024 * 1024, 0, 2 ** 40),
      timeoutMs: int("CACHE_TIMEOUT_MS", 50, 1, 60_000),
    },
    // On Lambda a larger body cannot arrive anyway: base64 of it would overflow the 6 MiB payload.
    maxBodyBytes: int(
      "MAX_BODY_BYTES",
      DEFAULT_MAX_BODY_BYTES,
      1,
      onLambda ? DEFAULT_MAX_BODY_BYTES : 2 ** 30,
    ),
    jsonLimits: {
      maxDepth: int("MAX_JSON_DEPTH", DEFAULT_JSON_LIMITS.maxDepth, 4, 1_000),
      maxElements: int("MAX_JSON_ELEMENTS", DEFAULT_JSON_LIMITS.maxElements, 1, 2 ** 31),
    },
    concurrency: {
      maxInFlight: int("MODEL_MAX_CONCURRENCY", 32, 1, 100_000),
      maxQueued: int("MODEL_MAX_QUEUE", 128, 0, 1_000_000),
      queueTimeoutMs: int("MODEL_QUEUE_TIMEOUT_MS", 5_000, 1, 900_000),
    },
    batching: onOff("BATCHING", text("BATCHING"), true),
    inferenceThread: oneOf("INFERENCE_THREAD", text("INFERENCE_THREAD"), INFERENCE_THREADS, "auto"),
    serviceName: text("POWERTOOLS_SERVICE_NAME") ?? "edge-infer-gateway",
    metricsNamespace: text("POWERTOOLS_METRICS_NAMESPACE") ?? "EdgeInfer",
  };
}

/** ORIGIN_VERIFY_SECRET: set but blank would silently open the origin, so it is refused. */
function originSecret(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "") {
    throw new ConfigError("ORIGIN_VERIFY_SECRET", "is set but empty; unset it or give the secret");
  }
  return value;
}

/** MODEL_CATALOG: `{"<model>": {"backend": "lambda" | "sagemaker", "target": "<arn:live | endpoint>"}}`. */
export function parseCatalog(value: string | undefined): Record<string, CatalogEntry> | undefined {
  if (value === undefined) return undefined;
  const fail = (msg: string) => new ConfigError("MODEL_CATALOG", msg);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw fail("not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw fail('expected an object {"<model>": {"backend": "lambda" | "sagemaker", "target": "..."}}');
  }
  const catalog: Record<string, CatalogEntry> = {};
  for (const [model, entry] of Object.entries(parsed)) {
    if (!isValidModelName(model)) throw fail(`invalid model name ${JSON.stringify(model)}`);
    const e = entry as { backend?: unknown; target?: unknown; shadow?: unknown } | null;
    if (typeof e !== "object" || e === null) throw fail(`"${model}" must be an object`);
    if (e.backend !== "lambda" && e.backend !== "sagemaker") {
      throw fail(`"${model}".backend must be "lambda" or "sagemaker", got ${JSON.stringify(e.backend)}`);
    }
    if (typeof e.target !== "string" || e.target.trim() === "") {
      throw fail(`"${model}".target must be a function ARN/name or an endpoint name`);
    }
    const line: CatalogEntry = { backend: e.backend, target: e.target.trim() };
    if (e.shadow !== undefined)
      line.shadow = readShadow(e.shadow, `"${model}".shadow`, (p, t) => fail(`${p} ${t}`));
    catalog[model] = line;
  }
  if (Object.keys(catalog).length === 0) throw fail("lists no model");
  return catalog;
}
