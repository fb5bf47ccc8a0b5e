import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKeysCli } from "../../../gateway/auth/cli";
import { createKeyTable, DynamoKeyStore } from "../../../gateway/auth/dynamo-store";
import { hashKey } from "../../../gateway/auth/keys";
import { authMiddleware } from "../../../gateway/auth/middleware";
import { CachedKeyStore } from "../../../gateway/auth/store";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";
import { onError } from "./harness";

const TABLE = "cli-keys";
let db: DynaliteHandle;
let store: DynamoKeyStore;

beforeAll(async () => {
  db = await startDynalite();
  store = new DynamoKeyStore(db.client, TABLE);
});
afterAll(() => db.close());

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKeysCli(argv, {
    store,
    init: () => createKeyTable(db.client, TABLE),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out, err };
}

describe("keys command", () => {
  it("inits, adds, lists and revokes", async () => {
    expect(await cli("init")).toMatchObject({ code: 0, out: ["table ready"] });
    const add = await cli("add", "ci", "--models", "ocr-det, ocr-rec", "--rps", "5", "--burst", "7");
    expect(add.code).toBe(0);
    const key = add.out[0] ?? "";
    expect(key).toMatch(/^ei_[A-Za-z0-9_-]{43}$/);
    expect(add.err[0]).toContain("it is not shown again");
    const rec = await store.lookup(hashKey(key));
    expect(rec).toMatchObject({
      name: "ci",
      models: ["ocr-det", "ocr-rec"],
      rateLimit: { rps: 5, burst: 7 },
    });

    const all = await cli("add", "all", "--models", "*");
    expect((await store.lookup(hashKey(all.out[0] ?? "")))?.rateLimit).toEqual({ rps: 10, burst: 20 });

    const list = await cli("list");
    expect(list.out).toHaveLength(2);
    expect(list.out.join("\n")).not.toContain(key);
    // Keys made in the same millisecond may list in either order.
    const ciLine = list.out.find((l) => l.startsWith("ci\t"));
    expect(ciLine).toBe(`ci\t${rec?.prefix}…\tocr-det,ocr-rec\t5/s burst 7\t${rec?.createdAt}\tactive`);
    const json = JSON.parse((await cli("list", "--json")).out[0] ?? "[]") as Array<{ name: string }>;
    expect(json.map((r) => r.name).sort()).toEqual(["all", "ci"]);

    // The printed key is accepted by the gateway's middleware, and refused once revoked.
    const app = new Hono();
    app.onError(onError);
    app.use(
      authMiddleware({ store: new CachedKeyStore(store, { ttlMs: 0, negativeTtlMs: 0 }), open: false }),
    );
    app.post("/v2/models/:model/infer", (c) => c.text("served"));
    const infer = () =>
      app.request("/v2/models/ocr-rec/infer", { method: "POST", headers: { "x-api-key": key } });
    expect((await infer()).status).toBe(200);

    expect(await cli("revoke", "ci")).toMatchObject({ code: 0, out: [`revoked ci (${rec?.prefix}…)`] });
    expect((await store.lookup(hashKey(key)))?.revoked).toBe(true);
    expect((await infer()).status).toBe(401);
    expect(await cli("revoke", "ci")).toMatchObject({
      code: 1,
      err: ['no active key named or prefixed "ci"'],
    });
  });

  it("refuses bad input with messages", async () => {
    await cli("init");
    expect((await cli("add", "x")).err[0]).toBe("add needs --models <m1,m2> or --models '*'");
    expect((await cli("add", "x", "--models", " , ")).err[0]).toBe('--models lists no model: " , "');
    expect((await cli("add", "x", "--models", "a", "--rps", "fast")).err[0]).toBe(
      '--rps must be a number, got "fast"',
    );
    expect((await cli("add", "x", "--models", "a", "--rps=-1")).err[0]).toBe(
      "rps must be a positive number, got -1",
    );
    await cli("add", "dup", "--models", "a");
    expect((await cli("add", "dup", "--models", "a")).err[0]).toBe(
      'an active key named "dup" exists; revoke it first',
    );
    const unknown = await cli("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.err[0]).toMatch(/^unknown command "frobnicate"\nusage:/);
    expect((await cli("add", "x", "--nope")).code).toBe(2);
  });

  it("runs as a script with API_KEYS_TABLE and DYNAMODB_ENDPOINT", async () => {
    await createKeyTable(db.client, "script-keys");
    const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      API_KEYS_TABLE: "script-keys",
      DYNAMODB_ENDPOINT: db.endpoint,
    };
    delete env.AWS_ACCESS_KEY_ID;
    const { stdout } = await promisify(execFile)(
      tsx,
      ["gateway/auth/keys-cli.ts", "add", "script", "--models", "m"],
      {
        env,
      },
    );
    const key = stdout.trim();
    expect(key).toMatch(/^ei_[A-Za-z0-9_-]{43}$/);
    const rec = await new DynamoKeyStore(db.client, "script-keys").lookup(hashKey(key));
    expect(rec).toMatchObject({ name: "script", models: ["m"], revoked: false });
  });
});
