/**
 * The model function's esbuild bundle, loaded in a fresh Node process and invoked with real
 * transport events and a Lambda-shaped context, its models read from s3rver.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Tensor } from "../../../layers/protocol/types";
import {
  inferEvent,
  inferResultOf,
  parseTransportResult,
  type TransportResult,
} from "../../../layers/transport";
import { type BundledLambda, startBundledLambda } from "../../support/server";
import { buildBundles, type S3Models, s3Models } from "./fixtures";

const fp32 = (name: string, values: number[]): Tensor => ({
  name,
  datatype: "FP32",
  shape: [values.length / 4, 4],
  data: new Float32Array(values),
});
const A = [1, 2, 3, 4, 10, 20, 30, 40];
const B = [0.5, 0.25, -1, 8, 1, 2, 3, 4];

let bundles: Awaited<ReturnType<typeof buildBundles>>;
let models: S3Models;
let cacheDir: string;
const started: BundledLambda[] = [];

async function startFunction(env: Record<string, string>): Promise<BundledLambda> {
  const fn = await startBundledLambda(bundles.files["model-function"], {
    functionName: env.MODEL_NAME ?? "unnamed",
    env: { PATH: process.env.PATH, MODEL_CACHE_DIR: cacheDir, LOG_LEVEL: "ERROR", ...models.env, ...env },
  });
  started.push(fn);
  return fn;
}

async function invoke(fn: BundledLambda, event: unknown): Promise<TransportResult> {
  const r = await fn.invoke(event);
  if (!r.ok) throw new Error(`handler failed: ${r.error.errorType}: ${r.error.errorMessage}`);
  return parseTransportResult(r.payload, fn.functionName);
}

let add: BundledLambda;

beforeAll(async () => {
  [bundles, models, cacheDir] = await Promise.all([
    buildBundles(["model-function"]),
    s3Models(["add", "broken"]),
    mkdtemp(join(tmpdir(), "model-cache-")),
  ]);
  add = await startFunction({ MODEL_NAME: "add", MODEL_VERSION: "1", MODEL_REPOSITORY: models.uri });
});

afterAll(async () => {
  await Promise.all(started.map((f) => f.close()));
  await models?.close();
  await bundles?.cleanup();
  await rm(cacheDir, { recursive: true, force: true });
});

describe("model function bundle on Lambda", () => {
  it("loads its live version from S3 during init, so the first event finds it ready", async () => {
    expect(add.invocations).toBe(0);
    expect(await invoke(add, { action: "ready", model: "add" })).toEqual({
      ok: true,
      action: "ready",
      ready: true,
    });
  });

  it("runs an infer event on the live version, tensors crossing as base64 binary", async () => {
    const result = await invoke(add, inferEvent("add", undefined, { inputs: [fp32("a", A), fp32("b", B)] }));
    expect(result).toMatchObject({ ok: true, action: "infer", version: "1" });
    const { version, outputs } = inferResultOf(result, "add");
    expect(version).toBe("1");
    const sum = outputs.find((o) => o.name === "sum");
    expect(sum?.shape).toEqual([2, 4]);
    expect(Array.from(sum?.data as Float32Array)).toEqual(A.map((a, i) => a + (B[i] ?? 0)));
  });

  it("loads a pinned version on demand and names it in the answer", async () => {
    const event = inferEvent("add", 2, {
      inputs: [fp32("a", A), fp32("b", B)],
      outputs: [{ name: "sum" }],
    });
    const { version, outputs } = inferResultOf(await invoke(add, event), "add");
    expect(version).toBe("2");
    expect(outputs.map((o) => o.name)).toEqual(["sum"]);
    expect(Array.from(outputs[0]?.data as Float32Array)).toEqual(A.map((a, i) => a + (B[i] ?? 0) + 1));
  });

  it("accepts the JSON infer request itself in the event", async () => {
    const request = {
      id: "console-1",
      inputs: [
        { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
        { name: "b", shape: [1, 4], datatype: "FP32", data: [[4, 3, 2, 1]] },
      ],
    };
    const { outputs } = inferResultOf(await invoke(add, { action: "infer", model: "add", request }), "add");
    expect(Array.from(outputs.find((o) => o.name === "diff")?.data as Float32Array)).toEqual([-3, -1, 1, 3]);
  });

  it("describes the live version: signature with the batch dimension, and config", async () => {
    const result = await invoke(add, { action: "metadata", model: "add" });
    if (!result.ok || result.action !== "metadata") throw new Error("expected metadata");
    expect(result.version).toBe("1");
    expect(result.description.metadata.inputs).toEqual([
      { name: "a", datatype: "FP32", shape: [-1, 4] },
      { name: "b", datatype: "FP32", shape: [-1, 4] },
    ]);
    expect(result.description.config.max_batch_size).toBe(8);
  });

  it("answers domain errors as kind + message instead of failing the invocation", async () => {
    const bad = inferEvent("add", undefined, {
      inputs: [
        { name: "a", datatype: "FP32", shape: [1, 3], data: new Float32Array(3) },
        fp32("b", [1, 2, 3, 4]),
      ],
    });
    const invalid = await invoke(add, bad);
    expect(invalid).toMatchObject({ ok: false, kind: "invalid_input" });
    expect(!invalid.ok && invalid.error).toContain("input 'a'");

    expect(await invoke(add, { action: "ready", model: "other" })).toMatchObject({
      ok: false,
      kind: "model_not_found",
      error: 'unknown model "other"',
    });
    expect(await invoke(add, { action: "metadata", model: "add", version: "9" })).toMatchObject({
      ok: false,
      kind: "model_not_found",
    });
    expect(await invoke(add, { action: "metadata", model: "add", version: "v1" })).toMatchObject({
      ok: false,
      kind: "invalid_input",
      error: 'model version must be a positive integer, received "v1"',
    });
    expect(await invoke(add, { action: "explode", model: "add" })).toMatchObject({
      ok: false,
      kind: "invalid_input",
    });
  });

  it("fails the invocations for a corrupt live version (no MODEL_VERSION: the highest), and keeps running", async () => {
    const broken = await startFunction({ MODEL_NAME: "broken", MODEL_REPOSITORY: models.uri });
    const events = [
      { action: "ready", model: "broken" },
      {
        action: "infer",
        model: "broken",
        request: { inputs: [{ name: "x", shape: [1], datatype: "FP32", data: [1] }] },
      },
    ];
    for (const event of events) {
      const r = await broken.invoke(event);
      expect(r).toMatchObject({ ok: false, error: { errorType: "model_not_ready" } });
    }
    // Not this function's model: the caller's fault, answered.
    expect(await invoke(broken, { action: "ready", model: "add" })).toMatchObject({
      kind: "model_not_found",
    });
  });

  it("fails its init when a required variable is missing, naming it", async () => {
    const misconfigured = await startFunction({ MODEL_NAME: "add" });
    const r = await misconfigured.invoke({ action: "ready", model: "add" });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.errorMessage).toBe(
      "MODEL_REPOSITORY: required (s3://bucket/prefix or file:///path)",
    );
  });
});
