/** DescribeCache: one backend call per model version and TTL, shared by concurrent requests; failures not kept. */
import { describe, expect, it } from "vitest";
import type { ModelDescription } from "../../../layers/backend";
import { DescribeCache } from "../../../layers/http";

const description = (version: string) => ({ version }) as unknown as ModelDescription;

describe("DescribeCache", () => {
  it("shares one load between concurrent callers and keeps it for the TTL", async () => {
    let now = 0;
    const cache = new DescribeCache(1000, () => now);
    let loads = 0;
    const load = async () => description(String(++loads));
    const [a, b] = await Promise.all([cache.get("m", undefined, load), cache.get("m", undefined, load)]);
    expect([a.version, b.version, loads]).toEqual(["1", "1", 1]);
    now = 999;
    expect((await cache.get("m", undefined, load)).version).toBe("1");
    expect((await cache.get("m", 2, load)).version).toBe("2");
    now = 1000;
    expect((await cache.get("m", undefined, load)).version).toBe("3");
  });

  it("forgets failures so the next request asks again", async () => {
    const cache = new DescribeCache(60_000);
    await expect(cache.get("m", undefined, () => Promise.reject(new Error("cold")))).rejects.toThrow("cold");
    expect((await cache.get("m", undefined, async () => description("1"))).version).toBe("1");
  });
});
