/**
 * The per-model concurrency limit on the infer path: a slot is taken after validation and after a
 * cache hit had its chance, so only requests that will reach a backend wait for one (or are shed).
 */
import type { InferMiddleware } from "../../layers/http";
import type { ConcurrencyLimiter } from "./concurrency";

/** Infer middleware holding a slot of the model's lane around the backend call; the wait is the `queue` phase. */
export function concurrencyMiddleware(limiter: ConcurrencyLimiter): InferMiddleware {
  return async (ctx, next) => {
    // Overloaded (503 + Retry-After) when the lane and its queue are full or the wait times out.
    // A client that leaves gives up its place; under the result cache's single flight, ctx.signal is
    // the flight's, which aborts only when every request sharing this wait has gone.
    const permit = await limiter.acquire(ctx.model, ctx.signal);
    ctx.timer.add("queue", permit.waitedMs);
    try {
      return await next();
    } finally {
      permit.release();
    }
  };
}
