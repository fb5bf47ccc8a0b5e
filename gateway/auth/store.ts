/**
 * Key stores: the interface, an in-memory store (local mode, tests) and a caching wrapper that
 * keeps the per-request cost of auth off DynamoDB.
 */
import type { KeyRecord } from "./keys";

/** Where key records live. Implementations: MemoryKeyStore, DynamoKeyStore. */
export interface KeyStore {
  /** The record whose key hashes to `hash`, revoked or not; undefined when there is none. */
  lookup(hash: string): Promise<KeyRecord | undefined>;
  /** Stores (or replaces) a record. */
  put(record: KeyRecord): Promise<void>;
  /** Every record, revoked ones included. */
  list(): Promise<KeyRecord[]>;
  /** Revokes the active keys whose name or display prefix equals `nameOrPrefix`; returns them. */
  revoke(nameOrPrefix: string): Promise<KeyRecord[]>;
}

/** True when `nameOrPrefix` names the record exactly (no partial matches: no accidental mass revoke). */
export function matchesKey(record: KeyRecord, nameOrPrefix: string): boolean {
  return record.name === nameOrPrefix || record.prefix === nameOrPrefix;
}

/** A KeyStore in a Map: local mode and tests. */
export class MemoryKeyStore implements KeyStore {
  readonly #records = new Map<string, KeyRecord>();

  async lookup(hash: string): Promise<KeyRecord | undefined> {
    const rec = this.#records.get(hash);
    return rec === undefined ? undefined : structuredClone(rec);
  }

  async put(record: KeyRecord): Promise<void> {
    this.#records.set(record.keyHash, structuredClone(record));
  }

  async list(): Promise<KeyRecord[]> {
    return [...this.#records.values()].map((r) => structuredClone(r));
  }

  async revoke(nameOrPrefix: string): Promise<KeyRecord[]> {
    const revoked: KeyRecord[] = [];
    for (const rec of this.#records.values()) {
      if (!rec.revoked && matchesKey(rec, nameOrPrefix)) {
        rec.revoked = true;
        revoked.push(structuredClone(rec));
      }
    }
    return revoked;
  }
}

/** Options of CachedKeyStore. */
export interface KeyCacheOptions {
  /**
   * How long a found record is reused. A key revoked through another instance (or the CLI) keeps
   * working here for at most this long. @default 30_000
   */
  ttlMs?: number;
  /** How long a miss is remembered, so a flood of one wrong key costs one lookup. @default 5_000 */
  negativeTtlMs?: number;
  /** Entries kept; the oldest go first, which bounds memory under a flood of random keys. @default 10_000 */
  maxEntries?: number;
  /** Clock in ms, injectable for tests. @default Date.now */
  now?: () => number;
}

interface Entry {
  record: KeyRecord | undefined;
  expiresAt: number;
}

/** Wraps a KeyStore with a short-lived positive and negative lookup cache. */
export class CachedKeyStore implements KeyStore {
  readonly #inner: KeyStore;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** One store call per hash at a time, however many requests carry that key. */
  readonly #inFlight = new Map<string, Promise<KeyRecord | undefined>>();

  constructor(inner: KeyStore, options: KeyCacheOptions = {}) {
    this.#inner = inner;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async lookup(hash: string): Promise<KeyRecord | undefined> {
    const hit = this.#entries.get(hash);
    if (hit !== undefined) {
      if (hit.expiresAt > this.#now()) return hit.record;
      this.#entries.delete(hash);
    }
    const pending = this.#inFlight.get(hash);
    if (pending !== undefined) return pending;
    const p = this.#inner
      .lookup(hash)
      .then((record) => {
        this.#remember(hash, record);
        return record;
      })
      .finally(() => this.#inFlight.delete(hash));
    this.#inFlight.set(hash, p);
    return p;
  }

  async put(record: KeyRecord): Promise<void> {
    await this.#inner.put(record);
    this.#entries.delete(record.keyHash);
  }

  list(): Promise<KeyRecord[]> {
    return this.#inner.list();
  }

  async revoke(nameOrPrefix: string): Promise<KeyRecord[]> {
    const revoked = await this.#inner.revoke(nameOrPrefix);
    for (const rec of revoked) this.#entries.delete(rec.keyHash);
    return revoked;
  }

  /** Forgets every cached lookup. */
  clear(): void {
    this.#entries.clear();
  }

  #remember(hash: string, record: KeyRecord | undefined): void {
    const ttl = record === undefined ? this.#negativeTtlMs : this.#ttlMs;
    if (ttl <= 0) return;
    this.#entries.delete(hash);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(hash, { record, expiresAt: this.#now() + ttl });
  }
}
