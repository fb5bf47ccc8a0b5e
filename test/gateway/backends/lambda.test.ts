/**
 * LambdaBackend through the gateway app against the real thing, locally: the AWS SDK's LambdaClient
 * calls a local implementation of Lambda's Invoke API, which runs the model function's esbuild
 * bundle in fresh Node processes that read their models from s3rver.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../gateway/app";
import { remoteCatalog } from "../../../gateway/deps";
import { InvalidInput } from "../../../layers/errors";
import { decodeInferResponse, encodeInferRequest } from "../../../layers/protocol";
import { buildBundles, type S3Models, s3Models } from "../../functions/model/fixtures";
import { type AwsApi, localLambdaClient, startLambdaApi } from "../../support/aws-apis";
import { unchecked } from "../../support/infer";
import { type BundledLambda, startBundledLambda } from "../../support/server";

const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}:live`;
const addBody = (a = [1, 2, 3, 4], shape = [1, 4]) =>
  JSON.stringify({
    inputs: [
      { name: "a", shape, datatype: "FP32", data: a },
      { name: "b", shape: [1, 4], datatype: "FP32", data: [10, 20, 30, 40] },
    ],
  });

let bundles: Awaited<ReturnType<typeof buildBundles>>;
let models: S3Models;
let cacheDir: string;
let fns: BundledLambda[] = [];
let api: AwsApi;
let client: LambdaClient;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  [bundles, models, cacheDir] = await Promise.all([
    buildBundles(["model-function"]),
    s3Models(["add", "broken"]),
    mkdtemp(join(tmpdir(), "model-cache-")),
  ]);
  const start = (functionName: string, env: Record<string, string>) =>
    startBundledLambda(bundles.files["model-function"], {
      functionName,
      env: { PATH: process.env.PATH, MODEL_CACHE_DIR: cacheDir, LOG_LEVEL: "ERROR", ...models.env, ...env },
    });
  fns = await Promise.all([
    start("add", { MODEL_NAME: "add", MODEL_VERSION: "1", MODEL_REPOSITORY: models.uri }),
    start("broken", { MODEL_NAME: "broken", MODEL_REPOSITORY: models.uri }),
    start("misconfigured", { MODEL_NAME: "add" }),
  ]);
  api = await startLambdaApi(fns, { hang: ["sleepy"], timeout: ["slow"], throttle: ["busy"] });
  client = localLambdaClient(api);
  app = createApp({
    catalog: lambdaCatalog("add", "broken", "misconfigured", "ghost"),
    backendTimeoutMs: 20_000,
  });
});

afterAll(async () => {
  client?.destroy();
  await api?.close();
  await Promise.all(fns.map((f) => f.close()));
  await models?.close();
  await bundles?.cleanup();
  await rm(cacheDir, { recursive: true, force: true });
});

const add = () => fns[0] as BundledLambda;
/** A catalog of Lambda backends, each model on the function of the same name. */
const lambdaCatalog = (...names: string[]) =>
  remoteCatalog(
    Object.fromEntries(names.map((n) => [n, { backend: "lambda" as const, target: arn(n) }])),
    { region: "us-east-1", lambdaEndpoint: undefined, sagemakerEndpoint: undefined },
    { lambda: client },
  );
const infer = (
  model: string,
  body: string | Uint8Array<ArrayBuffer>,
  path = "",
  headers: Record<string, string> = {},
) => app.request(`/v2/models/${model}${path}/infer`, { method: "POST", body, headers });

describe("LambdaBackend", () => {
  it("invokes the model's live alias and returns the version that answered", async () => {
    const res = await infer("add", addBody());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      model_name: "add",
      model_version: "1",
      outputs: [
        { name: "sum", shape: [1, 4], data: [11, 22, 33, 44] },
        { name: "diff", data: [-9, -18, -27, -36] },
      ],
    });
    expect(api.calls.every((c) => c === arn("add"))).toBe(true);
  });

  it("sends a pinned version in the event to the same alias, and binary tensors both ways", async () => {
    const encoded = encodeInferRequest(
      {
        inputs: [
          { name: "a", datatype: "FP32", shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) },
          { name: "b", datatype: "FP32", shape: [1, 4], data: new Float32Array([1, 1, 1, 1]) },
        ],
        outputs: [{ name: "sum", parameters: { binary_data: true } }],
      },
      { binary: true },
    );
    const res = await infer("add", encoded.body as Uint8Array<ArrayBuffer>, "/versions/2", {
      "Inference-Header-Content-Length": String(encoded.headerLength),
    });
    expect(res.status).toBe(200);
    const out = decodeInferResponse(
      new Uint8Array(await res.arrayBuffer()),
      Number(res.headers.get("inference-header-content-length")),
    );
    expect(out.model_version).toBe("2");
    expect(out.outputs.map((o) => [o.name, Array.from(o.data as Float32Array)])).toEqual([
      ["sum", [3, 4, 5, 6]],
    ]);
    expect(new Set(api.calls)).toEqual(new Set([arn("add")]));
  });

  it("refuses a bad tensor in the gateway: no invocation at all", async () => {
    await infer("add", addBody()); // the live signature is cached by now
    const before = add().invocations;
    const res = await infer("add", addBody([1, 2, 3], [1, 3]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^input 'a' has shape \[1,3\]/);
    expect(add().invocations).toBe(before);
  });

  it("carries a domain error found by the function back as that error (400, not 502)", async () => {
    const backend = lambdaCatalog("add").get("add");
    const bad = {
      inputs: [{ name: "zzz", datatype: "FP32" as const, shape: [1, 4], data: new Float32Array(4) }],
    };
    const err = await backend?.infer("add", undefined, unchecked(bad)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as Error).message).toMatch(/unexpected input 'zzz'/);
  });

  it("answers 503 for a function whose model file is corrupt", async () => {
    const res = await infer("broken", addBody());
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: expect.stringMatching(/^model "broken" is not ready \(request id /),
      request_id: res.headers.get("x-request-id"),
    });
  });

  it("answers 502 for a function that fails (init error) or does not exist, without its message", async () => {
    for (const model of ["misconfigured", "ghost"]) {
      const res = await infer(model, addBody());
      expect(res.status).toBe(502);
      const { error } = (await res.json()) as { error: string };
      expect(error).toBe(
        `the backend of model "${model}" failed (request id ${res.headers.get("x-request-id")})`,
      );
    }
    expect(fns[2]?.invocations).toBeGreaterThan(0);
  });

  it("answers 504 when the function does not answer within the deadline", async () => {
    const res = await createApp({ catalog: lambdaCatalog("sleepy"), backendTimeoutMs: 100 }).request(
      "/v2/models/sleepy",
    );
    expect(res.status).toBe(504);
    expect(api.calls).toContain(arn("sleepy"));
  });

  it("maps Lambda's own faults: a function timeout is a 504, throttling a 503 with Retry-After", async () => {
    const faulty = createApp({ catalog: lambdaCatalog("slow", "busy") });
    const slow = await faulty.request("/v2/models/slow");
    expect(slow.status).toBe(504);
    expect(((await slow.json()) as { error: string }).error).toMatch(
      /^the backend of model "slow" did not answer in time/,
    );
    const busy = await faulty.request("/v2/models/busy");
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toBe("1");
    expect(((await busy.json()) as { error: string }).error).toMatch(
      /^model "busy" is overloaded, retry later/,
    );
  });

  it("reports readiness from the function", async () => {
    const ready = await createApp({ catalog: lambdaCatalog("add") }).request("/v2/health/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    expect((await app.request("/v2/models/broken/ready")).status).toBe(503);
  });
});
