/**
 * Token buckets for per-key rate limits. Each gateway instance (each Lambda execution environment)
 * keeps its own buckets, so the effective limit across N warm instances is up to N times the
 * configured one: this blunts floods from one key, it is not a billing quota.
 */

/** Options of a TokenBucket. */
export interface TokenBucketOptions {
  /** Tokens the bucket holds when full: the burst. */
  capacity: number;
  /** Tokens added per second: the sustained rate. */
  refillPerSecond: number;
  /** Clock in ms, injectable for tests. @default performance.now */
  now?: () => number;
}

/** A token bucket that starts full. */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${options.capacity}`);
    if (!(options.refillPerSecond > 0)) {
      throw new RangeError(`refillPerSecond must be > 0, got ${options.refillPerSecond}`);
    }
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = options.capacity;
    this.#last = this.#now();
  }

  /** Tokens available now (fractional). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes `n` tokens if there are; returns 0 when taken, else the ms until `n` will be available. */
  take(n = 1): number {
    this.#refill();
    if (this.#tokens >= n) {
      this.#tokens -= n;
      return 0;
    }
    return ((n - this.#tokens) / this.refillPerSecond) * 1000;
  }

  /** True when the bucket is full, i.e. forgetting it changes nothing. */
  get full(): boolean {
    return this.tokens >= this.capacity;
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.capacity, this.#tokens + (elapsed / 1000) * this.refillPerSecond);
  }
}

/** Options of a RateLimiter. */
export interface RateLimiterOptions {
  /** Buckets kept; beyond it full (idle) buckets are dropped first, then the oldest. @default 10_000 */
  maxBuckets?: number;
  now?: () => number;
}

/** One token bucket per identity (an API key), created on first use. */
export class RateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #maxBuckets: number;
  readonly #now: (() => number) | undefined;

  constructor(options: RateLimiterOptions = {}) {
    this.#maxBuckets = options.maxBuckets ?? 10_000;
    this.#now = options.now;
  }

  /** Takes one token from `id`'s bucket; returns 0 when allowed, else ms to wait. */
  take(id: string, limit: { rps: number; burst: number }): number {
    let bucket = this.#buckets.get(id);
    // A key whose limit changed in the store gets a fresh bucket with the new limit.
    if (bucket === undefined || bucket.capacity !== limit.burst || bucket.refillPerSecond !== limit.rps) {
      this.#buckets.delete(id);
      this.#evict();
      bucket = new TokenBucket({ capacity: limit.burst, refillPerSecond: limit.rps, now: this.#now });
      this.#buckets.set(id, bucket);
    }
    return bucket.take();
  }

  /** Number of buckets held. */
  get size(): number {
    return this.#buckets.size;
  }

  #evict(): void {
    if (this.#buckets.size < this.#maxBuckets) return;
    for (const [id, b] of this.#buckets) if (b.full) this.#buckets.delete(id);
    while (this.#buckets.size >= this.#maxBuckets) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done === true) break;
      this.#buckets.delete(oldest.value);
    }
  }
}
