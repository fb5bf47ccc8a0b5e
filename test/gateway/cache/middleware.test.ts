/**
 * The result cache on the serving path, end to end through the assembled gateway (config →
 * gatewayDeps → createApp) over real engines and a DynamoDB table in dynalite: hits and misses,
 * JSON/binary key equality, TTL expiry, oversized results, Cache-Control, per-model switch, a store
 * that goes down mid-run, and single flight.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../gateway/app";
import { readGatewayConfig } from "../../../gateway/config";
import { type Gateway, gatewayDeps } from "../../../gateway/deps";
import type { EngineBackend } from "../../../layers/backend";
import { decodeInferResponse, encodeInferRequest } from "../../../layers/protocol";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";
import { addConfig, addModel, buildModel, modelConfig, writeModelDir } from "../../support/models";
import { CountingBackend, engineBackend } from "../helpers";

const flat = (name: string) => ({ name, datatype: "FP32" as const, shape: [-1] });

let dir: string;
let engine: EngineBackend;
let dynalite: DynaliteHandle;
const backends = new Map<string, CountingBackend>();
const gateways: Gateway[] = [];
/** The caches' clock: real time plus what a test skips ahead. */
let skewMs = 0;
const clock = () => Date.now() + skewMs;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-infer-cache-"));
  const cachedAdd = (name: string, enabled: boolean) => ({
    ...addConfig(name),
    cache: { enabled, ttl_seconds: 60 },
  });
  await writeModelDir(dir, "add", cachedAdd("add", true), { 1: addModel(1) });
  await writeModelDir(dir, "nocache", cachedAdd("nocache", false), { 1: addModel(1) });
  const identity = buildModel({
    inputs: [{ name: "x", datatype: "FP32", dims: ["n"] }],
    outputs: [{ name: "y", datatype: "FP32", dims: ["n"] }],
    nodes: [{ op: "Identity", inputs: ["x"], outputs: ["y"] }],
  });
  await writeModelDir(
    dir,
    "ident",
    {
      ...modelConfig("ident", { inputs: [flat("x")], outputs: [flat("y")] }),
      cache: { enabled: true, ttl_seconds: 60 },
    },
    { 1: identity },
  );
  engine = engineBackend(dir, ["add", "nocache", "ident"]);
  for (const m of ["add", "nocache", "ident"]) backends.set(m, new CountingBackend(engine));
  dynalite = await startDynalite();
});

