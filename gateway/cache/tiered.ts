/**
 * L1 (memory, per instance) in front of L2 (a shared store, DynamoDB). Never throws and never
 * waits long on L2: every L2 call is bounded by a timeout, failures are logged and counted and
 * turn into a miss or a skipped write, and a circuit breaker stops calling a store that keeps failing.
 */
import { BackendTimeout } from "../../layers/errors";
import { withDeadline } from "../../layers/http/deadline";
import { CircuitBreaker, type CircuitBreakerOptions } from "./breaker";
import type { MemoryCacheStore } from "./memory-store";
import {
  type CacheCounters,
  type CacheEntry,
  CacheItemTooLarge,
  type CacheLogger,
  type CacheStore,
  type Clock,
  systemClock,
} from "./types";

/** Options of TieredCache. */
export interface TieredCacheOptions {
  l1: MemoryCacheStore;
  /** The shared store; absent in local mode (memory only). */
  l2?: CacheStore | undefined;
  /** Bound on each L2 read, which the request waits for. @default 50 */
  timeoutMs?: number;
  /**
   * Bound on each background L2 write, which includes gzipping a large value and sending up to
   * 390 KiB; no request waits for it, and a tight bound would trip the breaker on large results.
   * @default max(timeoutMs, 1000)
   */
  writeTimeoutMs?: number;
  /** The breaker guarding L2, or its options. */
  breaker?: CircuitBreaker | CircuitBreakerOptions;
  /** How long an L2 hit stays in L1 when the store cannot tell its expiry. @default 60 */
  l1FillTtlSeconds?: number;
  logger?: CacheLogger;
  /** Milliseconds clock. @default Date.now */
  now?: Clock;
}

type L2Outcome<T> = { ok: true; value: T } | { ok: false };

/** A two-tier cache of encoded results whose operations cannot fail. */
export class TieredCache {
  readonly l1: MemoryCacheStore;
  readonly l2: CacheStore | undefined;
  readonly breaker: CircuitBreaker;
  readonly timeoutMs: number;
  readonly writeTimeoutMs: number;
  private readonly l1FillTtlSeconds: number;
  private readonly logger: CacheLogger | undefined;
  private readonly now: Clock;
  private readonly pending = new Set<Promise<void>>();
  private readonly counts: CacheCounters = {
    hits_l1: 0,
    hits_l2: 0,
    misses: 0,
    errors: 0,
    timeouts: 0,
    skipped_oversize: 0,
    short_circuited: 0,
  };

  constructor(options: TieredCacheOptions) {
    this.l1 = options.l1;
    this.l2 = options.l2;
    this.timeoutMs = options.timeoutMs ?? 50;
    this.writeTimeoutMs = options.writeTimeoutMs ?? Math.max(this.timeoutMs, 1000);
    this.breaker =
      options.breaker instanceof CircuitBreaker ? options.breaker : new CircuitBreaker(options.breaker);
    this.l1FillTtlSeconds = options.l1FillTtlSeconds ?? 60;
    this.logger = options.logger;
    this.now = options.now ?? systemClock;
  }

  /** A snapshot of the counters. */
  stats(): CacheCounters {
    return { ...this.counts };
  }

  /** Counts and logs a failure outside the stores, e.g. an entry that does not decode (then a miss). */
  recordError(message: string, key: string, error: unknown): void {
    this.counts.errors++;
    this.logger?.warn(message, { key, error: describe(error) });
  }

  /** L1, then L2 (whose hit fills L1); undefined on a miss, an L2 failure or timeout. */
  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const local = this.l1.getEntrySync(key);
    if (local !== undefined) {
      this.counts.hits_l1++;
      return local.value;
    }
    const l2 = this.l2;
    if (l2 !== undefined) {
      const got = await this.callL2("get", key, signal, (s) =>
        l2.getEntry ? l2.getEntry(key, s) : l2.get(key, s).then((v) => this.withFillTtl(v)),
      );
      if (got.ok && got.value !== undefined) {
        this.counts.hits_l2++;
        this.l1.setUntil(key, got.value.value, got.value.expiresAt);
        return got.value.value;
      }
    }
    this.counts.misses++;
    return undefined;
  }

  /** Writes L1 now and L2 in the background (see `flush`); never throws. */
  set(key: string, value: Uint8Array, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    this.l1.setSync(key, value, ttlSeconds);
    const l2 = this.l2;
    if (l2 === undefined) return;
    const write = this.callL2("set", key, undefined, (s) => l2.set(key, value, ttlSeconds, s)).then(() => {});
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
  }

  /** Resolves when every background L2 write started so far has settled. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private withFillTtl(value: Uint8Array | undefined): CacheEntry | undefined {
    return value === undefined ? undefined : { value, expiresAt: this.now() + this.l1FillTtlSeconds * 1000 };
  }

  /** Runs one L2 call under the breaker and the timeout; failures become `{ ok: false }`. */
  private async callL2<T>(
    op: "get" | "set",
    key: string,
    caller: AbortSignal | undefined,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<L2Outcome<T>> {
    if (!this.breaker.allow()) {
      this.counts.short_circuited++;
      return { ok: false };
    }
    // withDeadline races the call (not only aborts it), which bounds the wait even where the SDK is
    // slow to honour the signal, e.g. while it sleeps between retries; its signal also aborts when
    // the caller's client leaves, and comes from the pool (layers/http/abort-pool.ts).
    const ms = op === "get" ? this.timeoutMs : this.writeTimeoutMs;
    try {
      const value = await withDeadline(ms, `cache L2 ${op}`, caller, call);
      this.breaker.success();
      return { ok: true, value };
    } catch (e) {
      if (e instanceof CacheItemTooLarge) {
        this.counts.skipped_oversize++;
        this.breaker.release();
        return { ok: false };
      }
      if (caller?.aborted) {
        // The client went away: not the store's fault.
        this.breaker.release();
        return { ok: false };
      }
      if (e instanceof BackendTimeout) return this.fail(op, key, "timeout", undefined);
      return this.fail(op, key, "error", e);
    }
  }

  private fail(op: string, key: string, kind: "timeout" | "error", error: unknown): { ok: false } {
    if (kind === "timeout") this.counts.timeouts++;
    else this.counts.errors++;
    const opened = this.breaker.failure();
    const attributes = { op, key, kind, ...(error === undefined ? {} : { error: describe(error) }) };
    this.logger?.warn(`cache L2 ${op} failed (${kind}), served without it`, attributes);
    if (opened) {
      this.logger?.warn("cache L2 circuit open: skipping L2", {
        failures: this.breaker.threshold,
        cooldownMs: this.breaker.cooldownMs,
      });
    }
    return { ok: false };
  }
}

/** Name and message of an error, never its stack or request details. */
function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
