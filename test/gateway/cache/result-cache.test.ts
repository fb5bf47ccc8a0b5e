import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeResult } from "../../../gateway/cache/codec";
import { createResultCache } from "../../../gateway/cache/create";
import { cacheKey } from "../../../gateway/cache/key";
import { planCache } from "../../../gateway/cache/plan";
import { cacheDirectives, parseCacheControl, type ResultCache } from "../../../gateway/cache/result-cache";
import type { CachedResult } from "../../../gateway/cache/types";
import { tensorBytes, tensorFromBytes, tensorFromJSON } from "../../../layers/protocol/tensor";
import type { Tensor } from "../../../layers/protocol/types";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";

let db: DynaliteHandle;
const caches: ResultCache[] = [];
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  // Background writes still in flight would be cut by the shutdown.
  await Promise.all(caches.map((c) => c.flush()));
  await db?.close();
});

const NORMAL = { noCache: false, noStore: false };

/** A gateway instance's cache over the shared dynalite table. */
function newCache(extra: Parameters<typeof createResultCache>[1] = {}): ResultCache {
  const cache = createResultCache(
    { table: db.table, endpoint: db.endpoint, l1Bytes: 1 << 20, timeoutMs: 5_000 },
    { client: db.makeClient({ maxAttempts: 1 }), ...extra },
  );
  caches.push(cache);
  return cache;
}

function input(values: number[]): Tensor {
  return { name: "x", datatype: "FP32", shape: [values.length], data: Float32Array.from(values) };
}

/** A deterministic "model" (y = 2x) that counts its runs. */
function model(version = "1") {
  const m = {
    runs: 0,
    compute: (x: Tensor) => async (): Promise<CachedResult> => {
      m.runs++;
      await new Promise((r) => setImmediate(r)); // answer asynchronously, like a backend
      const data = Float32Array.from(x.data as Float32Array, (v) => v * 2);
      return { version, outputs: [{ name: "y", datatype: "FP32", shape: [...x.shape], data }] };
    },
  };
  return m;
}

const key = (x: Tensor, version = "1") => cacheKey({ model: "double", version, inputs: [x] });

describe("parseCacheControl / cacheDirectives", () => {
  it("reads no-cache and no-store, case-insensitively, ignoring other directives", () => {
    expect(parseCacheControl(undefined)).toEqual({ noCache: false, noStore: false });
    expect(parseCacheControl("")).toEqual({ noCache: false, noStore: false });
    expect(parseCacheControl("No-Cache")).toEqual({ noCache: true, noStore: false });
    expect(parseCacheControl("max-age=0, no-store")).toEqual({ noCache: false, noStore: true });
    expect(parseCacheControl('no-cache="x", NO-STORE')).toEqual({ noCache: true, noStore: true });
    expect(parseCacheControl("no-cacheable")).toEqual({ noCache: false, noStore: false });
  });

  it("bypasses everything for a model with caching disabled or a zero TTL", () => {
    expect(cacheDirectives(undefined, { enabled: false, ttl_seconds: 60 })).toEqual({
      noCache: true,
      noStore: true,
    });
    expect(cacheDirectives(undefined, { enabled: true, ttl_seconds: 0 })).toEqual({
      noCache: true,
      noStore: true,
    });
    expect(cacheDirectives("no-store", { enabled: true, ttl_seconds: 60 })).toEqual({
      noCache: false,
      noStore: true,
    });
  });
});

