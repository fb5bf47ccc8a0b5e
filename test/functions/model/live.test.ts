/**
 * Release safety of the model function's esbuild bundle, its repository on s3rver: a failure of
 * its live version (MODEL_VERSION) fails the invocation, so Lambda's Errors metric and the rollback
 * alarms see it; a client's fault and a failure of a pinned other version stay answers; an ONNX
 * Runtime run failure is a 400 without ORT's text, counted in the run metrics (EMF on stdout).
 * The gateway, through the AWS SDK and a local Invoke API, still answers with the documented status.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../../gateway/app";
import { remoteCatalog } from "../../../gateway/deps";
import type { Tensor } from "../../../layers/protocol/types";
import { inferEvent, parseTransportResult } from "../../../layers/transport";
import { type AwsApi, localLambdaClient, startLambdaApi } from "../../support/aws-apis";
import {
  broadcastAddModel,
  malformedOutputModel,
  modelConfig,
  offsetModel,
  writeModelDir,
} from "../../support/models";
import { type BundledLambda, type Invocation, startBundledLambda } from "../../support/server";
import { buildBundles, type S3Models, s3Models } from "./fixtures";

const x = (values: number[], name = "x"): Tensor => ({
  name,
  datatype: "FP32",
  shape: [values.length],
  data: Float32Array.from(values),
});
const arn = (fn: string) => `arn:aws:lambda:us-east-1:123456789012:function:${fn}:live`;

/**
 * `release`: v1 = x + 1, v2 = 4 KiB of random bytes, v3 absent, v4 returns outputs its signature
 * does not allow (policy `all`); `broadcast`: a + b, which ORT refuses to run for [3] + [2].
 */
async function writeReleaseModels(dir: string): Promise<string[]> {
  await writeModelDir(dir, "release", modelConfig("release", { version_policy: { all: {} } }), {
    1: offsetModel(1),
    2: randomBytes(4096),
    4: malformedOutputModel(),
  });
  await writeModelDir(dir, "broadcast", modelConfig("broadcast"), { 1: broadcastAddModel() });
  return ["release", "broadcast"];
}

let bundles: Awaited<ReturnType<typeof buildBundles>>;
let models: S3Models;
let cacheDir: string;
let api: AwsApi;
let client: LambdaClient;
const fns = new Map<string, BundledLambda>();
const fn = (name: string): BundledLambda => fns.get(name) as BundledLambda;

beforeAll(async () => {
  [bundles, models, cacheDir] = await Promise.all([
    buildBundles(["model-function"]),
    s3Models([], writeReleaseModels),
    mkdtemp(join(tmpdir(), "model-cache-")),
  ]);
  const functions: Array<[string, Record<string, string>]> = [
    ["good", { MODEL_NAME: "release", MODEL_VERSION: "1" }],
    ["corrupt", { MODEL_NAME: "release", MODEL_VERSION: "2" }],
    ["missing", { MODEL_NAME: "release", MODEL_VERSION: "3" }],
    ["malformed", { MODEL_NAME: "release", MODEL_VERSION: "4" }],
    [
      "broadcast",
      { MODEL_NAME: "broadcast", MODEL_VERSION: "1", POWERTOOLS_METRICS_NAMESPACE: "EdgeInferTest" },
    ],
  ];
  for (const [name, env] of functions) {
    const started = await startBundledLambda(bundles.files["model-function"], {
      functionName: name,
      env: {
        PATH: process.env.PATH,
        MODEL_CACHE_DIR: join(cacheDir, name),
        MODEL_REPOSITORY: models.uri,
        LOG_LEVEL: "INFO",
        ...models.env,
        ...env,
      },
    });
    fns.set(name, started);
  }
  api = await startLambdaApi([...fns.values()]);
  client = localLambdaClient(api);
});

afterAll(async () => {
  client?.destroy();
  await api?.close();
  await Promise.all([...fns.values()].map((f) => f.close()));
  await models?.close();
  await bundles?.cleanup();
  await rm(cacheDir, { recursive: true, force: true });
});

