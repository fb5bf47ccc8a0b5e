/** L1: an in-process LRU bounded in bytes, with a TTL checked on read (lru-cache). */
import { LRUCache } from "lru-cache";
import { type CacheEntry, type CacheStore, type Clock, systemClock } from "./types";

/** Bytes an entry costs beyond its value: key string, map node, bookkeeping (an estimate). */
const ENTRY_OVERHEAD = 96;

/** Options of MemoryCacheStore. */
export interface MemoryCacheStoreOptions {
  /** Total budget in bytes (values, keys and overhead). */
  maxBytes: number;
  /** Largest single entry kept; larger ones are not cached here so one result cannot flush L1. @default maxBytes / 4 */
  maxEntryBytes?: number;
  /** Milliseconds clock. @default Date.now */
  now?: Clock;
}

/** Encoded results by key, least recently used evicted first once the byte budget is spent. */
export class MemoryCacheStore implements CacheStore {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  readonly #lru: LRUCache<string, CacheEntry>;
  readonly #now: Clock;

  constructor(options: MemoryCacheStoreOptions) {
    if (!(options.maxBytes >= 0)) throw new RangeError(`maxBytes must be >= 0, got ${options.maxBytes}`);
    this.maxBytes = options.maxBytes;
    this.maxEntryBytes = options.maxEntryBytes ?? Math.floor(options.maxBytes / 4);
    this.#now = options.now ?? systemClock;
    this.#lru = new LRUCache<string, CacheEntry>({
      // lru-cache wants positive integers; a budget of 0 keeps nothing either way (every entry is larger).
      maxSize: Math.max(1, Math.floor(this.maxBytes)),
      maxEntrySize: Math.max(1, Math.floor(Math.min(this.maxEntryBytes, this.maxBytes))),
      sizeCalculation: (entry, key) => entry.value.byteLength + key.length + ENTRY_OVERHEAD,
      perf: { now: this.#now },
      // Read the clock at every check: no timer per lookup, and a test clock is seen at once.
      ttlResolution: 0,
    });
  }

  /** Bytes in use (values, keys and overhead). */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }

  /** Number of entries held, expired ones included until read or evicted. */
  get size(): number {
    return this.#lru.size;
  }

  /** Synchronous lookup (no tick spent), refreshing the entry's recency; an expired entry is dropped. */
  getEntrySync(key: string): CacheEntry | undefined {
    return this.#lru.get(key);
  }

  /** Synchronous store until `ttlSeconds` from now. */
  setSync(key: string, value: Uint8Array, ttlSeconds: number): void {
    this.setUntil(key, value, this.#now() + ttlSeconds * 1000);
  }

  /** Synchronous store until `expiresAt` (epoch ms); evicts least recently used entries until the budget holds. */
  setUntil(key: string, value: Uint8Array, expiresAt: number): void {
    const now = this.#now();
    if (expiresAt <= now) {
      this.#lru.delete(key);
      return;
    }
    // lru-cache counts an entry stale once more than `ttl` ms passed since `start`; ours expire at
    // `expiresAt` itself (as L2's do), so the entry starts 1 ms earlier. Too large: refused and the
    // key's old entry dropped, by lru-cache (maxEntrySize).
    this.#lru.set(key, { value, expiresAt }, { ttl: Math.ceil(expiresAt - now), start: now - 1 });
  }

  /** Removes an entry, if present. */
  delete(key: string): void {
    this.#lru.delete(key);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.getEntrySync(key)?.value;
  }

  async getEntry(key: string): Promise<CacheEntry | undefined> {
    return this.getEntrySync(key);
  }

  async set(key: string, value: Uint8Array, ttlSeconds: number): Promise<void> {
    this.setSync(key, value, ttlSeconds);
  }
}
