/**
 * The result cache on the infer path: an InferMiddleware that keys the validated request under the
 * version rule (plan.ts), honours the model's `cache` config and the request's `Cache-Control`, and
 * says `X-Cache: HIT | MISS | BYPASS` on every infer answer. A cache failure never fails a request.
 */

import type { InferResult } from "../../layers/backend";
import type { InferContext, InferMiddleware } from "../../layers/http";
import { type CachePlan, planCache } from "./plan";
import { type CacheStatus, cacheDirectives, type ResultCache } from "./result-cache";
import type { CacheLogger } from "./types";

/** Options of resultCacheMiddleware. */
export interface ResultCacheMiddlewareOptions {
  /** Where a request that cannot be keyed is reported (it is then served without the cache). */
  logger?: CacheLogger;
}

/** Response header naming how the answer was obtained. */
export const X_CACHE = "X-Cache";

/** Infer middleware serving identical requests from `cache` and computing each once (single flight). */
export function resultCacheMiddleware(
  cache: ResultCache,
  options: ResultCacheMiddlewareOptions = {},
): InferMiddleware {
  return async (ctx, next) => {
    const directives = cacheDirectives(ctx.http.req.header("cache-control"), ctx.description.config.cache);
    const plan = directives.noCache && directives.noStore ? undefined : planOf(ctx, options.logger);
    if (plan === undefined) return bypass(ctx, next);
    const started = performance.now();
    let computing: number | undefined;
    const outcome = await cache.run(
      plan,
      ctx.description.config.cache.ttl_seconds,
      directives,
      (shared) => {
        computing = performance.now();
        ctx.timer.add("cache", computing - started); // the lookup that missed
        // Inner steps (queue, backend call) abort only when every request sharing them has gone.
        ctx.signal = shared;
        return next();
      },
      ctx.signal,
    );
    // A hit's lookup; a request that joined another's flight waited for it here too.
    if (computing === undefined) ctx.timer.add("cache", performance.now() - started);
    // The header for clients; the context for the telemetry middleware's hit/miss metrics.
    ctx.headers[X_CACHE] = outcome.status;
    ctx.http.set("cache", outcome.status);
    return outcome.result;
  };
}

async function bypass(ctx: InferContext, next: () => Promise<InferResult>): Promise<InferResult> {
  const result = await next();
  ctx.headers[X_CACHE] = "BYPASS" satisfies CacheStatus;
  ctx.http.set("cache", "BYPASS");
  return result;
}

/** The request's keys; undefined (served without the cache) if they cannot be computed. */
function planOf(ctx: InferContext, logger: CacheLogger | undefined): CachePlan | undefined {
  try {
    const { inputs, outputs, parameters } = ctx.request;
    // Unpinned: look up under the version the (cached) metadata names live; see plan.ts.
    return planCache(
      ctx.model,
      { inputs, outputs, parameters },
      {
        pinned: ctx.version === undefined ? undefined : String(ctx.version),
        live: ctx.version === undefined ? ctx.description.version : undefined,
      },
    );
  } catch (e) {
    logger?.warn("cache key not computable, served without the cache", {
      model: ctx.model,
      error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
    });
    return undefined;
  }
}
