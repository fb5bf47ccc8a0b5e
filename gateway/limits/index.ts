/** Request limits: body size, JSON structure, per-key rate and per-model concurrency. */
export {
  BODY_LIMIT_HINT,
  bodyLimitMiddleware,
  DEFAULT_MAX_BODY_BYTES,
  LAMBDA_EVENT_ENVELOPE_BYTES,
  LAMBDA_PAYLOAD_BYTES,
  readBodyLimited,
} from "./body-limit";
export { ConcurrencyLimiter, type ConcurrencyOptions, type Permit } from "./concurrency";
export { concurrencyMiddleware } from "./infer-concurrency";
export { checkJsonLimits, DEFAULT_JSON_LIMITS, type JsonLimits, type JsonShape } from "./json-limits";
export {
  type Identify,
  identifyByApiKey,
  type RateLimitOptions,
  rateLimitMiddleware,
  retryAfterSeconds,
} from "./rate-limit";
export { lambdaResponseLimitMiddleware, lambdaWireBytes, MAX_LAMBDA_RESPONSE_BYTES } from "./response-limit";
export { RateLimiter, type RateLimiterOptions, TokenBucket, type TokenBucketOptions } from "./token-bucket";
