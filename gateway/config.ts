/**
 * The gateway's configuration: read from the environment once, typed, validated. A bad value
 * fails the start with a message naming the variable.
 */
import { fileURLToPath } from "node:url";
import { isValidModelName } from "../layers/repository/names";

/** Where one model is served when the gateway runs against AWS. */
export type CatalogEntry = { backend: "lambda"; target: string } | { backend: "sagemaker"; target: string };

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
  /** MODEL_CATALOG: model → remote backend; undefined = local mode (every repository model in-process). */
  catalog: Record<string, CatalogEntry> | undefined;
  /** BACKEND_TIMEOUT_MS, default 30000. */
  backendTimeoutMs: number;
  /** AWS_REGION. */
  region: string | undefined;
  /** S3_ENDPOINT: an S3-compatible endpoint (tests: s3rver). */
  s3Endpoint: string | undefined;
  /** LAMBDA_ENDPOINT: a Lambda-compatible endpoint (tests). */
  lambdaEndpoint: string | undefined;
  /** SAGEMAKER_RUNTIME_ENDPOINT: a SageMaker-runtime-compatible endpoint (tests). */
  sagemakerEndpoint: string | undefined;
  /** LOG_LEVEL: DEBUG, INFO (default), WARN, ERROR, SILENT. */
  logLevel: LogLevel;
}

export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR" | "SILENT";
const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARN", "ERROR", "SILENT"];

/** A configuration value is missing or malformed. */
export class ConfigError extends Error {
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

/** The demo repository next to this file (source checkouts only: a bundle has no functions/models). */
export const DEMO_REPOSITORY = `file://${fileURLToPath(new URL("../functions/models", import.meta.url))}`;

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the gateway's variables; throws ConfigError naming the first bad one. */
export function readGatewayConfig(env: Env = process.env): GatewayConfig {
  const text = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  return {
    port: integer("PORT", text("PORT"), 8080, 0, 65_535),
    host: text("HOST") ?? "127.0.0.1",
    modelRepository: text("MODEL_REPOSITORY") ?? DEMO_REPOSITORY,
    modelCacheDir: text("MODEL_CACHE_DIR"),
    catalog: parseCatalog(text("MODEL_CATALOG")),
    backendTimeoutMs: integer("BACKEND_TIMEOUT_MS", text("BACKEND_TIMEOUT_MS"), 30_000, 1, 900_000),
    region: text("AWS_REGION"),
    s3Endpoint: url("S3_ENDPOINT", text("S3_ENDPOINT")),
    lambdaEndpoint: url("LAMBDA_ENDPOINT", text("LAMBDA_ENDPOINT")),
    sagemakerEndpoint: url("SAGEMAKER_RUNTIME_ENDPOINT", text("SAGEMAKER_RUNTIME_ENDPOINT")),
    logLevel: logLevel(text("LOG_LEVEL")),
  };
}

function integer(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < min || n > max) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function url(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new ConfigError(name, `expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

function logLevel(value: string | undefined): LogLevel {
  if (value === undefined) return "INFO";
  const upper = value.toUpperCase();
  const level = LOG_LEVELS.find((l) => l === upper);
  if (level === undefined)
    throw new ConfigError(
      "LOG_LEVEL",
      `expected one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(value)}`,
    );
  return level;
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
    const e = entry as { backend?: unknown; target?: unknown } | null;
    if (typeof e !== "object" || e === null) throw fail(`"${model}" must be an object`);
    if (e.backend !== "lambda" && e.backend !== "sagemaker") {
      throw fail(`"${model}".backend must be "lambda" or "sagemaker", got ${JSON.stringify(e.backend)}`);
    }
    if (typeof e.target !== "string" || e.target.trim() === "") {
      throw fail(`"${model}".target must be a function ARN/name or an endpoint name`);
    }
    catalog[model] = { backend: e.backend, target: e.target.trim() };
  }
  if (Object.keys(catalog).length === 0) throw fail("lists no model");
  return catalog;
}
