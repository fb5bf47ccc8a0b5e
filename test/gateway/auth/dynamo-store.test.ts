import { PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyTable, DynamoKeyStore, fromItem, toItem } from "../../../gateway/auth/dynamo-store";
import { hashKey, newKeyRecord } from "../../../gateway/auth/keys";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";

const TABLE = "api-keys";
let db: DynaliteHandle;
let store: DynamoKeyStore;

beforeAll(async () => {
  db = await startDynalite();
  await createKeyTable(db.client, TABLE);
  await createKeyTable(db.client, TABLE); // idempotent
  store = new DynamoKeyStore(db.client, TABLE);
});
afterAll(() => db.close());

describe("DynamoKeyStore on dynalite", () => {
  it("round-trips records and stores only the hash", async () => {
    const a = newKeyRecord({ name: "a", models: ["m1", "m2"], rateLimit: { rps: 2.5, burst: 5 } });
    const b = newKeyRecord({ name: "b", models: "*", rateLimit: { rps: 10, burst: 20 } });
    await store.put(a.record);
    await store.put(b.record);
    expect(await store.lookup(hashKey(a.key))).toEqual(a.record);
    expect(await store.lookup(hashKey(b.key))).toEqual(b.record);
    expect(await store.lookup(hashKey("ei_nothing"))).toBeUndefined();

    const scan = await db.client.send(new ScanCommand({ TableName: TABLE }));
    const raw = JSON.stringify(scan.Items);
    expect(scan.Items?.map((i) => i.key_hash?.S).sort()).toEqual([a.record.keyHash, b.record.keyHash].sort());
    expect(raw).not.toContain(a.key);
    expect(raw).not.toContain(b.key);
    expect(raw).not.toContain(a.key.slice(12)); // nothing past the display prefix
  });

  it("lists across scan pages and revokes by name or prefix", async () => {
    const many = Array.from({ length: 30 }, (_, i) =>
      newKeyRecord({ name: `bulk-${i}`, models: "*", rateLimit: { rps: 1, burst: 1 } }),
    );
    for (const k of many) await store.put(k.record);
    const names = (await store.list()).map((r) => r.name);
    for (const k of many) expect(names).toContain(k.record.name);

    const first = many[0]?.record;
    const second = many[1]?.record;
    if (first === undefined || second === undefined) throw new Error("no records");
    expect((await store.revoke("bulk-0")).map((r) => r.name)).toEqual(["bulk-0"]);
    expect((await store.revoke(second.prefix)).map((r) => r.name)).toEqual(["bulk-1"]);
    expect(await store.revoke("bulk-0")).toEqual([]);
    expect((await store.lookup(first.keyHash))?.revoked).toBe(true);
    expect((await store.lookup(second.keyHash))?.revoked).toBe(true);
    expect((await store.lookup(many[2]?.record.keyHash ?? ""))?.revoked).toBe(false);
  });

  it("treats a damaged item as revoked or refuses it", async () => {
    const { record } = newKeyRecord({ name: "damaged", models: "*", rateLimit: { rps: 1, burst: 1 } });
    const item = toItem(record);
    delete item.revoked;
    await db.client.send(new PutItemCommand({ TableName: TABLE, Item: item }));
    expect((await store.lookup(record.keyHash))?.revoked).toBe(true);
    expect(() => fromItem({ key_hash: { S: "x" } })).toThrow('API key item lacks attribute "models"');
    expect(() => fromItem({ key_hash: { S: "x" }, models: { S: "*" } })).toThrow(
      'API key item lacks string attribute "name"',
    );
  });
});
