import { describe, expect, it } from "vitest";
import { type KeyRecord, newKeyRecord } from "../../../gateway/auth/keys";
import { CachedKeyStore, type KeyStore, MemoryKeyStore } from "../../../gateway/auth/store";

function record(name: string, models: string[] | "*" = "*"): KeyRecord {
  return newKeyRecord({ name, models, rateLimit: { rps: 1, burst: 1 } }).record;
}

/** A MemoryKeyStore that counts lookups, to see what the cache saves. */
class CountingStore extends MemoryKeyStore {
  lookups = 0;
  override async lookup(hash: string) {
    this.lookups++;
    return super.lookup(hash);
  }
}

describe("MemoryKeyStore", () => {
  it("stores, lists and revokes by exact name or prefix", async () => {
    const s = new MemoryKeyStore();
    const a = record("alpha");
    const b = record("beta");
    await s.put(a);
    await s.put(b);
    expect((await s.lookup(a.keyHash))?.name).toBe("alpha");
    expect(await s.lookup("0".repeat(64))).toBeUndefined();
    expect((await s.list()).map((r) => r.name).sort()).toEqual(["alpha", "beta"]);
    expect(await s.revoke("alph")).toEqual([]);
    expect((await s.revoke("alpha")).map((r) => r.name)).toEqual(["alpha"]);
    expect(await s.revoke("alpha")).toEqual([]); // already revoked
    expect((await s.revoke(b.prefix)).map((r) => r.name)).toEqual(["beta"]);
    expect((await s.list()).every((r) => r.revoked)).toBe(true);
  });

  it("hands out copies, so callers cannot edit the store", async () => {
    const s = new MemoryKeyStore();
    const a = record("a");
    await s.put(a);
    const got = await s.lookup(a.keyHash);
    if (got === undefined) throw new Error("missing");
    got.revoked = true;
    expect((await s.lookup(a.keyHash))?.revoked).toBe(false);
  });
});

describe("CachedKeyStore", () => {
  function setup(opts: { ttlMs?: number; negativeTtlMs?: number; maxEntries?: number } = {}) {
    let t = 0;
    const inner = new CountingStore();
    const cached = new CachedKeyStore(inner, { ...opts, now: () => t });
    return { inner, cached, advance: (ms: number) => (t += ms) };
  }

  it("reuses a found record until its TTL, then asks again", async () => {
    const { inner, cached, advance } = setup({ ttlMs: 1000 });
    const a = record("a");
    await inner.put(a);
    expect((await cached.lookup(a.keyHash))?.name).toBe("a");
    // Revoked behind the cache's back (another instance, the CLI): still served until the TTL.
    await inner.revoke("a");
    advance(999);
    expect((await cached.lookup(a.keyHash))?.revoked).toBe(false);
    expect(inner.lookups).toBe(1);
    advance(1);
    expect((await cached.lookup(a.keyHash))?.revoked).toBe(true);
    expect(inner.lookups).toBe(2);
  });

  it("sees its own revocations and puts at once", async () => {
    const { inner, cached } = setup();
    const a = record("a");
    await cached.put(a);
    expect((await cached.lookup(a.keyHash))?.revoked).toBe(false);
    await cached.revoke("a");
    expect((await cached.lookup(a.keyHash))?.revoked).toBe(true);
    expect(inner.lookups).toBe(2);
  });

  it("remembers misses for the negative TTL", async () => {
    const { inner, cached, advance } = setup({ negativeTtlMs: 100 });
    const hash = "f".repeat(64);
    for (let i = 0; i < 50; i++) expect(await cached.lookup(hash)).toBeUndefined();
    expect(inner.lookups).toBe(1);
    advance(100);
    expect(await cached.lookup(hash)).toBeUndefined();
    expect(inner.lookups).toBe(2);
  });

  it("asks the store once for concurrent lookups of one key", async () => {
    const { inner, cached } = setup();
    const a = record("a");
    await inner.put(a);
    const got = await Promise.all(Array.from({ length: 20 }, () => cached.lookup(a.keyHash)));
    expect(got.every((r) => r?.name === "a")).toBe(true);
    expect(inner.lookups).toBe(1);
  });

  it("bounds its entries, dropping the oldest", async () => {
    const { inner, cached } = setup({ maxEntries: 3 });
    const hashes = ["1", "2", "3", "4"].map((d) => d.repeat(64));
    for (const h of hashes) await cached.lookup(h);
    expect(inner.lookups).toBe(4);
    await cached.lookup(hashes[3] ?? "");
    expect(inner.lookups).toBe(4); // newest kept
    await cached.lookup(hashes[0] ?? "");
    expect(inner.lookups).toBe(5); // oldest dropped
  });

  it("does not cache store failures", async () => {
    let fail = true;
    const a = record("a");
    const inner: KeyStore = {
      lookup: async () => {
        if (fail) throw new Error("store down");
        return a;
      },
      put: async () => undefined,
      list: async () => [],
      revoke: async () => [],
    };
    const cached = new CachedKeyStore(inner);
    await expect(cached.lookup(a.keyHash)).rejects.toThrow("store down");
    fail = false;
    expect((await cached.lookup(a.keyHash))?.name).toBe("a");
  });
});
