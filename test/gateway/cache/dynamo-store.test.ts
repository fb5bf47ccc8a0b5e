import { randomBytes } from "node:crypto";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoCacheStore, MAX_STORED_VALUE_BYTES } from "../../../gateway/cache/dynamo-store";
import { CacheItemTooLarge } from "../../../gateway/cache/types";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";

let db: DynaliteHandle;
const clock = { t: Date.UTC(2030, 0, 1) };
let store: DynamoCacheStore;

beforeAll(async () => {
  db = await startDynalite();
  store = new DynamoCacheStore({ client: db.client, table: db.table, now: () => clock.t });
});
afterAll(async () => {
  await db?.close();
});

async function rawItem(key: string) {
  const out = await db.client.send(new GetItemCommand({ TableName: db.table, Key: { pk: { S: key } } }));
  return out.Item;
}

describe("DynamoCacheStore (dynalite)", () => {
  it("misses an absent key, then hits what was set, with its expiry", async () => {
    expect(await store.get("absent")).toBeUndefined();
    const value = Uint8Array.from([1, 2, 3, 250]);
    await store.set("k1", value, 60);
    expect(await store.get("k1")).toEqual(value);
    const entry = await store.getEntry("k1");
    expect(entry?.expiresAt).toBe(clock.t + 60_000);
    const item = await rawItem("k1");
    expect(item?.expires_at?.N).toBe(String(clock.t / 1000 + 60));
    expect(item?.z).toBeUndefined();
  });

  it("treats an item past expires_at as a miss though DynamoDB has not deleted it yet", async () => {
    await store.set("short", Uint8Array.from([9]), 1);
    expect(await store.get("short")).toEqual(Uint8Array.from([9]));
    clock.t += 1000;
    expect(await store.get("short")).toBeUndefined();
    expect(await rawItem("short")).toBeDefined();

    // An item written by someone else with an expiry in the past.
    await db.client.send(
      new PutItemCommand({
        TableName: db.table,
        Item: {
          pk: { S: "stale" },
          v: { B: Uint8Array.from([1]) },
          expires_at: { N: String(Math.floor(clock.t / 1000) - 5) },
        },
      }),
    );
    expect(await store.get("stale")).toBeUndefined();
  });

  it("gzips a value over the item limit when that makes it fit, and reads it back", async () => {
    const big = new Uint8Array(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 7;
    await store.set("big", big, 60);
    const item = await rawItem("big");
    expect(item?.z?.BOOL).toBe(true);
    expect(item?.v?.B?.byteLength).toBeLessThan(MAX_STORED_VALUE_BYTES);
    const back = await store.get("big");
    // Buffer.equals: toEqual walks a megabyte element by element.
    expect(back && Buffer.from(big).equals(back)).toBe(true);
  });

  it("stores a value under the limit as it is, even if compressible", async () => {
    const value = new Uint8Array(100_000);
    await store.set("plain", value, 60);
    const item = await rawItem("plain");
    expect(item?.z).toBeUndefined();
    expect(item?.v?.B?.byteLength).toBe(100_000);
  });

  it("refuses an incompressible value over the limit with CacheItemTooLarge and writes nothing", async () => {
    const noise = randomBytes(410 * 1024);
    const err = await store.set("noise", noise, 60).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheItemTooLarge);
    expect((err as Error).message).toMatch(
      /^cache item of \d+ bytes exceeds the 399360-byte limit even compressed$/,
    );
    expect(await rawItem("noise")).toBeUndefined();
  });

  it("passes the abort signal to the SDK", async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(store.get("k1", ac.signal)).rejects.toThrow(/abort/i);
  });
});
