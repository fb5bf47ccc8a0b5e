import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DynamoCacheStore } from "../../../gateway/cache/dynamo-store";
import { MemoryCacheStore } from "../../../gateway/cache/memory-store";
import { TieredCache, type TieredCacheOptions } from "../../../gateway/cache/tiered";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";

let db: DynaliteHandle;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db?.close();
});

interface Logged {
  message: string;
  attributes: Record<string, unknown> | undefined;
}

/** A gateway instance's cache: its own L1, the shared table as L2. */
function instance(extra: Partial<TieredCacheOptions> = {}) {
  const logs: Logged[] = [];
  const cache = new TieredCache({
    l1: new MemoryCacheStore({ maxBytes: 8 * 1024 * 1024 }),
    l2: new DynamoCacheStore({ client: db.makeClient({ maxAttempts: 1 }), table: db.table }),
    // Generous: these tests count outcomes, and a loaded CI machine must not turn a hit into a timeout.
    timeoutMs: 5_000,
    logger: { warn: (message, attributes) => logs.push({ message, attributes }) },
    ...extra,
  });
  return { cache, logs };
}

const value = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 256);

describe("TieredCache over dynalite", () => {
  it("misses, then hits L1 on the writer and L2 on another instance, which fills its L1", async () => {
    const a = instance();
    const b = instance();
    expect(await a.cache.get("t1")).toBeUndefined();
    a.cache.set("t1", value(100), 60);
    await a.cache.flush();
    expect(await a.cache.get("t1")).toEqual(value(100));
    expect(a.cache.stats()).toMatchObject({ hits_l1: 1, hits_l2: 0, misses: 1, errors: 0 });

    expect(await b.cache.get("t1")).toEqual(value(100));
    expect(await b.cache.get("t1")).toEqual(value(100));
    expect(b.cache.stats()).toMatchObject({ hits_l1: 1, hits_l2: 1, misses: 0 });
    expect(b.cache.l1.size).toBe(1);
  });

  it("keeps an L2 hit in L1 no longer than L2 would", async () => {
    const clock = { t: Date.UTC(2030, 0, 1) };
    const now = () => clock.t;
    const writer = instance();
    writer.cache.set("t2", value(10), 5);
    await writer.cache.flush();
    const reader = instance({ l1: new MemoryCacheStore({ maxBytes: 1 << 20, now }), now });
    // The writer used the real clock; the reader is set just before the expiry the writer stored.
    const entry = await (reader.cache.l2 as DynamoCacheStore).getEntry("t2");
    expect(entry).toBeDefined();
    clock.t = (entry?.expiresAt ?? 0) - 1000;
    expect(await reader.cache.get("t2")).toEqual(value(10));
    clock.t += 1000;
    expect(reader.cache.l1.getEntrySync("t2")).toBeUndefined();
  });

  it("hands sequential L2 calls one signal, not an AbortSignal each (layers/http/abort-pool.ts)", async () => {
    const { cache } = instance();
    const l2 = cache.l2 as DynamoCacheStore;
    // The real store over dynalite, watched: which signal each of its calls was given.
    const get = vi.spyOn(l2, "getEntry");
    const seen = () => get.mock.calls.map((call) => call[1]);
    const client = new AbortController();
    for (let i = 0; i < 3; i++) expect(await cache.get(`s${i}`, client.signal)).toBeUndefined();
    expect(seen()).toHaveLength(3);
    expect(new Set(seen()).size).toBe(1);
    expect(seen()[0]?.aborted).toBe(false);
    // The client's signal is listened to only while a call runs.
    client.abort(new Error("gone"));
    expect(seen()[0]?.aborted).toBe(false);
    expect(cache.stats()).toMatchObject({ misses: 3, errors: 0, timeouts: 0 });
  });

  it("returns a miss without blaming the store when the caller aborts", async () => {
    const { cache, logs } = instance({ breaker: { threshold: 1 } });
    const gone = new AbortController();
    gone.abort();
    expect(await cache.get("t1", gone.signal)).toBeUndefined();
    expect(cache.stats()).toMatchObject({ misses: 1, errors: 0, timeouts: 0 });
    expect(cache.breaker.state).toBe("closed");
    expect(logs).toEqual([]);
  });

  it("counts an incompressible result over the item limit as skipped_oversize, not as an error", async () => {
    const a = instance();
    const noise = randomBytes(420 * 1024);
    a.cache.set("noise", noise, 60);
    await a.cache.flush();
    expect(a.cache.stats()).toMatchObject({ skipped_oversize: 1, errors: 0, timeouts: 0 });
    expect(a.cache.breaker.state).toBe("closed");
    expect(await a.cache.get("noise")).toBeDefined(); // L1 still has it
    const b = instance();
    expect(await b.cache.get("noise")).toBeUndefined();
    expect(b.cache.stats()).toMatchObject({ misses: 1, errors: 0 });
  });

  it("survives dynalite stopping: errors up to the breaker's threshold, then L2 is skipped; a probe after the cool-down finds it back", async () => {
    const clock = { t: 0 };
    const { cache, logs } = instance({ breaker: { threshold: 3, cooldownMs: 30_000, now: () => clock.t } });
    cache.set("before", value(5), 600);
    await cache.flush();
    cache.l1.delete("before");

    await db.stop();
    try {
      for (let i = 0; i < 10; i++) {
        expect(await cache.get(`down-${i}`)).toBeUndefined();
        cache.set(`down-${i}`, value(3), 600);
        await cache.flush();
      }
      expect(await cache.get("before")).toBeUndefined();
      expect(cache.stats()).toMatchObject({ errors: 3, timeouts: 0, misses: 11 });
      expect(cache.stats().short_circuited).toBe(21 - 3);
      expect(cache.breaker.state).toBe("open");
      const failures = logs.filter((l) => l.message.startsWith("cache L2 "));
      expect(failures.map((l) => l.message)).toEqual([
        "cache L2 get failed (error), served without it",
        "cache L2 set failed (error), served without it",
        "cache L2 get failed (error), served without it",
        "cache L2 circuit open: skipping L2",
      ]);
      expect(String(failures[0]?.attributes?.error)).toMatch(/ECONNREFUSED|connect/i);
    } finally {
      await db.start();
    }

    clock.t += 30_000; // cool-down over: the next call probes L2
    expect(await cache.get("before")).toEqual(value(5));
    expect(cache.breaker.state).toBe("closed");
    expect(cache.stats()).toMatchObject({ hits_l2: 1, errors: 3 });
  });
});

describe("TieredCache against a store that never answers", () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let endpoint = "";
  beforeAll(async () => {
    // Accepts connections and reads requests but never answers: a hung DynamoDB.
    server = createServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("bounds each call by the timeout, counts timeouts, and stops calling after the threshold", async () => {
    const client = db.makeClient({ endpoint, maxAttempts: 1 });
    const cache = new TieredCache({
      l1: new MemoryCacheStore({ maxBytes: 1 << 20 }),
      l2: new DynamoCacheStore({ client, table: "t" }),
      timeoutMs: 100,
      writeTimeoutMs: 200,
      breaker: { threshold: 3, cooldownMs: 60_000 },
    });
    const results = await Promise.all([cache.get("a"), cache.get("b")]);
    expect(results).toEqual([undefined, undefined]);
    cache.set("w", value(1), 60);
    await cache.flush();
    expect(cache.breaker.state).toBe("open");
    for (let i = 0; i < 5; i++) expect(await cache.get(`k${i}`)).toBeUndefined();
    cache.set("w2", value(1), 60);
    await cache.flush();
    expect(cache.stats()).toMatchObject({ timeouts: 3, errors: 0, short_circuited: 6, misses: 7 });
  });
});
