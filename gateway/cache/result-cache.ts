/**
 * The facade the gateway calls: look up, compute once (single flight), store, and say how the
 * answer was obtained (`X-Cache`). A cache failure never reaches the caller; a compute failure does,
 * unchanged, and is never cached.
 */
import { decodeResult, encodeResult } from "./codec";
import { type CachePlan, planForKey } from "./plan";
import { SingleFlight } from "./single-flight";
import type { TieredCache } from "./tiered";
import type { CacheCounters, CachedResult } from "./types";

/** What a request allows the cache to do. */
export interface CacheDirectives {
  /** Do not serve from the cache (`Cache-Control: no-cache`, or caching disabled). */
  noCache: boolean;
  /** Do not write the answer to the cache (`Cache-Control: no-store`, or caching disabled). */
  noStore: boolean;
}

/** `X-Cache`: HIT served from the cache; MISS computed and stored; BYPASS a directive or the model's config skipped a step. */
export type CacheStatus = "HIT" | "MISS" | "BYPASS";

/** A result and how it was obtained. */
export interface CacheOutcome {
  /** Shared by every waiter of a flight: treat it as read-only. */
  result: CachedResult;
  status: CacheStatus;
}

/** Reads the request's `Cache-Control` header: only `no-cache` and `no-store` matter here. */
export function parseCacheControl(header?: string | null): CacheDirectives {
  const directives = new Set(
    (header ?? "")
      .split(",")
      .map((d) => d.split("=")[0]?.trim().toLowerCase() ?? "")
      .filter((d) => d !== ""),
  );
  return { noCache: directives.has("no-cache"), noStore: directives.has("no-store") };
}

/** The directives of a request to a model: a model with caching disabled (or TTL 0) bypasses it entirely. */
export function cacheDirectives(
  header: string | null | undefined,
  model: { enabled: boolean; ttl_seconds: number },
): CacheDirectives {
  if (!model.enabled || model.ttl_seconds <= 0) return { noCache: true, noStore: true };
  return parseCacheControl(header);
}

/** Tiered cache + single flight + the codec, behind two calls. */
export class ResultCache {
  readonly tiered: TieredCache;
  private readonly flights = new SingleFlight();

  constructor(tiered: TieredCache) {
    this.tiered = tiered;
  }

  /** Counters of the tiers. */
  stats(): CacheCounters {
    return this.tiered.stats();
  }

  /** Waits for background writes (tests, shutdown). */
  flush(): Promise<void> {
    return this.tiered.flush();
  }

  /** Identical requests being computed right now. */
  get inFlight(): number {
    return this.flights.size;
  }

  /** A cached result for `key`, unless `no-cache`; undefined on a miss or any cache failure. */
  async lookup(
    key: string | CachePlan,
    cc: Pick<CacheDirectives, "noCache">,
  ): Promise<CachedResult | undefined> {
    const plan = typeof key === "string" ? planForKey(key) : key;
    if (cc.noCache || plan.lookupKey === undefined) return undefined;
    const bytes = await this.tiered.get(plan.lookupKey);
    if (bytes === undefined) return undefined;
    let result: CachedResult;
    try {
      result = decodeResult(bytes);
    } catch (e) {
      this.tiered.recordError("cache entry unreadable, treated as a miss", plan.lookupKey, e);
      return undefined;
    }
    // The version rule (plan.ts): only the expected version's answers are served.
    if (plan.expectedVersion !== undefined && result.version !== plan.expectedVersion) return undefined;
    return result;
  }

  /**
   * The result for `key`: from the cache, or from `compute` (once for identical concurrent requests)
   * and then stored for `ttlSeconds`. Rejects only with `compute`'s error, or `signal`'s reason once
   * this caller's client went away; `compute`'s signal aborts when every caller sharing it has gone.
   */
  run(
    key: string | CachePlan,
    ttlSeconds: number,
    cc: CacheDirectives,
    compute: (signal: AbortSignal | undefined) => Promise<CachedResult>,
    signal?: AbortSignal,
  ): Promise<CacheOutcome> {
    const plan = typeof key === "string" ? planForKey(key) : key;
    const store = !cc.noStore && ttlSeconds > 0;
    if (cc.noCache && !store) {
      // Nothing cached either way; not even a flight, since a model may disable caching because its
      // answers must not be shared (sampling).
      return compute(signal).then((result) => ({ result, status: "BYPASS" }));
    }
    // Requests with different directives behave differently, so they do not share a flight.
    const flightKey = `${plan.flightKey}|${cc.noCache ? "nc" : ""}|${store ? "" : "ns"}`;
    return this.flights.do(
      flightKey,
      async (shared): Promise<CacheOutcome> => {
        const hit = await this.lookup(plan, cc);
        if (hit !== undefined) return { result: hit, status: "HIT" };
        const result = await compute(shared);
        if (store) this.store(plan, result, ttlSeconds);
        return { result, status: cc.noCache || !store ? "BYPASS" : "MISS" };
      },
      signal,
    );
  }

  private store(plan: CachePlan, result: CachedResult, ttlSeconds: number): void {
    const storeKey = plan.storeKey(result);
    if (storeKey === undefined) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeResult(result);
    } catch (e) {
      this.tiered.recordError("result not encodable, not cached", storeKey, e);
      return;
    }
    this.tiered.set(storeKey, bytes, ttlSeconds);
  }
}
