import { describe, expect, it } from "vitest";
import {
  cacheConfigFromEnv,
  cacheDynamoClientConfig,
  createResultCache,
} from "../../../gateway/cache/create";
import { DynamoCacheStore } from "../../../gateway/cache/dynamo-store";

describe("cacheConfigFromEnv", () => {
  it("defaults to memory only, 64 MiB of L1 and a 50 ms L2 timeout", () => {
    expect(cacheConfigFromEnv({})).toEqual({
      table: undefined,
      endpoint: undefined,
      l1Bytes: 64 * 1024 * 1024,
      timeoutMs: 50,
    });
  });

  it("reads every variable", () => {
    expect(
      cacheConfigFromEnv({
        CACHE_TABLE: "results",
        DYNAMODB_ENDPOINT: "http://127.0.0.1:4567",
        CACHE_L1_BYTES: "1048576",
        CACHE_TIMEOUT_MS: "80",
      }),
    ).toEqual({ table: "results", endpoint: "http://127.0.0.1:4567", l1Bytes: 1048576, timeoutMs: 80 });
  });

  it("fails naming the variable and the bad value", () => {
    expect(() => cacheConfigFromEnv({ CACHE_L1_BYTES: "64MiB" })).toThrow(
      'CACHE_L1_BYTES must be an integer >= 0, got "64MiB"',
    );
    expect(() => cacheConfigFromEnv({ CACHE_TIMEOUT_MS: "0" })).toThrow(
      'CACHE_TIMEOUT_MS must be an integer >= 1, got "0"',
    );
    expect(() => cacheConfigFromEnv({ DYNAMODB_ENDPOINT: "localhost:8000" })).toThrow(
      'DYNAMODB_ENDPOINT must be an http(s) URL, got "localhost:8000"',
    );
  });
});

describe("createResultCache", () => {
  it("builds a memory-only cache without a table", async () => {
    const cache = createResultCache(cacheConfigFromEnv({}));
    expect(cache.tiered.l2).toBeUndefined();
    const compute = async () => ({ version: "1", outputs: [] });
    expect((await cache.run("k", 60, { noCache: false, noStore: false }, compute)).status).toBe("MISS");
    expect((await cache.run("k", 60, { noCache: false, noStore: false }, compute)).status).toBe("HIT");
    expect(cache.stats()).toMatchObject({ hits_l1: 1, misses: 1 });
  });

  it("puts DynamoDB behind L1 when a table is named, with the configured timeout", () => {
    const cache = createResultCache(cacheConfigFromEnv({ CACHE_TABLE: "t", CACHE_TIMEOUT_MS: "70" }));
    expect(cache.tiered.l2).toBeInstanceOf(DynamoCacheStore);
    expect(cache.tiered.timeoutMs).toBe(70);
  });

  it("makes one attempt per call and gives a loopback emulator dummy credentials", () => {
    expect(cacheDynamoClientConfig(undefined, {})).toEqual({ maxAttempts: 1 });
    expect(cacheDynamoClientConfig("http://localhost:8000", {})).toEqual({
      endpoint: "http://localhost:8000",
      maxAttempts: 1,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const withKeys = cacheDynamoClientConfig("http://127.0.0.1:8000", {
      AWS_ACCESS_KEY_ID: "AK",
      AWS_REGION: "eu-west-1",
    });
    expect(withKeys).toEqual({ endpoint: "http://127.0.0.1:8000", maxAttempts: 1, region: "eu-west-1" });
    const remote = cacheDynamoClientConfig("https://dynamodb.eu-west-1.amazonaws.com", {});
    expect(remote.credentials).toBeUndefined();
  });
});
