import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyTable, DynamoKeyStore } from "../../../gateway/auth/dynamo-store";
import { newKeyRecord } from "../../../gateway/auth/keys";
import { type AuthEnv, authMiddleware } from "../../../gateway/auth/middleware";
import { CachedKeyStore, type KeyStore } from "../../../gateway/auth/store";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";
import { onError } from "./harness";

const TABLE = "api-keys";
let db: DynaliteHandle;
let clock = 0;
let backing: DynamoKeyStore;
let cached: CachedKeyStore;

/** An app with the auth middleware and routes that echo which key got through. */
function appWith(store: KeyStore | undefined, open = false) {
  const app = new Hono<AuthEnv>();
  app.onError(onError);
  app.use(authMiddleware({ store, open }));
  app.get("/v2", (c) => c.json({ name: "edge-infer" }));
  app.get("/v2/health/ready", (c) => c.text("ready"));
  app.post("/v2/models/:model/infer", (c) =>
    c.json({ model: c.req.param("model"), key: c.get("apiKey")?.name ?? null }),
  );
  app.post("/v2/models/:model/versions/:v/infer", (c) => c.json({ key: c.get("apiKey")?.name ?? null }));
  return app;
}

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: string }).error;
}

beforeAll(async () => {
  db = await startDynalite();
  await createKeyTable(db.client, TABLE);
  backing = new DynamoKeyStore(db.client, TABLE);
  cached = new CachedKeyStore(backing, { ttlMs: 1_000, negativeTtlMs: 100, now: () => clock });
});
afterAll(() => db.close());

describe("authMiddleware with keys in DynamoDB", () => {
  it("serves a valid key, by Bearer and by x-api-key, and puts its record on the context", async () => {
    const { key, record } = newKeyRecord({
      name: "ci",
      models: ["ocr-det"],
      rateLimit: { rps: 1, burst: 1 },
    });
    await backing.put(record);
    const app = appWith(cached);
    const bearer = await app.request("/v2/models/ocr-det/infer", {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
    });
    expect(bearer.status).toBe(200);
    expect(await bearer.json()).toEqual({ model: "ocr-det", key: "ci" });
    const xApiKey = await app.request("/v2/models/ocr-det/versions/2/infer", {
      method: "POST",
      headers: { "x-api-key": key },
    });
    expect(xApiKey.status).toBe(200);
    expect(await xApiKey.json()).toEqual({ key: "ci" });
  });

  it("answers 401 with a Bearer challenge for a missing, malformed or unknown key", async () => {
    const app = appWith(cached);
    const missing = await app.request("/v2/models/ocr-det/infer", { method: "POST" });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await errorOf(missing)).toContain("missing API key");

    const unknown = newKeyRecord({ name: "never-stored", models: "*", rateLimit: { rps: 1, burst: 1 } }).key;
    for (const bad of [unknown, "ei_short", "not-a-key"]) {
      const res = await app.request("/v2/models/ocr-det/infer", {
        method: "POST",
        headers: { authorization: `Bearer ${bad}` },
      });
      expect(res.status, bad).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await errorOf(res)).toBe("invalid API key");
    }
    const basic = await app.request("/v2/models/ocr-det/infer", {
      method: "POST",
      headers: { authorization: "Basic dXNlcjpwdw==" },
    });
    expect(basic.status).toBe(401);
  });

  it("answers 403 for a model the key may not use, naming key and model", async () => {
    const { key, record } = newKeyRecord({
      name: "det-only",
      models: ["ocr-det"],
      rateLimit: { rps: 1, burst: 1 },
    });
    await backing.put(record);
    const res = await appWith(cached).request("/v2/models/ocr-rec/infer", {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toBe('API key "det-only" may not use model "ocr-rec"');
  });

  it("leaves server metadata and health open", async () => {
    const app = appWith(cached);
    expect((await app.request("/v2")).status).toBe(200);
    expect((await app.request("/v2/health/ready")).status).toBe(200);
  });

  it("stops a revoked key once the cache TTL has passed", async () => {
    const { key, record } = newKeyRecord({ name: "to-revoke", models: "*", rateLimit: { rps: 1, burst: 1 } });
    await backing.put(record);
    const app = appWith(cached);
    const call = () =>
      app.request("/v2/models/any/infer", { method: "POST", headers: { authorization: `Bearer ${key}` } });
    expect((await call()).status).toBe(200);
    // Revoked elsewhere (the CLI writes to the table, not to this instance's cache).
    expect((await backing.revoke("to-revoke")).length).toBe(1);
    expect((await call()).status).toBe(200); // within the TTL
    clock += 1_000;
    const after = await call();
    expect(after.status).toBe(401);
    expect(await errorOf(after)).toBe("API key has been revoked");
  });

  it("fails closed with a 503 + Retry-After saying the key store is unavailable when DynamoDB is down", async () => {
    const client = db.makeClient({ maxAttempts: 1 });
    const store = new CachedKeyStore(new DynamoKeyStore(client, TABLE));
    const { key, record } = newKeyRecord({ name: "outage", models: "*", rateLimit: { rps: 1, burst: 1 } });
    await backing.put(record);
    await db.stop();
    try {
      const res = await appWith(store).request("/v2/models/any/infer", {
        method: "POST",
        headers: { "x-api-key": key },
      });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      const message = await errorOf(res);
      // The real error mapper: a 5xx names what failed and the request id, never the cause.
      expect(message).toBe("the API key store is unavailable; retry later (request id -)");
      expect(message).not.toContain(TABLE);
    } finally {
      await db.start();
    }
    const res = await appWith(store).request("/v2/models/any/infer", {
      method: "POST",
      headers: { "x-api-key": key },
    });
    expect(res.status).toBe(200);
  });
});

describe("authMiddleware in open mode", () => {
  it("lets every request through without a key or a store", async () => {
    const res = await appWith(undefined, true).request("/v2/models/any/infer", { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ model: "any", key: null });
  });

  it("refuses keys mode without a store", () => {
    expect(() => authMiddleware({ open: false })).toThrow("keys mode needs a store");
  });
});
