import { describe, expect, it } from "vitest";
import { cacheDynamoClientConfig, createResultCache } from "../../../gateway/cache/create";
import { DynamoCacheStore } from "../../../gateway/cache/dynamo-store";

describe("createResultCache", () => {
  it("builds a memory-only cache without a table", async () => {
    const cache = createResultCache({
      table: undefined,
      endpoint: undefined,
      l1Bytes: 1 << 20,
      timeoutMs: 50,
    });
    expect(cache.tiered.l2).toBeUndefined();
    const compute = async () => ({ version: "1", outputs: [] });
    expect((await cache.run("k", 60, { noCache: false, noStore: false }, compute)).status).toBe("MISS");
    expect((await cache.run("k", 60, { noCache: false, noStore: false }, compute)).status).toBe("HIT");
    expect(cache.stats()).toMatchObject({ hits_l1: 1, misses: 1 });
  });

  it("puts DynamoDB behind L1 when a table is named, with the configured timeout", () => {
    const cache = createResultCache({ table: "t", endpoint: undefined, l1Bytes: 1 << 20, timeoutMs: 70 });
    expect(cache.tiered.l2).toBeInstanceOf(DynamoCacheStore);
    expect(cache.tiered.timeoutMs).toBe(70);
  });

  it("makes one attempt per call and gives a loopback emulator dummy credentials", () => {
    expect(cacheDynamoClientConfig(undefined, undefined, {})).toEqual({ maxAttempts: 1 });
    expect(cacheDynamoClientConfig("http://localhost:8000", undefined, {})).toEqual({
      endpoint: "http://localhost:8000",
      maxAttempts: 1,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const withKeys = cacheDynamoClientConfig("http://127.0.0.1:8000", "eu-west-1", {
      AWS_ACCESS_KEY_ID: "AK",
    });
    expect(withKeys).toEqual({ endpoint: "http://127.0.0.1:8000", maxAttempts: 1, region: "eu-west-1" });
    const remote = cacheDynamoClientConfig("https://dynamodb.eu-west-1.amazonaws.com", undefined, {});
    expect(remote.credentials).toBeUndefined();
  });
});