describe("ResultCache over dynalite", () => {
  it("computes and stores on a miss, then serves a HIT here and on another instance", async () => {
    const m = model();
    const x = input([1, 2, 3]);
    const a = newCache();
    const first = await a.run(key(x), 60, NORMAL, m.compute(x));
    expect(first.status).toBe("MISS");
    expect(first.result.outputs[0]?.data).toEqual(Float32Array.from([2, 4, 6]));
    await a.flush();
    const again = await a.run(key(x), 60, NORMAL, m.compute(x));
    expect(again).toMatchObject({ status: "HIT" });
    expect(again.result.outputs[0]?.data).toEqual(Float32Array.from([2, 4, 6]));

    const b = newCache();
    const other = await b.run(key(x), 60, NORMAL, m.compute(x));
    expect(other.status).toBe("HIT");
    expect(other.result).toEqual(first.result);
    expect(m.runs).toBe(1);
    expect(b.stats()).toMatchObject({ hits_l2: 1, misses: 0 });
    expect(await b.lookup(key(x), { noCache: false })).toEqual(first.result);
    expect(await b.lookup(key(x), { noCache: true })).toBeUndefined();
  });

  it("gives a JSON request and the same request in binary form the same entry", async () => {
    const m = model();
    const c = newCache();
    const json = tensorFromJSON({ name: "x", datatype: "FP32", shape: [2], data: [0.5, -1] });
    const binary = tensorFromBytes("x", "FP32", [2], tensorBytes(input([0.5, -1])).slice());
    expect((await c.run(key(json), 60, NORMAL, m.compute(json))).status).toBe("MISS");
    expect((await c.run(key(binary), 60, NORMAL, m.compute(binary))).status).toBe("HIT");
    expect(m.runs).toBe(1);
  });

  it("no-cache skips the lookup but stores the fresh answer; BYPASS", async () => {
    const c = newCache();
    const x = input([7]);
    const v1 = model("1");
    await c.run(key(x), 60, NORMAL, v1.compute(x));
    const fresh = model("1");
    const r = await c.run(key(x), 60, { noCache: true, noStore: false }, fresh.compute(x));
    expect(r.status).toBe("BYPASS");
    expect(fresh.runs).toBe(1);
    expect((await c.run(key(x), 60, NORMAL, fresh.compute(x))).status).toBe("HIT");
    expect(fresh.runs).toBe(1);
  });

  it("no-store serves a hit but does not write a miss; BYPASS when computed", async () => {
    const c = newCache();
    const m = model();
    const x = input([8]);
    const noStore = { noCache: false, noStore: true };
    expect((await c.run(key(x), 60, noStore, m.compute(x))).status).toBe("BYPASS");
    await c.flush();
    expect((await c.run(key(x), 60, NORMAL, m.compute(x))).status).toBe("MISS");
    expect((await c.run(key(x), 60, noStore, m.compute(x))).status).toBe("HIT");
    expect(m.runs).toBe(2);
  });

  it("no-cache with no-store, or a model with caching disabled, neither reads nor writes nor shares", async () => {
    const c = newCache();
    const m = model();
    const x = input([9]);
    const disabled = cacheDirectives(undefined, { enabled: false, ttl_seconds: 60 });
    const both = parseCacheControl("no-cache, no-store");
    const outcomes = await Promise.all([
      c.run(key(x), 60, disabled, m.compute(x)),
      c.run(key(x), 60, disabled, m.compute(x)),
      c.run(key(x), 60, both, m.compute(x)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["BYPASS", "BYPASS", "BYPASS"]);
    expect(m.runs).toBe(3);
    await c.flush();
    expect(c.stats()).toMatchObject({ hits_l1: 0, hits_l2: 0, misses: 0 });
    expect((await c.run(key(x), 60, NORMAL, m.compute(x))).status).toBe("MISS");
  });

  it("runs the model once for 20 identical concurrent requests", async () => {
    const c = newCache();
    const m = model();
    const x = input([4, 5]);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => c.run(key(x), 60, NORMAL, m.compute(x))),
    );
    expect(m.runs).toBe(1);
    expect(outcomes.every((o) => o.status === "MISS")).toBe(true);
    for (const o of outcomes) expect(o.result.outputs[0]?.data).toEqual(Float32Array.from([8, 10]));
    expect(c.inFlight).toBe(0);
  });

  it("shares a compute failure with that flight's waiters and does not cache it", async () => {
    const c = newCache();
    const x = input([13]);
    let runs = 0;
    const failing = async (): Promise<CachedResult> => {
      runs++;
      await new Promise((r) => setImmediate(r));
      throw new Error("backend exploded");
    };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () => c.run(key(x), 60, NORMAL, failing)),
    );
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 5 }, () => "rejected"));
    expect(runs).toBe(1);
    const m = model();
    expect((await c.run(key(x), 60, NORMAL, m.compute(x))).status).toBe("MISS");
    expect(m.runs).toBe(1);
  });

  it("treats an unreadable L2 entry as a miss, counts it, and replaces it", async () => {
    const x = input([21]);
    await db.client.send(
      new PutItemCommand({
        TableName: db.table,
        Item: {
          pk: { S: key(x) },
          v: { B: Uint8Array.from([1, 2, 3]) },
          expires_at: { N: String(Math.floor(Date.now() / 1000) + 600) },
        },
      }),
    );
    const c = newCache();
    const m = model();
    expect((await c.run(key(x), 60, NORMAL, m.compute(x))).status).toBe("MISS");
    expect(c.stats()).toMatchObject({ hits_l2: 1, errors: 1 });
    await c.flush();
    expect((await newCache().run(key(x), 60, NORMAL, m.compute(x))).status).toBe("HIT");
  });

  it("answers every request while dynalite is down, and hits again once it is back", async () => {
    const clock = { t: 0 };
    const c = newCache({ breaker: { threshold: 4, cooldownMs: 10_000, now: () => clock.t } });
    const m = model();
    const xs = Array.from({ length: 30 }, (_, i) => input([100 + i]));
    const check = async (i: number, expected: string) => {
      const x = xs[i] as Tensor;
      const r = await c.run(key(x), 600, NORMAL, m.compute(x));
      expect(r.status).toBe(expected);
      expect(r.result.outputs[0]?.data).toEqual(Float32Array.from([2 * (100 + i)]));
      await c.flush();
    };
    for (let i = 0; i < 10; i++) await check(i, "MISS");
    for (let i = 0; i < 10; i++) c.tiered.l1.delete(key(xs[i] as Tensor)); // force the next reads to L2
    await db.stop();
    try {
      for (let i = 10; i < 30; i++) await check(i, "MISS");
      expect(c.stats()).toMatchObject({ errors: 4, timeouts: 0 });
      expect(c.stats().short_circuited).toBe(2 * 20 - 4);
    } finally {
      await db.start();
    }
    expect(m.runs).toBe(30);
    clock.t += 10_000;
    for (let i = 0; i < 10; i++) await check(i, "HIT");
    expect(m.runs).toBe(30);
    expect(c.stats()).toMatchObject({ hits_l2: 10, errors: 4 });
  });
});

