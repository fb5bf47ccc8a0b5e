/**
 * The factory that assembles a ResultCache from the gateway's cache settings (gateway/config.ts
 * reads them): memory only by default, DynamoDB behind it when `CACHE_TABLE` is set.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import type { Env } from "../../layers/config/env";
import { localEndpointCredentials } from "../../layers/config/local-credentials";
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

/** Client settings for the cache table: one attempt, since a retry rarely fits in the timeout. */
export function cacheDynamoClientConfig(
  endpoint: string | undefined,
  region: string | undefined,
  env?: Env,
): DynamoDBClientConfig {
  if (endpoint === undefined) return { maxAttempts: 1 };
  // A local emulator accepts any credentials; a real endpoint uses the default chain.
  return {
    endpoint,
    maxAttempts: 1,
    region: region ?? "us-east-1",
    ...localEndpointCredentials(endpoint, env),
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
          client: deps.client ?? new DynamoDBClient(cacheDynamoClientConfig(config.endpoint, undefined)),
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
