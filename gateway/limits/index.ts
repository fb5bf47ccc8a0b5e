/** Request limits: body size, JSON structure, per-key rate and per-model concurrency. */
export { bodyLimitMiddleware, DEFAULT_MAX_BODY_BYTES, readBodyLimited } from "./body-limit";
export { ConcurrencyLimiter, type ConcurrencyOptions, type Permit } from "./concurrency";
export { checkJsonLimits, DEFAULT_JSON_LIMITS, type JsonLimits, type JsonShape } from "./json-limits";
export {
  type Identify,
  identifyByApiKey,
  type RateLimitOptions,
  rateLimitMiddleware,
  retryAfterSeconds,
} from "./rate-limit";
export { RateLimiter, type RateLimiterOptions, TokenBucket, type TokenBucketOptions } from "./token-bucket";
