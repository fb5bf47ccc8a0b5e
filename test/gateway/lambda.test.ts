/**
 * The gateway's esbuild bundle on "Lambda": loaded in a fresh Node process and invoked with
 * Function URL events, it calls the model function's bundle (another fresh process) through the
 * AWS SDK and a local Lambda Invoke API; the model comes from s3rver. The whole AWS path, locally.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeInferResponse, encodeInferRequest } from "../../layers/protocol";
import { buildBundles, type S3Models, s3Models } from "../functions/model/fixtures";
import { type AwsApi, startLambdaApi } from "../support/aws-apis";
import { type BundledLambda, startBundledLambda } from "../support/server";

let bundles: Awaited<ReturnType<typeof buildBundles>>;
let models: S3Models;
let cacheDir: string;
let model: BundledLambda;
let api: AwsApi;
let gateway: BundledLambda;

/** A Lambda Function URL event (payload format 2.0). */
function urlEvent(
  method: string,
  path: string,
  body?: { text?: string; bytes?: Uint8Array },
  headers: Record<string, string> = {},
) {
  const domainName = "abcdefg.lambda-url.us-east-1.on.aws";
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { host: domainName, "x-forwarded-proto": "https", ...headers },
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdefg",
      domainName,
      domainPrefix: "abcdefg",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "vitest" },
      requestId: "c0ffee00-0000-4000-8000-000000000000",
      routeKey: "$default",
      stage: "$default",
      time: "01/Jan/2026:00:00:00 +0000",
      timeEpoch: 1767225600000,
    },
    isBase64Encoded: body?.bytes !== undefined,
    ...(body?.bytes !== undefined
      ? { body: Buffer.from(body.bytes).toString("base64") }
      : body?.text !== undefined
        ? { body: body.text }
        : {}),
  };
}

interface UrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

async function call(event: unknown): Promise<UrlResult> {
  const r = await gateway.invoke(event);
  if (!r.ok) throw new Error(`gateway handler failed: ${r.error.errorMessage}`);
  return r.payload as UrlResult;
}

beforeAll(async () => {
  [bundles, models, cacheDir] = await Promise.all([
    buildBundles(["gateway", "model-function"]),
    s3Models(["add"]),
    mkdtemp(join(tmpdir(), "model-cache-")),
  ]);
  model = await startBundledLambda(bundles.files["model-function"], {
    functionName: "edge-infer-add",
    env: {
      PATH: process.env.PATH,
      MODEL_NAME: "add",
      MODEL_VERSION: "2",
      MODEL_REPOSITORY: models.uri,
      MODEL_CACHE_DIR: cacheDir,
      LOG_LEVEL: "ERROR",
      ...models.env,
    },
  });
  api = await startLambdaApi([model]);
  gateway = await startBundledLambda(bundles.files.gateway, {
    functionName: "edge-infer-gateway",
    env: {
      PATH: process.env.PATH,
      MODEL_CATALOG: JSON.stringify({
        add: {
          backend: "lambda",
          target: "arn:aws:lambda:us-east-1:123456789012:function:edge-infer-add:live",
        },
      }),
      LAMBDA_ENDPOINT: api.url,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      LOG_LEVEL: "ERROR",
    },
  });
});

afterAll(async () => {
  await gateway?.close();
  await api?.close();
  await model?.close();
  await models?.close();
  await bundles?.cleanup();
  await rm(cacheDir, { recursive: true, force: true });
});

describe("gateway bundle on Lambda", () => {
  it("carries no ONNX Runtime: it only routes", async () => {
    expect(await readFile(bundles.files.gateway, "utf8")).not.toContain("onnxruntime");
  });

  it("answers a JSON infer request from a Function URL event through the model function", async () => {
    const res = await call(
      urlEvent(
        "POST",
        "/v2/models/add/infer",
        {
          text: JSON.stringify({
            inputs: [
              { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
              { name: "b", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
            ],
            outputs: [{ name: "sum" }],
          }),
        },
        { "content-type": "application/json" },
      ),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(res.body)).toEqual({
      model_name: "add",
      model_version: "2",
      outputs: [{ name: "sum", datatype: "FP32", shape: [1, 4], data: [3, 5, 7, 9] }],
    });
  });

  it("answers a binary request with a base64 binary response", async () => {
    const encoded = encodeInferRequest(
      {
        inputs: [
          { name: "a", datatype: "FP32", shape: [1, 4], data: new Float32Array([1, 1, 1, 1]) },
          { name: "b", datatype: "FP32", shape: [1, 4], data: new Float32Array([2, 2, 2, 2]) },
        ],
        parameters: { binary_data_output: true },
      },
      { binary: true },
    );
    const res = await call(
      urlEvent(
        "POST",
        "/v2/models/add/versions/1/infer",
        { bytes: encoded.body },
        {
          "content-type": "application/octet-stream",
          "inference-header-content-length": String(encoded.headerLength),
        },
      ),
    );
    expect(res.statusCode).toBe(200);
    expect(res.isBase64Encoded).toBe(true);
    const out = decodeInferResponse(
      Buffer.from(res.body, "base64"),
      Number(res.headers["inference-header-content-length"]),
    );
    expect(out.model_version).toBe("1");
    expect(Array.from(out.outputs.find((o) => o.name === "diff")?.data as Float32Array)).toEqual([
      -1, -1, -1, -1,
    ]);
  });

  it("maps errors: 404 for an unknown model, 400 for a bad tensor", async () => {
    const missing = await call(urlEvent("GET", "/v2/models/ghost"));
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: 'unknown model "ghost"' });
    const bad = await call(
      urlEvent("POST", "/v2/models/add/infer", {
        text: JSON.stringify({
          inputs: [
            { name: "a", shape: [1, 4], datatype: "INT32", data: [1, 2, 3, 4] },
            { name: "b", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
          ],
        }),
      }),
    );
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ error: "input 'a' has datatype INT32, expected FP32" });
  });
});
