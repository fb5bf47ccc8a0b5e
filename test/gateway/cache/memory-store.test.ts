import { describe, expect, it } from "vitest";
import { MemoryCacheStore } from "../../../gateway/cache/memory-store";

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe("MemoryCacheStore", () => {
  it("returns what was set until the TTL passes", async () => {
    const c = clock();
    const s = new MemoryCacheStore({ maxBytes: 10_000, now: c.now });
    await s.set("k", bytes(10, 7), 2);
    expect(await s.get("k")).toEqual(bytes(10, 7));
    c.t += 1999;
    expect(await s.get("k")).toEqual(bytes(10, 7));
    c.t += 1;
    expect(await s.get("k")).toBeUndefined();
    expect(s.size).toBe(0);
    expect(s.bytes).toBe(0);
  });

  it("stays within its byte budget by evicting the least recently used", async () => {
    const s = new MemoryCacheStore({ maxBytes: 3_000, maxEntryBytes: 3_000 });
    await s.set("a", bytes(800), 60);
    await s.set("b", bytes(800), 60);
    await s.set("c", bytes(800), 60);
    expect(s.size).toBe(3);
    await s.get("a"); // a is now more recent than b
    await s.set("d", bytes(800), 60);
    expect(s.bytes).toBeLessThanOrEqual(3_000);
    expect(await s.get("b")).toBeUndefined();
    expect(await s.get("a")).toBeDefined();
    expect(await s.get("c")).toBeDefined();
    expect(await s.get("d")).toBeDefined();
  });

  it("does not keep an entry larger than maxEntryBytes, so one result cannot flush it", async () => {
    const s = new MemoryCacheStore({ maxBytes: 4_000 });
    expect(s.maxEntryBytes).toBe(1_000);
    await s.set("small", bytes(100), 60);
    await s.set("big", bytes(2_000), 60);
    expect(await s.get("big")).toBeUndefined();
    expect(await s.get("small")).toBeDefined();
  });

  it("replaces an entry without counting it twice", async () => {
    const s = new MemoryCacheStore({ maxBytes: 10_000 });
    await s.set("k", bytes(100), 60);
    const used = s.bytes;
    await s.set("k", bytes(100, 2), 60);
    expect(s.bytes).toBe(used);
    expect(await s.get("k")).toEqual(bytes(100, 2));
  });

  it("keeps an entry of exactly maxEntryBytes; one byte more is refused and drops the key's old value", async () => {
    const s = new MemoryCacheStore({ maxBytes: 4_000 }); // entries up to 1_000 bytes, key and overhead included
    const overhead = 1 + 96; // key "k" + the per-entry estimate
    await s.set("k", bytes(1_000 - overhead), 60);
    expect(s.bytes).toBe(1_000);
    await s.set("k", bytes(1_001 - overhead), 60);
    expect(await s.get("k")).toBeUndefined();
    expect(s.bytes).toBe(0);
  });

  it("serves an entry copied with its expiry (setUntil) until that instant, not after", async () => {
    const c = clock();
    const s = new MemoryCacheStore({ maxBytes: 10_000, now: c.now });
    s.setUntil("k", bytes(10), c.t + 500);
    expect(await s.getEntry("k")).toEqual({ value: bytes(10), expiresAt: c.t + 500 });
    c.t += 499;
    expect(s.getEntrySync("k")?.expiresAt).toBe(c.t + 1);
    c.t += 1;
    expect(s.getEntrySync("k")).toBeUndefined();
  });

  it("ignores a non-positive TTL and rejects a negative budget", async () => {
    const s = new MemoryCacheStore({ maxBytes: 10_000 });
    await s.set("k", bytes(1), 0);
    expect(await s.get("k")).toBeUndefined();
    expect(() => new MemoryCacheStore({ maxBytes: -1 })).toThrow("maxBytes must be >= 0, got -1");
  });
});
