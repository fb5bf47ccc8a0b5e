/** The result cache: what the gateway imports (the README's "Result cache" section states the rules). */
export { CircuitBreaker, type CircuitBreakerOptions } from "./breaker";
export { decodeResult, encodeResult } from "./codec";
export {
  type CacheConfig,
  type CacheDeps,
  cacheDynamoClientConfig,
  createResultCache,
} from "./create";
export { DynamoCacheStore, MAX_STORED_VALUE_BYTES } from "./dynamo-store";
export { type CacheKeyParts, cacheKey, requestDigest, versionedKey } from "./key";
export { MemoryCacheStore, type MemoryCacheStoreOptions } from "./memory-store";
export {
  type ResultCacheMiddlewareOptions,
  resultCacheMiddleware,
  X_CACHE,
} from "./middleware";
export { type CachePlan, planCache, planForKey, type VersionTarget } from "./plan";
export {
  type CacheDirectives,
  type CacheOutcome,
  type CacheStatus,
  cacheDirectives,
  parseCacheControl,
  ResultCache,
} from "./result-cache";
export { SingleFlight } from "./single-flight";
export { TieredCache, type TieredCacheOptions } from "./tiered";
export {
  type CacheCounters,
  type CachedResult,
  type CacheEntry,
  CacheItemTooLarge,
  type CacheLogger,
  type CacheStore,
} from "./types";
