/** L1: an in-process LRU bounded in bytes, with a TTL checked on read. */
import { type CacheEntry, type CacheStore, type Clock, systemClock } from "./types";

/** Bytes an entry costs beyond its value: key string, map node, bookkeeping (an estimate). */
const ENTRY_OVERHEAD = 96;

interface Entry {
  value: Uint8Array;
  expiresAt: number;
  size: number;
}

/** Options of MemoryCacheStore. */
export interface MemoryCacheStoreOptions {
  /** Total budget in bytes (values, keys and overhead). */
  maxBytes: number;
  /** Largest single entry kept; larger ones are not cached here so one result cannot flush L1. @default maxBytes / 4 */
  maxEntryBytes?: number;
  /** Milliseconds clock. @default Date.now */
  now?: Clock;
}

/** An LRU map of encoded results, bounded in bytes; Map keeps insertion order, so the first key is the LRU. */
export class MemoryCacheStore implements CacheStore {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  private readonly entries = new Map<string, Entry>();
  private readonly now: Clock;
  private used = 0;

  constructor(options: MemoryCacheStoreOptions) {
    if (!(options.maxBytes >= 0)) throw new RangeError(`maxBytes must be >= 0, got ${options.maxBytes}`);
    this.maxBytes = options.maxBytes;
    this.maxEntryBytes = options.maxEntryBytes ?? Math.floor(options.maxBytes / 4);
    this.now = options.now ?? systemClock;
  }

  /** Bytes in use (values, keys and overhead). */
  get bytes(): number {
    return this.used;
  }

  /** Number of entries held, expired ones included until read or evicted. */
  get size(): number {
    return this.entries.size;
  }

  /** Synchronous lookup (no tick spent), refreshing the entry's recency. */
  getEntrySync(key: string): CacheEntry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    if (e.expiresAt <= this.now()) {
      this.used -= e.size;
      return undefined;
    }
    this.entries.set(key, e); // most recently used goes last
    return { value: e.value, expiresAt: e.expiresAt };
  }

  /** Synchronous store until `ttlSeconds` from now. */
  setSync(key: string, value: Uint8Array, ttlSeconds: number): void {
    this.setUntil(key, value, this.now() + ttlSeconds * 1000);
  }

  /** Synchronous store until `expiresAt` (epoch ms); evicts least recently used entries until the budget holds. */
  setUntil(key: string, value: Uint8Array, expiresAt: number): void {
    this.delete(key);
    const size = value.byteLength + key.length + ENTRY_OVERHEAD;
    if (expiresAt <= this.now() || size > this.maxEntryBytes || size > this.maxBytes) return;
    for (const [k, old] of this.entries) {
      if (this.used + size <= this.maxBytes) break;
      this.entries.delete(k);
      this.used -= old.size;
    }
    this.entries.set(key, { value, expiresAt, size });
    this.used += size;
  }

  /** Removes an entry, if present. */
  delete(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.entries.delete(key);
    this.used -= e.size;
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
