/**
 * API keys end to end through the assembled gateway (config → gatewayDeps → createApp): keys made
 * and revoked with the keys command's logic in a DynamoDB table (dynalite), then requests with and
 * without them. Health stays open; nothing else is served without a valid key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../gateway/app";
import { runKeysCli } from "../../../gateway/auth/cli";
import { createKeyTable, DynamoKeyStore } from "../../../gateway/auth/dynamo-store";
import { readGatewayConfig } from "../../../gateway/config";
import { type Gateway, gatewayDeps } from "../../../gateway/deps";
import type { Backend, EngineBackend } from "../../../layers/backend";
import { EngineControl } from "../../../layers/backend/repository-control";
import { FileRepository } from "../../../layers/repository";
import { PrometheusMetrics } from "../../../layers/telemetry/prometheus";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";
import { makeTestRepository } from "../../support/models";
import { engineBackend } from "../helpers";

const TABLE = "edge-infer-keys";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let engine: EngineBackend;
let dynalite: DynaliteHandle;
let gateway: Gateway;
let app: ReturnType<typeof createApp>;

/** Runs the keys command; returns its stdout lines, failing on a non-zero exit. */
async function keys(...argv: string[]): Promise<string[]> {
  const out: string[] = [];
  const err: string[] = [];
  const store = new DynamoKeyStore(dynalite.client, TABLE);
  const code = await runKeysCli(argv, {
    store,
    init: () => createKeyTable(dynalite.client, TABLE),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  if (code !== 0) throw new Error(`keys ${argv.join(" ")} exited ${code}: ${err.join("\n")}`);
  return out;
}

async function addKey(name: string, ...flags: string[]): Promise<string> {
  const [key] = await keys("add", name, ...flags);
  if (key === undefined) throw new Error("no key printed");
  return key;
}

beforeAll(async () => {
  [repo, dynalite] = await Promise.all([makeTestRepository(), startDynalite()]);
  engine = engineBackend(repo.dir, ["add", "int64-ops"]);
  await Promise.all([engine.load("add"), engine.load("int64-ops")]);
  await keys("init");
  const config = readGatewayConfig({
    API_KEYS_TABLE: TABLE,
    DYNAMODB_ENDPOINT: dynalite.endpoint,
    API_KEY_CACHE_TTL_MS: "50", // a revoked key keeps working this long
    LOG_LEVEL: "SILENT",
  });
  const catalog = new Map<string, Backend>([
    ["add", engine],
    ["int64-ops", engine],
  ]);
  // The repository extension over the same engine, as local mode serves it.
  const repository = new EngineControl({ repo: new FileRepository(repo.dir), engine, catalog });
  gateway = gatewayDeps(config, catalog, { prometheus: new PrometheusMetrics(), repository });
  app = createApp(gateway.deps);
});

afterAll(async () => {
  await gateway?.close();
  await engine?.close();
  await dynalite?.close();
  await repo?.cleanup();
});

const body = JSON.stringify({
  inputs: [
    { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
    { name: "b", shape: [1, 4], datatype: "FP32", data: [1, 1, 1, 1] },
  ],
  outputs: [{ name: "sum" }],
});

const infer = (model: string, headers: Record<string, string> = {}) =>
  app.request(`/v2/models/${model}/infer`, { method: "POST", body, headers });

async function expectRefused(res: Response, status: number, error: string | RegExp): Promise<void> {
  expect(res.status).toBe(status);
  const json = (await res.json()) as { error: string; request_id: string };
  expect(json.error).toMatch(error);
  expect(json.request_id).toBe(res.headers.get("x-request-id"));
}

describe("API keys through the gateway", () => {
  it("says at start that keys are required", () => {
    expect(gateway.notices).toEqual([
      `auth: API keys required (DynamoDB table "${TABLE}" at ${dynalite.endpoint})`,
    ]);
  });

  it("serves health and server metadata without a key", async () => {
    expect((await app.request("/v2/health/live")).status).toBe(200);
    expect(await (await app.request("/v2/health/ready")).json()).toEqual({ ready: true });
    expect((await app.request("/v2")).status).toBe(200);
  });

  it("serves no inference, metadata or metrics without a valid key: 401 with a challenge", async () => {
    const missing = await infer("add");
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="edge-infer"');
    await expectRefused(missing, 401, /^missing API key/);
    await expectRefused(await infer("add", { authorization: "Bearer nope" }), 401, "invalid API key");
    const unknown = `ei_${"A".repeat(43)}`; // well formed, never issued
    await expectRefused(await infer("add", { "x-api-key": unknown }), 401, "invalid API key");
    await expectRefused(await app.request("/v2/models/add"), 401, /^missing API key/);
    await expectRefused(await app.request("/metrics"), 401, /^missing API key/);
    // Another scheme was sent: it is refused by name, not reported as missing.
    const basic = await infer("add", { authorization: `Basic ${btoa("user:pass")}` });
    expect(basic.headers.get("www-authenticate")).toBe('Bearer realm="edge-infer"');
    await expectRefused(
      basic,
      401,
      "Authorization scheme \"Basic\" is not accepted: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
    );
    await expectRefused(await infer("add", { authorization: "Bearer" }), 401, /^missing API key/);
  });

  it("serves the models a key allows, under either header, and 403 for the others", async () => {
    const key = await addKey("alice", "--models", "add", "--rps", "100");
    const ok = await infer("add", { authorization: `Bearer ${key}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      model_name: "add",
      outputs: [{ name: "sum", data: [3, 4, 5, 6] }],
    });
    expect((await infer("add", { "x-api-key": key })).status).toBe(200);
    await expectRefused(
      await infer("int64-ops", { authorization: `Bearer ${key}` }),
      403,
      'API key "alice" may not use model "int64-ops"',
    );
    // Statistics: the key sees its models only, and is refused another's by name.
    const stats = await app.request("/v2/models/stats", { headers: { "x-api-key": key } });
    const listed = ((await stats.json()) as { model_stats: Array<{ name: string }> }).model_stats;
    expect(new Set(listed.map((s) => s.name))).toEqual(new Set(["add"]));
    const other = await app.request("/v2/models/int64-ops/stats", { headers: { "x-api-key": key } });
    expect(other.status).toBe(403);
    const metrics = await app.request("/metrics", { headers: { "x-api-key": key } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^nv_inference_request_success\{model="add",version="2"\} 2$/m);
  });

  it("stops serving a key once it is revoked (after the key cache's TTL)", async () => {
    const key = await addKey("bob", "--models", "*");
    const auth = { authorization: `Bearer ${key}` };
    expect((await infer("int64-ops", auth)).status).toBe(400); // allowed: a bad tensor, not a 403
    expect((await infer("add", auth)).status).toBe(200);
    expect(await keys("revoke", "bob")).toEqual([expect.stringMatching(/^revoked bob \(ei_/)]);
    let res = await infer("add", auth);
    for (let i = 0; i < 100 && res.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      res = await infer("add", auth);
    }
    await expectRefused(res, 401, "API key has been revoked");
  });

  it("rate-limits a key: 429 with Retry-After once its burst is spent", async () => {
    const key = await addKey("carol", "--models", "add", "--rps", "0.5", "--burst", "2");
    const auth = { "x-api-key": key };
    expect((await infer("add", auth)).status).toBe(200);
    expect((await infer("add", auth)).status).toBe(200);
    const limited = await infer("add", auth);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await expectRefused(
      limited,
      429,
      /^rate limit exceeded: 0\.5 requests\/s with bursts of 2; retry in \d+ s$/,
    );
    // Another key has its own bucket.
    const other = await addKey("dave", "--models", "add");
    expect((await infer("add", { "x-api-key": other })).status).toBe(200);
  });

  it("lets only admin keys load and unload, each its own models; the index lists a key's models", async () => {
    const user = { "x-api-key": await addKey("erin", "--models", "add") };
    const admin = { "x-api-key": await addKey("frank", "--models", "add", "--admin") };
    const control = (action: string, model: string, headers: Record<string, string>) =>
      app.request(`/v2/repository/models/${model}/${action}`, { method: "POST", headers });
    expect(await keys("list")).toContainEqual(expect.stringMatching(/^frank\t.*\tactive, admin$/));
    await expectRefused(
      await control("unload", "add", user),
      403,
      'API key "erin" may not load or unload models: that takes a key created with --admin',
    );
    await expectRefused(
      await control("load", "int64-ops", admin),
      403,
      'API key "frank" may not use model "int64-ops"',
    );
    await expectRefused(await control("load", "add", {}), 401, /^missing API key/);
    const index = await app.request("/v2/repository/index", { method: "POST", headers: user });
    const rows = (await index.json()) as Array<{ name: string }>;
    expect(new Set(rows.map((r) => r.name))).toEqual(new Set(["add"]));
    expect((await control("unload", "add", admin)).status).toBe(200);
    expect((await infer("add", admin)).status).toBe(404);
    expect((await control("load", "add", admin)).status).toBe(200);
    expect((await infer("add", admin)).status).toBe(200);
  });
});