describe("versions and canaries (planCache)", () => {
  const x = input([3]);
  const request = { inputs: [x], outputs: undefined, parameters: undefined };

  it("stores a canary's answer to an unpinned request under the canary version only", async () => {
    const c = newCache();
    const canary = model("2");
    const stable = model("1");
    const unpinned = planCache("double", request, { live: "1" });
    expect(unpinned.lookupKey).toBe(key(x, "1"));

    // The alias routed this unpinned request to the canary.
    const r1 = await c.run(unpinned, 60, NORMAL, canary.compute(x));
    expect(r1).toMatchObject({ status: "MISS", result: { version: "2" } });
    // A request pinned to the canary hits it...
    const pinned2 = planCache("double", request, { pinned: "2", live: "1" });
    expect((await c.run(pinned2, 60, NORMAL, canary.compute(x))).status).toBe("HIT");
    // ...an unpinned one does not: it is served only the default version's answers.
    const r2 = await c.run(unpinned, 60, NORMAL, stable.compute(x));
    expect(r2).toMatchObject({ status: "MISS", result: { version: "1" } });
    const r3 = await c.run(unpinned, 60, NORMAL, stable.compute(x));
    expect(r3).toMatchObject({ status: "HIT", result: { version: "1" } });
    // Once the metadata names version 2 as default, unpinned requests hit the canary's answers.
    const promoted = planCache("double", request, { live: "2" });
    expect((await c.run(promoted, 60, NORMAL, canary.compute(x))).status).toBe("HIT");
    expect([canary.runs, stable.runs]).toEqual([1, 1]);
  });

  it("does not serve an entry whose recorded version differs from the expected one", async () => {
    const c = newCache();
    const plan = planCache("double", { ...request, inputs: [input([77])] }, { live: "5" });
    const lookupKey = plan.lookupKey ?? "";
    const forged = model("6");
    const r = await forged.compute(input([77]))();
    c.tiered.set(lookupKey, encodeResult(r), 60);
    expect(await c.lookup(plan, { noCache: false })).toBeUndefined();
  });

  it("keeps pinned and unpinned requests in separate flights", async () => {
    const c = newCache();
    const y = input([55]);
    const req = { ...request, inputs: [y] };
    const canary = model("2");
    const stable = model("1");
    const [unpinned, pinned] = await Promise.all([
      c.run(planCache("double", req, { live: "1" }), 60, NORMAL, canary.compute(y)),
      c.run(planCache("double", req, { pinned: "1", live: "1" }), 60, NORMAL, stable.compute(y)),
    ]);
    expect(unpinned.result.version).toBe("2");
    expect(pinned.result.version).toBe("1");
  });

  it("looks nothing up when no default version is known, but still stores under the answering version", async () => {
    const c = newCache();
    const z = input([66]);
    const plan = planCache("double", { ...request, inputs: [z] }, {});
    expect(plan.lookupKey).toBeUndefined();
    const m = model("4");
    expect((await c.run(plan, 60, NORMAL, m.compute(z))).status).toBe("MISS");
    expect((await c.run(plan, 60, NORMAL, m.compute(z))).status).toBe("MISS");
    const pinned = planCache("double", { ...request, inputs: [z] }, { pinned: "4" });
    expect((await c.run(pinned, 60, NORMAL, m.compute(z))).status).toBe("HIT");
  });
});