afterAll(async () => {
  for (const g of gateways) await g.close();
  await dynalite?.close();
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A gateway instance of its own (its own L1) on the shared table. */
function instance() {
  const config = readGatewayConfig({
    CACHE_TABLE: dynalite.table,
    DYNAMODB_ENDPOINT: dynalite.endpoint,
    // Generous: dynalite on a busy test machine is slower than DynamoDB.
    CACHE_TIMEOUT_MS: "2000",
    LOG_LEVEL: "SILENT",
  });
  const gateway = gatewayDeps(config, backends, { cache: { now: clock } });
  gateways.push(gateway);
  return { gateway, app: createApp(gateway.deps) };
}

const infers = (model: string) => backends.get(model)?.calls.infer ?? 0;

let seed = 0;
/** Inputs no other test uses, so each test starts from an empty cache. */
function fresh(): { a: number[]; b: number[] } {
  seed++;
  return { a: [seed, seed + 0.5, -seed, 3], b: [1, 2, 3, seed] };
}

function jsonBody(x: { a: number[]; b: number[] }): string {
  return JSON.stringify({
    inputs: [
      { name: "a", shape: [1, 4], datatype: "FP32", data: x.a },
      { name: "b", shape: [1, 4], datatype: "FP32", data: x.b },
    ],
  });
}

type App = ReturnType<typeof createApp>;
interface Answer {
  status: number;
  cache: string | null;
  outputs: Record<string, number[]>;
}

async function read(res: Response): Promise<Answer> {
  const length = res.headers.get("inference-header-content-length");
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`status ${res.status}: ${new TextDecoder().decode(bytes)}`);
  const decoded = decodeInferResponse(bytes, length === null ? undefined : Number(length));
  const outputs = Object.fromEntries(
    decoded.outputs.map((o) => [o.name, Array.from(o.data as Float32Array)]),
  ) as Record<string, number[]>;
  return { status: res.status, cache: res.headers.get("x-cache"), outputs };
}

const post = (app: App, model: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
  app.request(`/v2/models/${model}/infer`, { method: "POST", body: body as RequestInit["body"], headers });

async function inferAdd(app: App, x: { a: number[]; b: number[] }, headers: Record<string, string> = {}) {
  return read(await post(app, "add", jsonBody(x), headers));
}

/** What `add` v1 (offset 1) answers, rounded like float32. */
function expected(x: { a: number[]; b: number[] }) {
  const f32 = (v: number[]) => Array.from(new Float32Array(v));
  return {
    sum: f32(x.a.map((v, i) => Math.fround(Math.fround(v + (x.b[i] ?? 0)) + 1))),
    diff: f32(x.a.map((v, i) => v - (x.b[i] ?? 0))),
  };
}

describe("result cache through the gateway", () => {
  it("misses, then hits with identical outputs, in this instance (L1) and another (DynamoDB)", async () => {
    const one = instance();
    const x = fresh();
    const before = infers("add");
    const miss = await inferAdd(one.app, x);
    expect(miss.cache).toBe("MISS");
    expect(miss.outputs).toEqual(expected(x));
    const hit = await inferAdd(one.app, x);
    expect(hit).toEqual({ ...miss, cache: "HIT" });
    await one.gateway.cache.flush(); // the DynamoDB write happens in the background
    const two = instance();
    const shared = await inferAdd(two.app, x);
    expect(shared).toEqual({ ...miss, cache: "HIT" });
    expect(two.gateway.cache.stats()).toMatchObject({ hits_l1: 0, hits_l2: 1 });
    expect(infers("add") - before).toBe(1);
  });

  it("serves a binary request from the entry its JSON twin stored, and vice versa", async () => {
    const { app, gateway } = instance();
    const x = fresh();
    const before = infers("add");
    const json = await inferAdd(app, x);
    expect(json.cache).toBe("MISS");
    const encoded = encodeInferRequest(
      {
        inputs: [
          { name: "b", datatype: "FP32", shape: [1, 4], data: new Float32Array(x.b) },
          { name: "a", datatype: "FP32", shape: [1, 4], data: new Float32Array(x.a) },
        ],
        parameters: { binary_data_output: true },
      },
      { binary: true },
    );
    const res = await post(app, "add", encoded.body, {
      "Inference-Header-Content-Length": String(encoded.headerLength),
    });
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    const binary = await read(res);
    expect(binary).toEqual({ ...json, cache: "HIT" });
    expect(infers("add") - before).toBe(1);
    expect(gateway.cache.stats().hits_l1).toBe(1);
  });

  it("expires entries after the model's ttl_seconds, in memory and in DynamoDB", async () => {
    const one = instance();
    const x = fresh();
    const before = infers("add");
    expect((await inferAdd(one.app, x)).cache).toBe("MISS");
    await one.gateway.cache.flush();
    expect((await inferAdd(instance().app, x)).cache).toBe("HIT");
    skewMs += 61_000; // add's ttl_seconds is 60
    try {
      expect((await inferAdd(one.app, x)).cache).toBe("MISS");
      // A fresh instance reads the expired DynamoDB item (not deleted yet) and must refuse it.
      const late = instance();
      const again = await inferAdd(late.app, x);
      expect(again.cache).toBe("MISS");
      expect(again.outputs).toEqual(expected(x));
      expect(infers("add") - before).toBe(3);
    } finally {
      skewMs -= 61_000;
    }
  });

  it("keeps a result too large for a DynamoDB item in L1 only, and still answers it", async () => {
    const one = instance();
    // 120k random floats: 480 KB that gzip cannot squeeze under the 390 KiB item budget.
    const data = new Float32Array(120_000).map(() => Math.random() * 1e6 - 5e5);
    const encoded = encodeInferRequest(
      {
        inputs: [{ name: "x", datatype: "FP32", shape: [data.length], data }],
        parameters: { binary_data_output: true },
      },
      { binary: true },
    );
    const send = (app: App) =>
      post(app, "ident", encoded.body, { "Inference-Header-Content-Length": String(encoded.headerLength) });
    const first = await read(await send(one.app));
    expect(first.cache).toBe("MISS");
    expect(first.outputs.y).toEqual(Array.from(data));
    await one.gateway.cache.flush();
    expect(one.gateway.cache.stats()).toMatchObject({ skipped_oversize: 1, errors: 0 });
    const local = await read(await send(one.app));
    expect(local.cache).toBe("HIT");
    expect(local.outputs.y).toEqual(Array.from(data));
    const other = await read(await send(instance().app));
    expect(other.cache).toBe("MISS");
    expect(infers("ident")).toBe(2);
  });

  it("honours Cache-Control: no-cache skips the lookup but stores, no-store skips the write", async () => {
    const { app } = instance();
    const x = fresh();
    const before = infers("add");
    expect((await inferAdd(app, x)).cache).toBe("MISS");
    const noCache = await inferAdd(app, x, { "Cache-Control": "no-cache" });
    expect(noCache.cache).toBe("BYPASS");
    expect(noCache.outputs).toEqual(expected(x));
    expect(infers("add") - before).toBe(2);
    // Still cached, and a no-store request may be served a hit.
    expect((await inferAdd(app, x, { "Cache-Control": "max-age=0, no-store" })).cache).toBe("HIT");

    const y = fresh();
    expect((await inferAdd(app, y, { "Cache-Control": "no-store" })).cache).toBe("BYPASS");
    expect((await inferAdd(app, y)).cache).toBe("MISS");
    expect((await inferAdd(app, y, { "Cache-Control": "no-cache, no-store" })).cache).toBe("BYPASS");
    expect(infers("add") - before).toBe(5);
  });

  it("bypasses the cache for a model whose config.json disables it", async () => {
    const { app, gateway } = instance();
    const x = fresh();
    const before = infers("nocache");
    for (let i = 0; i < 3; i++) {
      const res = await read(await post(app, "nocache", jsonBody(x)));
      expect(res).toEqual({ status: 200, cache: "BYPASS", outputs: expected(x) });
    }
    expect(infers("nocache") - before).toBe(3);
    expect(gateway.cache.stats()).toMatchObject({ hits_l1: 0, hits_l2: 0, misses: 0 });
  });

  it("runs the model once for identical requests in flight together (single flight)", async () => {
    const { app } = instance();
    const x = fresh();
    const before = infers("add");
    const answers = await Promise.all(Array.from({ length: 8 }, () => inferAdd(app, x)));
    expect(infers("add") - before).toBe(1);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.outputs).toEqual(expected(x));
    }
  });

  it("finishes a shared flight for the others when the client that started it goes away", async () => {
    // A backend that honours its abort signal, as a remote one does, and answers when told to.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let started = 0;
    const inner = backends.get("add");
    if (inner === undefined) throw new Error("no add backend");
    const abortable: typeof inner = Object.assign(Object.create(inner) as typeof inner, {
      infer: async (...args: Parameters<typeof inner.infer>) => {
        started++;
        const signal = args[3];
        await Promise.race([
          gate,
          new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
        ]);
        return inner.infer(...args);
      },
    });
    const config = readGatewayConfig({ LOG_LEVEL: "SILENT" });
    const gateway = gatewayDeps(config, new Map([["add", abortable]]));
    gateways.push(gateway);
    const app = createApp(gateway.deps);
    const x = fresh();
    const leaving = new AbortController();
    const leader = app.request("/v2/models/add/infer", {
      method: "POST",
      body: jsonBody(x),
      signal: leaving.signal,
    });
    for (let i = 0; i < 200 && started === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const followers = Array.from({ length: 3 }, () => inferAdd(app, x));
    await new Promise((r) => setTimeout(r, 20));
    leaving.abort(new Error("client went away"));
    release();
    for (const answer of await Promise.all(followers)) {
      expect(answer).toEqual({ status: 200, cache: "MISS", outputs: expected(x) });
    }
    await Promise.resolve(leader).catch(() => undefined);
    expect(started).toBe(1);
  });

  it("answers every request right while DynamoDB goes down mid-run, and counts the failures", async () => {
    const { app, gateway } = instance();
    const inputs = Array.from({ length: 12 }, () => fresh());
    const answers: Answer[] = [];
    try {
      for (const [i, x] of inputs.entries()) {
        if (i === 4) await dynalite.stop();
        answers.push(await inferAdd(app, x));
        answers.push(await inferAdd(app, x)); // L1 still answers repeats
      }
    } finally {
      await dynalite.start();
    }
    expect(answers.map((a) => a.status)).toEqual(new Array(24).fill(200));
    for (const [i, x] of inputs.entries()) {
      expect(answers[2 * i]).toEqual({ status: 200, cache: "MISS", outputs: expected(x) });
      expect(answers[2 * i + 1]).toEqual({ status: 200, cache: "HIT", outputs: expected(x) });
    }
    await gateway.cache.flush();
    const stats = gateway.cache.stats();
    expect(stats.errors + stats.timeouts + stats.short_circuited).toBeGreaterThan(0);
  });
});
