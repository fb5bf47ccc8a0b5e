/**
 * Configuration from the environment (read once, validated, failing with the variable's name) and
 * the factory that assembles a ResultCache: memory only by default, DynamoDB behind it when
 * `CACHE_TABLE` is set.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import type { CircuitBreakerOptions } from "./breaker";
import { DynamoCacheStore } from "./dynamo-store";
import { MemoryCacheStore } from "./memory-store";
import { ResultCache } from "./result-cache";
import { TieredCache } from "./tiered";
import type { CacheLogger, Clock } from "./types";

/** The cache's settings. */
export interface CacheConfig {
  /** `CACHE_TABLE`: the DynamoDB table; unset means memory only. */
  table: string | undefined;
  /** `DYNAMODB_ENDPOINT`: e.g. a local dynalite; unset means the region's endpoint. */
  endpoint: string | undefined;
  /** `CACHE_L1_BYTES`: L1 budget. @default 64 MiB */
  l1Bytes: number;
  /** `CACHE_TIMEOUT_MS`: bound on each DynamoDB read. @default 50 */
  timeoutMs: number;
}

function integer(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return n;
}

function url(env: Record<string, string | undefined>, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return undefined;
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) {
    throw new Error(`${name} must be an http(s) URL, got "${raw}"`);
  }
  return raw;
}

/** Reads CACHE_TABLE, DYNAMODB_ENDPOINT, CACHE_L1_BYTES and CACHE_TIMEOUT_MS; throws naming a bad one. */
export function cacheConfigFromEnv(env: Record<string, string | undefined> = process.env): CacheConfig {
  const table = env.CACHE_TABLE?.trim();
  return {
    table: table === undefined || table === "" ? undefined : table,
    endpoint: url(env, "DYNAMODB_ENDPOINT"),
    l1Bytes: integer(env, "CACHE_L1_BYTES", 64 * 1024 * 1024, 0),
    timeoutMs: integer(env, "CACHE_TIMEOUT_MS", 50, 1),
  };
}

/** Client settings for the cache table: one attempt, since a retry rarely fits in the timeout. */
export function cacheDynamoClientConfig(
  endpoint: string | undefined,
  env: Record<string, string | undefined> = process.env,
): DynamoDBClientConfig {
  if (endpoint === undefined) return { maxAttempts: 1 };
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(new URL(endpoint).hostname);
  return {
    endpoint,
    maxAttempts: 1,
    region: env.AWS_REGION ?? "us-east-1",
    // A local emulator accepts any credentials; a real endpoint uses the default chain.
    ...(local && env.AWS_ACCESS_KEY_ID === undefined
      ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
  };
}

/** What createResultCache may be handed besides the config. */
export interface CacheDeps {
  logger?: CacheLogger;
  /** Used instead of a client built from the config. */
  client?: DynamoDBClient;
  breaker?: CircuitBreakerOptions;
  now?: Clock;
}

/** A ResultCache for the config: L1 always, DynamoDB L2 when a table is named. */
export function createResultCache(config: CacheConfig, deps: CacheDeps = {}): ResultCache {
  const l1 = new MemoryCacheStore({ maxBytes: config.l1Bytes, ...(deps.now ? { now: deps.now } : {}) });
  const l2 =
    config.table === undefined
      ? undefined
      : new DynamoCacheStore({
          client: deps.client ?? new DynamoDBClient(cacheDynamoClientConfig(config.endpoint)),
          table: config.table,
          ...(deps.now ? { now: deps.now } : {}),
        });
  return new ResultCache(
    new TieredCache({
      l1,
      l2,
      timeoutMs: config.timeoutMs,
      ...(deps.breaker ? { breaker: deps.breaker } : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
      ...(deps.now ? { now: deps.now } : {}),
    }),
  );
}
