/**
 * L2: a DynamoDB table shared by every gateway instance. Item: `pk` (S, the key), `v` (B, the
 * encoded result, gzipped when `z` is true) and `expires_at` (N, epoch seconds), the table's TTL
 * attribute. DynamoDB deletes expired items late (up to days), so expiry is checked on read.
 */
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { type CacheEntry, CacheItemTooLarge, type CacheStore, type Clock, systemClock } from "./types";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** DynamoDB's item limit is 400 KB including attribute names; this leaves room for pk, expires_at and z. */
export const MAX_STORED_VALUE_BYTES = 390 * 1024;

/** Options of DynamoCacheStore. */
export interface DynamoCacheStoreOptions {
  client: DynamoDBClient;
  table: string;
  /** Values above this are gzipped (and not cached when still above MAX_STORED_VALUE_BYTES). @default MAX_STORED_VALUE_BYTES */
  compressAboveBytes?: number;
  /** Milliseconds clock. @default Date.now */
  now?: Clock;
}

/**
 * A CacheStore over one DynamoDB table. Errors (network, throttling, abort) are thrown: the tier in
 * front decides to count them and serve a miss. `set` throws CacheItemTooLarge for oversize values.
 */
export class DynamoCacheStore implements CacheStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly compressAbove: number;
  private readonly now: Clock;

  constructor(options: DynamoCacheStoreOptions) {
    this.client = options.client;
    this.table = options.table;
    this.compressAbove = Math.min(
      options.compressAboveBytes ?? MAX_STORED_VALUE_BYTES,
      MAX_STORED_VALUE_BYTES,
    );
    this.now = options.now ?? systemClock;
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return (await this.getEntry(key, signal))?.value;
  }

  async getEntry(key: string, signal?: AbortSignal): Promise<CacheEntry | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { pk: { S: key } },
        ConsistentRead: false,
      }),
      signal ? { abortSignal: signal } : {},
    );
    const item = out.Item;
    const value = item?.v?.B;
    const expiresAt = Number(item?.expires_at?.N);
    if (value === undefined || !(expiresAt * 1000 > this.now())) return undefined;
    let plain = value;
    if (item?.z?.BOOL === true) {
      const buf = await gunzipAsync(value);
      // A plain Uint8Array view: callers compare and slice it as one, not as a Buffer.
      plain = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return { value: plain, expiresAt: expiresAt * 1000 };
  }

  async set(key: string, value: Uint8Array, ttlSeconds: number, signal?: AbortSignal): Promise<void> {
    if (ttlSeconds <= 0) return;
    let stored: Uint8Array = value;
    let compressed = false;
    if (value.byteLength > this.compressAbove) {
      const z = await gzipAsync(value);
      if (z.byteLength < value.byteLength) {
        stored = z;
        compressed = true;
      }
    }
    if (stored.byteLength > MAX_STORED_VALUE_BYTES) {
      throw new CacheItemTooLarge(stored.byteLength, MAX_STORED_VALUE_BYTES);
    }
    const expiresAt = Math.ceil(this.now() / 1000 + ttlSeconds);
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          pk: { S: key },
          v: { B: stored },
          expires_at: { N: String(expiresAt) },
          ...(compressed ? { z: { BOOL: true } } : {}),
        },
      }),
      signal ? { abortSignal: signal } : {},
    );
  }
}
