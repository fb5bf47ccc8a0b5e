/** Hono middleware applying a per-key token bucket; runs after authMiddleware. */
import type { Context, MiddlewareHandler } from "hono";
import { RateLimited } from "../../layers/errors";
import type { KeyRecord } from "../auth/keys";
import type { RateLimiter } from "./token-bucket";

/** Who is asking and at what limit; undefined lets the request through unlimited. */
export type Identify = (c: Context) => { id: string; limit: { rps: number; burst: number } } | undefined;

/** Options of rateLimitMiddleware. */
export interface RateLimitOptions {
  limiter: RateLimiter;
  /** @default the `apiKey` record's name and rate limit; requests without one are not limited */
  identify?: Identify;
}

/** The default identity: the API key authMiddleware put on the context. */
export const identifyByApiKey: Identify = (c) => {
  const rec = c.get("apiKey") as KeyRecord | undefined;
  return rec === undefined ? undefined : { id: rec.keyHash, limit: rec.rateLimit };
};

/** Seconds for `Retry-After`: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/** 429 (RateLimited with retryAfter) once the caller's bucket is empty. */
export function rateLimitMiddleware(options: RateLimitOptions): MiddlewareHandler {
  const identify = options.identify ?? identifyByApiKey;
  return async (c, next) => {
    const who = identify(c);
    if (who === undefined) return next();
    const waitMs = options.limiter.take(who.id, who.limit);
    if (waitMs > 0) {
      const seconds = retryAfterSeconds(waitMs);
      // Set here as well as by the error mapper (from retryAfter), whichever builds the response.
      c.header("Retry-After", String(seconds));
      throw new RateLimited(
        `rate limit exceeded: ${who.limit.rps} requests/s with bursts of ${who.limit.burst}; retry in ${seconds} s`,
        seconds,
      );
    }
    return next();
  };
}
