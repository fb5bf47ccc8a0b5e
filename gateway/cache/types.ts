/** Types shared by the result cache's modules. */
import type { InferResult } from "../../layers/backend/contract";

/** What the cache keeps: a backend's answer (version, outputs, parameters), before it is encoded for one client. */
export type CachedResult = InferResult;

/** A stored value and when it expires (epoch milliseconds). */
export interface CacheEntry {
  value: Uint8Array;
  expiresAt: number;
}

/** A key-value store of encoded results with a time to live. */
export interface CacheStore {
  /** The value stored under `key`, or undefined when absent or expired. */
  get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /** Like `get`, with the expiry, so a tier in front keeps the entry no longer than this store. */
  getEntry?(key: string, signal?: AbortSignal): Promise<CacheEntry | undefined>;
  /** Stores `value` under `key` for `ttlSeconds`. */
  set(key: string, value: Uint8Array, ttlSeconds: number, signal?: AbortSignal): Promise<void>;
}

/** The logger the cache reports failures to (Powertools Logger and console both fit). */
export interface CacheLogger {
  warn(message: string, attributes?: Record<string, unknown>): void;
}

/** Milliseconds since the epoch, or a test's clock. */
export type Clock = () => number;

/** The real clock; tests inject their own so they need no sleeps. */
export const systemClock: Clock = () => Date.now();

/** Counters of the tiered cache, as exposed to metrics. */
export interface CacheCounters {
  hits_l1: number;
  hits_l2: number;
  misses: number;
  /** L2 calls that failed (not timeouts), and entries that failed to decode. */
  errors: number;
  /** L2 calls cut off by the timeout. */
  timeouts: number;
  /** Results too large for an L2 item even compressed: not written to L2. */
  skipped_oversize: number;
  /** L2 calls not made because the circuit breaker was open. */
  short_circuited: number;
}

/** Raised by a store's `set` when the value cannot be stored because of its size; not a failure. */
export class CacheItemTooLarge extends Error {
  readonly bytes: number;
  constructor(bytes: number, limit: number) {
    super(`cache item of ${bytes} bytes exceeds the ${limit}-byte limit even compressed`);
    this.name = "CacheItemTooLarge";
    this.bytes = bytes;
  }
}