/** The invocation's answer; fails the test on a function error. */
async function answer(name: string, event: unknown) {
  const r = await fn(name).invoke(event);
  if (!r.ok) throw new Error(`unexpected function error: ${r.error.errorType}: ${r.error.errorMessage}`);
  return parseTransportResult(r.payload, "release");
}

/** The function error of the invocation; fails the test when it was answered. */
async function functionError(
  name: string,
  event: unknown,
): Promise<Extract<Invocation, { ok: false }>["error"]> {
  const r = await fn(name).invoke(event);
  if (r.ok) throw new Error(`expected a function error, got ${JSON.stringify(r.payload)}`);
  return r.error;
}

/** EMF documents the function printed (one JSON line each), for `model`. */
function emfLines(name: string, model: string): Array<Record<string, unknown>> {
  return fn(name)
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{") && l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((d) => d.model === model);
}

const gateway = (fnName: string, model = "release") =>
  createApp({
    catalog: remoteCatalog(
      { [model]: { backend: "lambda", target: arn(fnName) } },
      { region: "us-east-1", lambdaEndpoint: undefined, sagemakerEndpoint: undefined },
      { lambda: client },
    ),
    backendTimeoutMs: 20_000,
  });
const post = (app: ReturnType<typeof gateway>, path: string, inputs: Tensor[]) =>
  app.request(path, {
    method: "POST",
    body: JSON.stringify({
      inputs: inputs.map((t) => ({
        name: t.name,
        shape: t.shape,
        datatype: t.datatype,
        data: [...(t.data as Float32Array)],
      })),
    }),
  });

describe("the live version's failures are function errors", () => {
  it("a corrupt live version fails its init, then every invocation for it, on later calls too", async () => {
    expect(fn("corrupt").output()).toContain("live model version failed to load during init");
    for (const event of [
      inferEvent("release", undefined, { inputs: [x([1])] }),
      inferEvent("release", 2, { inputs: [x([1])] }),
      { action: "ready", model: "release" },
      { action: "metadata", model: "release" },
    ]) {
      const error = await functionError("corrupt", event);
      expect(error.errorType).toBe("model_not_ready");
      expect(error.errorMessage).toMatch(
        /^model 'release' version 2 failed to load: ONNX Runtime cannot open/,
      );
    }
    // A pinned other version of the same function still serves.
    const pinned = await answer("corrupt", inferEvent("release", 1, { inputs: [x([1])] }));
    expect(pinned).toMatchObject({ ok: true, action: "infer", version: "1" });
  });

  it("a live version missing from the repository is a function error", async () => {
    const error = await functionError("missing", inferEvent("release", undefined, { inputs: [x([1])] }));
    expect(error.errorType).toBe("model_not_ready");
    expect(error.errorMessage).toBe(
      "model 'release' live version 3 is not in the repository (available: 1, 2, 4)",
    );
  });

  it("a live version that loaded but answers malformed outputs fails that call, not the next", async () => {
    expect(await answer("malformed", inferEvent("release", undefined, { inputs: [x([5])] }))).toMatchObject({
      ok: true,
      version: "4",
    });
    const error = await functionError(
      "malformed",
      inferEvent("release", undefined, { inputs: [x([1, 2, 3, 4])] }),
    );
    expect(error.errorType).toBe("internal");
    // The child's log lines reach us through a pipe, possibly after its answer: wait for them.
    await vi.waitFor(() =>
      expect(fn("malformed").output()).toContain(
        "model 'release' version 4 returned a malformed output: output 'y' has shape [4] (4 elements), its signature says [1]",
      ),
    );
    expect(await answer("malformed", inferEvent("release", undefined, { inputs: [x([6])] }))).toMatchObject({
      ok: true,
    });
    await vi.waitFor(() =>
      expect(emfLines("malformed", "release").at(-2)).toMatchObject({
        version: "4",
        model_runs: 1,
        model_run_failures: 1,
      }),
    );
  });

  it("the gateway answers 503 'not ready' and 502, never the function's text", async () => {
    const corrupt = await post(gateway("corrupt"), "/v2/models/release/infer", [x([1])]);
    expect(corrupt.status).toBe(503);
    const { error } = (await corrupt.json()) as { error: string };
    expect(error).toBe(`model "release" is not ready (request id ${corrupt.headers.get("x-request-id")})`);
    expect(api.calls).toContain(arn("corrupt"));
    const malformed = await post(gateway("malformed"), "/v2/models/release/infer", [x([1, 2])]);
    expect(malformed.status).toBe(502);
    expect(await malformed.json()).toMatchObject({
      error: `the backend of model "release" failed (request id ${malformed.headers.get("x-request-id")})`,
    });
    expect((await gateway("missing").request("/v2/models/release/ready")).status).toBe(503);
  });
});

describe("answered, never thrown", () => {
  it("a pinned other version that is corrupt or absent: 503 and 404 answers", async () => {
    expect(await answer("good", inferEvent("release", 2, { inputs: [x([1])] }))).toMatchObject({
      ok: false,
      kind: "model_not_ready",
    });
    expect(await answer("good", { action: "metadata", model: "release", version: "3" })).toMatchObject({
      ok: false,
      kind: "model_not_found",
    });
    const res = await post(gateway("good"), "/v2/models/release/versions/2/infer", [x([1])]);
    expect(res.status).toBe(503);
  });

  it("a client's bad tensor or unknown model: 4xx answers", async () => {
    const bad = { name: "x", datatype: "FP32" as const, shape: [2, 2], data: new Float32Array(4) };
    const invalid = await answer("good", inferEvent("release", undefined, { inputs: [bad] }));
    expect(invalid).toMatchObject({ ok: false, kind: "invalid_input" });
    expect(!invalid.ok && invalid.error).toContain("input 'x'");
    expect(await answer("good", inferEvent("other", undefined, { inputs: [x([1])] }))).toMatchObject({
      ok: false,
      kind: "model_not_found",
    });
    expect(await answer("good", { action: "explode", model: "release" })).toMatchObject({
      ok: false,
      kind: "invalid_input",
    });
  });

  it("an ORT run failure: a 400 naming the inputs, ORT's text only in the log, a run-failure metric", async () => {
    const failed = await answer(
      "broadcast",
      inferEvent("broadcast", undefined, { inputs: [x([1, 2, 3], "a"), x([1, 2], "b")] }),
    );
    expect(failed).toEqual({
      ok: false,
      kind: "invalid_input",
      error:
        "model 'broadcast' version 1 cannot run on inputs 'a' (shape [3]), 'b' (shape [2]): the model rejects these sizes or values",
    });
    // Its log and metric lines come through the child's stdout pipe, possibly after the answer.
    await vi.waitFor(() => expect(emfLines("broadcast", "broadcast").length).toBeGreaterThan(0));
    await vi.waitFor(() => expect(fn("broadcast").output()).toContain('"transport event refused"'));
    const log = fn("broadcast")
      .output()
      .split("\n")
      .find((l) => l.includes('"transport event refused"'));
    expect(JSON.parse(log ?? "{}")).toMatchObject({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      kind: "invalid_input",
      cause: expect.stringMatching(/BroadcastIterator/),
    });
    // Exactly one dimension set, {model, version}: the contract with the run-failure alarm.
    const [doc, ...more] = emfLines("broadcast", "broadcast");
    expect(more).toEqual([]);
    expect(doc).toMatchObject({ model: "broadcast", version: "1", model_runs: 1, model_run_failures: 1 });
    expect((doc?._aws as { CloudWatchMetrics?: unknown } | undefined)?.CloudWatchMetrics).toEqual([
      {
        Namespace: "EdgeInferTest",
        Dimensions: [["model", "version"]],
        Metrics: [
          { Name: "model_runs", Unit: "Count" },
          { Name: "model_run_failures", Unit: "Count" },
        ],
      },
    ]);
    const res = await post(gateway("broadcast", "broadcast"), "/v2/models/broadcast/infer", [
      x([1, 2, 3], "a"),
      x([1, 2], "b"),
    ]);
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain("cannot run on inputs 'a' (shape [3]), 'b' (shape [2])");
    expect(body).not.toMatch(/onnxruntime|BroadcastIterator|Status Message/i);
  });
});
