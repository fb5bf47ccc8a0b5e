/**
 * The ocr pipeline as AWS runs it: the model function's esbuild bundle with MODEL_NAME=ocr, its
 * pipeline and three step models read from s3rver, behind a local Lambda Invoke API and the
 * gateway's LambdaBackend, so an image crosses the transport once and the steps run in the function.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../gateway/app";
import { remoteCatalog } from "../../../gateway/deps";
import { inferResultOf, parseTransportResult } from "../../../layers/transport";
import {
  bombPng,
  EXPECTED,
  FIXTURES,
  imageInput,
  ocrAnswer,
  ocrRequest,
  strings,
} from "../../layers/pipeline/support";
import { type AwsApi, localLambdaClient, startLambdaApi } from "../../support/aws-apis";
import { type BundledLambda, startBundledLambda } from "../../support/server";
import { buildBundles, demoRepository, type S3Models, s3Models } from "./fixtures";

const ARN = "arn:aws:lambda:us-east-1:123456789012:function:ocr:live";

let bundles: Awaited<ReturnType<typeof buildBundles>>;
let models: S3Models;
let cacheDir: string;
let fn: BundledLambda;
let api: AwsApi;
let client: LambdaClient;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  [bundles, models, cacheDir] = await Promise.all([
    buildBundles(["model-function"]),
    s3Models(undefined, undefined, demoRepository),
    mkdtemp(join(tmpdir(), "model-cache-")),
  ]);
  fn = await startBundledLambda(bundles.files["model-function"], {
    functionName: "ocr",
    env: {
      PATH: process.env.PATH,
      MODEL_CACHE_DIR: cacheDir,
      LOG_LEVEL: "ERROR",
      ...models.env,
      MODEL_NAME: "ocr",
      MODEL_VERSION: "1",
      MODEL_REPOSITORY: models.uri,
    },
  });
  api = await startLambdaApi([fn]);
  client = localLambdaClient(api);
  const catalog = remoteCatalog(
    { ocr: { backend: "lambda", target: ARN } },
    { region: "us-east-1", lambdaEndpoint: undefined, sagemakerEndpoint: undefined },
    { lambda: client },
  );
  app = createApp({ catalog, backendTimeoutMs: 25_000 });
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await api?.close();
  await fn?.close();
  await models?.close();
  await bundles?.cleanup();
  await rm(cacheDir, { recursive: true, force: true });
});

const invoke = async (event: unknown) => {
  const r = await fn.invoke(event);
  if (!r.ok) throw new Error(`handler failed: ${r.error.errorType}: ${r.error.errorMessage}`);
  return parseTransportResult(r.payload, "ocr");
};
const ocr = async (bytes: Uint8Array) => {
  const res = await app.request("/v2/models/ocr/infer", ocrRequest(bytes));
  return { status: res.status, ...(await ocrAnswer(res)) };
};

describe("the ocr pipeline's model function", () => {
  it("is ready from its init: the sample in S3 ran through the three step models", async () => {
    expect(fn.invocations).toBe(0);
    expect(await invoke({ action: "ready", model: "ocr" })).toEqual({
      ok: true,
      action: "ready",
      ready: true,
    });
  });

  it("describes itself like any model, through the gateway", async () => {
    const res = await app.request("/v2/models/ocr");
    expect(await res.json()).toMatchObject({
      name: "ocr",
      versions: ["1"],
      platform: "ensemble",
      inputs: [{ name: "image", datatype: "BYTES", shape: [1] }],
      outputs: [{ name: "text" }, { name: "boxes" }, { name: "scores" }],
    });
  });

  it.each(["lines.jpg", "rotated.png", "paragraph.png"])(
    "reads %s: the image crosses Lambda's payload once, binary BYTES through the gateway",
    async (file) => {
      const calls = api.calls.length;
      const { status, text } = await ocr(await readFile(FIXTURES + file));
      expect(status).toBe(200);
      expect(text).toEqual(EXPECTED[file]);
      expect(api.calls.slice(calls)).toEqual([ARN]);
    },
  );

  it("answers a transport infer event with a base64 image (the console's JSON request)", async () => {
    const data = (await readFile(`${FIXTURES}small.png`)).toString("base64");
    const request = {
      inputs: [{ ...imageInput(new Uint8Array()), parameters: { content_type: "base64" }, data: [data] }],
      outputs: [{ name: "text" }],
    };
    const result = await invoke({ action: "infer", model: "ocr", request });
    const { version, outputs } = inferResultOf(result, "ocr");
    expect(version).toBe("1");
    expect(outputs.map((o) => [o.name, strings(o)])).toEqual([["text", EXPECTED["small.png"]]]);
  });

  it.each([
    [
      "not an image",
      () => new TextEncoder().encode("GIF89a hello"),
      "input 'image' is not a PNG or JPEG image",
    ],
    [
      "a 30000x30000 PNG",
      () => bombPng(30000),
      "input 'image' is 30000x30000 pixels (900000000), at most 16777216 pixels allowed",
    ],
  ])("refuses %s with a 400 (answered, not a function error), and keeps serving", async (_, make, error) => {
    expect(await ocr(make())).toMatchObject({ status: 400, body: { error } });
    expect((await ocr(await readFile(`${FIXTURES}hello.png`))).text).toEqual(EXPECTED["hello.png"]);
  });

  it("serves its pipeline only: a step model is addressed through its own function", async () => {
    expect(await invoke({ action: "ready", model: "ocr-det" })).toMatchObject({
      ok: false,
      kind: "model_not_found",
      error: 'unknown model "ocr-det"',
    });
  });
});
