/**
 * KeyStore on DynamoDB. One item per key, partition key `key_hash` (S): a request costs one
 * GetItem (and far fewer behind CachedKeyStore). list/revoke scan: they are admin operations.
 */

import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ResourceInUseException,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { localEndpointCredentials } from "../../layers/config/local-credentials";
import type { KeyRecord } from "./keys";
import { type KeyStore, matchesKey } from "./store";

type Item = Record<string, AttributeValue>;

/** Serialises a record into a DynamoDB item. */
export function toItem(rec: KeyRecord): Item {
  return {
    key_hash: { S: rec.keyHash },
    name: { S: rec.name },
    key_prefix: { S: rec.prefix },
    models: rec.models === "*" ? { S: "*" } : { L: rec.models.map((m) => ({ S: m })) },
    rps: { N: String(rec.rateLimit.rps) },
    burst: { N: String(rec.rateLimit.burst) },
    created_at: { S: rec.createdAt },
    revoked: { BOOL: rec.revoked },
    ...(rec.admin === true ? { admin: { BOOL: true } } : {}),
  };
}

/** Reads an item back; an item missing a field is refused rather than half-trusted. */
export function fromItem(item: Item): KeyRecord {
  const s = (field: string): string => {
    const v = item[field]?.S;
    if (v === undefined) throw new TypeError(`API key item lacks string attribute "${field}"`);
    return v;
  };
  const n = (field: string): number => {
    const v = Number(item[field]?.N);
    if (!Number.isFinite(v)) throw new TypeError(`API key item lacks number attribute "${field}"`);
    return v;
  };
  const modelsAttr = item.models;
  let models: string[] | "*";
  if (modelsAttr?.S === "*") models = "*";
  else if (modelsAttr?.L !== undefined)
    models = modelsAttr.L.flatMap((v) => (v.S === undefined ? [] : [v.S]));
  else throw new TypeError('API key item lacks attribute "models"');
  return {
    keyHash: s("key_hash"),
    name: s("name"),
    prefix: s("key_prefix"),
    models,
    rateLimit: { rps: n("rps"), burst: n("burst") },
    createdAt: s("created_at"),
    // Anything but an explicit false counts as revoked: fail closed on a damaged item.
    revoked: item.revoked?.BOOL !== false,
    // Only an explicit true grants it: a damaged or older item is not an admin.
    ...(item.admin?.BOOL === true ? { admin: true } : {}),
  };
}

/** A KeyStore in a DynamoDB table with partition key `key_hash` (S). */
export class DynamoKeyStore implements KeyStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(client: DynamoDBClient, table: string) {
    this.#client = client;
    this.#table = table;
  }

  async lookup(hash: string): Promise<KeyRecord | undefined> {
    const out = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: { key_hash: { S: hash } }, ConsistentRead: true }),
    );
    return out.Item === undefined ? undefined : fromItem(out.Item);
  }

  async put(record: KeyRecord): Promise<void> {
    await this.#client.send(new PutItemCommand({ TableName: this.#table, Item: toItem(record) }));
  }

  async list(): Promise<KeyRecord[]> {
    const records: KeyRecord[] = [];
    let start: Item | undefined;
    do {
      const out = await this.#client.send(
        new ScanCommand({ TableName: this.#table, ExclusiveStartKey: start }),
      );
      for (const item of out.Items ?? []) records.push(fromItem(item));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return records;
  }

  async revoke(nameOrPrefix: string): Promise<KeyRecord[]> {
    const revoked: KeyRecord[] = [];
    for (const rec of await this.list()) {
      if (rec.revoked || !matchesKey(rec, nameOrPrefix)) continue;
      try {
        await this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: { key_hash: { S: rec.keyHash } },
            UpdateExpression: "SET revoked = :t",
            ConditionExpression: "attribute_exists(key_hash)",
            ExpressionAttributeValues: { ":t": { BOOL: true } },
          }),
        );
        revoked.push({ ...rec, revoked: true });
      } catch (e) {
        // Deleted between scan and update: nothing left to revoke.
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      }
    }
    return revoked;
  }
}

/**
 * Creates the key table (on-demand billing) unless it exists, and waits until it is ACTIVE: a new
 * table refuses reads and writes until then. For local DynamoDB and tests; CDK owns it in AWS.
 */
export async function createKeyTable(
  client: DynamoDBClient,
  table: string,
  timeoutMs = 60_000,
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: "key_hash", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "key_hash", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await client.send(new DescribeTableCommand({ TableName: table }));
    if (out.Table?.TableStatus === "ACTIVE") return;
    if (Date.now() > deadline) throw new Error(`table "${table}" is not ACTIVE after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A DynamoDB client for the key table: `endpoint` (DYNAMODB_ENDPOINT) points it at a local DynamoDB,
 * which gets placeholder credentials unless the environment names its own.
 */
export function keyStoreClient(endpoint: string | undefined, region: string | undefined): DynamoDBClient {
  if (endpoint === undefined || endpoint === "") return new DynamoDBClient({});
  return new DynamoDBClient({
    endpoint,
    region: region ?? "us-east-1",
    ...localEndpointCredentials(endpoint),
  });
}
