/**
 * The model function's configuration: read from the environment once, typed, validated. A bad
 * value fails the init with a message naming the variable.
 */
import {
  ConfigError,
  type Env,
  envText,
  integer,
  type LogLevel,
  logLevel,
  onOff,
  url,
} from "../../layers/config/env";
import { readServerLimits, type ServerLimits } from "../../layers/config/server-limits";
import { isValidModelName } from "../../layers/repository/names";
import { EMF_NAMESPACE } from "../../layers/telemetry/emf";

/** Settings shared by the Lambda handler and the container server. */
export interface FunctionConfig {
  /** MODEL_NAME (required): the one model this function serves. */
  modelName: string;
  /** MODEL_VERSION: the live version; absent = the highest version the model's policy serves. */
  modelVersion: number | undefined;
  /** MODEL_REPOSITORY (required): `s3://bucket/prefix` or `file:///path`. */
  modelRepository: string;
  /** MODEL_CACHE_DIR: local copy of S3 model files (Lambda: under /tmp). */
  modelCacheDir: string | undefined;
  /** ALLOW_MISSING_CHECKSUM, default off: serve an s3:// version that has no model.onnx.sha256. */
  allowMissingChecksum: boolean;
  /** S3_ENDPOINT: an S3-compatible endpoint (tests: s3rver). */
  s3Endpoint: string | undefined;
  /** AWS_REGION. */
  region: string | undefined;
  /** PORT (container): 8080, SageMaker's. */
  port: number;
  /** HOST (container): 0.0.0.0, reachable from SageMaker's host. */
  host: string;
  /** BACKEND_TIMEOUT_MS (container protocol routes): 60000, SageMaker's invocation limit. */
  timeoutMs: number;
  /** HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, HTTP_KEEP_ALIVE_TIMEOUT_MS, HTTP_IDLE_TIMEOUT_MS, HTTP_MAX_CONNECTIONS (container). */
  server: ServerLimits;
  /** LOG_LEVEL: DEBUG, INFO (default), WARN, ERROR, SILENT. */
  logLevel: LogLevel;
  /** POWERTOOLS_METRICS_NAMESPACE: CloudWatch namespace of the run metrics (EMF); default EdgeInfer. */
  metricsNamespace: string;
}

/** Reads and validates the function's variables; throws an Error naming the first bad one. */
export function readFunctionConfig(env: Env = process.env): FunctionConfig {
  const text = envText(env);
  const required = (name: string, what: string): string => {
    const v = text(name);
    if (v === undefined) throw new ConfigError(name, `required (${what})`);
    return v;
  };
  const modelName = required("MODEL_NAME", "the model this function serves");
  if (!isValidModelName(modelName)) {
    throw new ConfigError(
      "MODEL_NAME",
      `expected letters, digits, '_', '.', '-', got ${JSON.stringify(modelName)}`,
    );
  }
  const timeoutMs = integer("BACKEND_TIMEOUT_MS", text("BACKEND_TIMEOUT_MS"), 60_000, 1, 900_000);
  return {
    modelName,
    modelVersion: integer("MODEL_VERSION", text("MODEL_VERSION"), undefined, 1, 999_999_999),
    modelRepository: required("MODEL_REPOSITORY", "s3://bucket/prefix or file:///path"),
    modelCacheDir: text("MODEL_CACHE_DIR"),
    allowMissingChecksum: onOff("ALLOW_MISSING_CHECKSUM", text("ALLOW_MISSING_CHECKSUM"), false),
    s3Endpoint: url("S3_ENDPOINT", text("S3_ENDPOINT")),
    region: text("AWS_REGION"),
    port: integer("PORT", text("PORT"), 8080, 0, 65_535),
    host: text("HOST") ?? "0.0.0.0",
    timeoutMs,
    server: readServerLimits(env, timeoutMs),
    logLevel: logLevel(text("LOG_LEVEL")),
    metricsNamespace: text("POWERTOOLS_METRICS_NAMESPACE") ?? EMF_NAMESPACE,
  };
}
