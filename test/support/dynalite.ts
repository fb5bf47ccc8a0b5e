/**
 * Test helper: dynalite (a DynamoDB implementation on LevelDB) on loopback with the cache table
 * created, and DynamoDB clients for it. Data lives in a temp dir, so `stop()` then `start()` is an
 * outage of the same database on the same port, as a real outage would be.
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";

type DynaliteFactory = (options: { path?: string; createTableMs?: number; deleteTableMs?: number }) => Server;

const require = createRequire(import.meta.url);

/** A running (or stopped) dynalite. */
export interface DynaliteHandle {
  /** `http://127.0.0.1:<port>`; the same across stop/start. */
  endpoint: string;
  /** The table created at start, partition key `pk` (S). */
  table: string;
  /** A client for `endpoint` (fixed credentials). */
  client: DynamoDBClient;
  /** Builds another client for this server, e.g. with `maxAttempts: 1`. */
  makeClient(extra?: Partial<DynamoDBClientConfig>): DynamoDBClient;
  /** Stops listening and drops open connections; data is kept. */
  stop(): Promise<void>;
  /** Listens again on the same port, with the same data. */
  start(): Promise<void>;
  /** Stops the server, destroys the clients and deletes the data. */
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Requests in flight may finish within this; then their sockets are cut. */
const SHUTDOWN_GRACE_MS = 2_000;

function shutdown(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    // Cutting a request mid-way would make dynalite touch its closed database and throw.
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    server.close((err) => {
      clearTimeout(force);
      if (err) reject(err);
      else resolve();
    });
    // The SDK's idle keep-alive sockets would otherwise hold close() open.
    server.closeIdleConnections();
  });
}

/** Starts dynalite on 127.0.0.1:<free port> and creates `table` (partition key `pk`, string). */
export async function startDynalite(table = "edge-infer-cache"): Promise<DynaliteHandle> {
  const dynalite = require("dynalite") as DynaliteFactory;
  const path = await mkdtemp(join(tmpdir(), "dynalite-"));
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0 });
  const port = await listen(server, 0);
  const endpoint = `http://127.0.0.1:${port}`;
  let running = true;
  const clients: DynamoDBClient[] = [];
  const makeClient = (extra: Partial<DynamoDBClientConfig> = {}): DynamoDBClient => {
    const c = new DynamoDBClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "dynalite", secretAccessKey: "dynalite" },
      ...extra,
    });
    clients.push(c);
    return c;
  };
  const client = makeClient();
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  const handle: DynaliteHandle = {
    endpoint,
    table,
    client,
    makeClient,
    async stop() {
      if (!running) return;
      running = false;
      await shutdown(server);
    },
    async start() {
      if (running) return;
      await listen(server, port);
      running = true;
    },
    async close() {
      await handle.stop();
      for (const c of clients) c.destroy();
      await rm(path, { recursive: true, force: true });
    },
  };
  return handle;
}
