/**
 * The gateway's esbuild bundle on "Lambda": loaded in a fresh Node process and invoked with
 * Function URL events, it calls the model function's bundle (another fresh process) through the
 * AWS SDK and a local Lambda Invoke API; the model comes from s3rver, API keys and cached results
 * live in dynalite. The whole AWS path, locally: origin check, keys, cache, EMF metrics and
 * Powertools logs on stdout.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKeysCli } from "../../gateway/auth/cli";
import { createKeyTable, DynamoKeyStore } from "../../gateway/auth/dynamo-store";
import { decodeInferResponse, encodeInferRequest } from "../../layers/protocol";
import { buildBundles, type S3Models, s3Models } from "../functions/model/fixtures";
import { type AwsApi, startLambdaApi } from "../support/aws-apis";
import { type DynaliteHandle, startDynalite } from "../support/dynalite";
import { addConfig } from "../support/models";
import { type BundledLambda, startBundledLambda } from "../support/server";
import { functionUrlEvent, type UrlResult } from "../support/url-event";

const ORIGIN_SECRET = "origin-secret-0123456789abcdef";
const KEYS_TABLE = "edge-infer-keys";

let bundles: Awaited<ReturnType<typeof buildBundles>>;
let models: S3Models;
let cacheDir: string;
let model: BundledLambda;
let api: AwsApi;
let gateway: BundledLambda;
let dynalite: DynaliteHandle;
let apiKey: string;

/**
 * A Lambda Function URL event (payload format 2.0), as CloudFront forwards it (origin secret) from a
 * client with a valid API key, unless `headers` says otherwise.
 */
function urlEvent(
  method: string,
  path: string,
  body?: { text?: string; bytes?: Uint8Array },
  extra: Record<string, string> = {},
) {
  return functionUrlEvent(
    method,
    path,
    { "x-origin-verify": ORIGIN_SECRET, "x-api-key": apiKey, ...extra },
    body,
  );
}

async function call(event: unknown): Promise<UrlResult> {
  const r = await gateway.invoke(event);
  if (!r.ok) throw new Error(`gateway handler failed: ${r.error.errorMessage}`);
  return r.payload as UrlResult;
}

beforeAll(async () => {
  [bundles, models, cacheDir, dynalite] = await Promise.all([
    buildBundles(["gateway", "model-function"]),
    s3Models(["add"]),
    mkdtemp(join(tmpdir(), "model-cache-")),
    startDynalite(),
  ]);
  // `add` with its results cached (the generated models have caching off).
  const config = addConfig("add", { version_policy: { latest: { num_versions: 2 } } });
  await models.s3.client.send(
    new PutObjectCommand({
      Bucket: "edge-infer-models",
      Key: "models/add/config.json",
      Body: JSON.stringify({ ...config, cache: { enabled: true, ttl_seconds: 300 } }),
    }),
  );
  const out: string[] = [];
  const keys = (argv: string[]) =>
    runKeysCli(argv, {
      store: new DynamoKeyStore(dynalite.client, KEYS_TABLE),
      init: () => createKeyTable(dynalite.client, KEYS_TABLE),
      out: (l) => out.push(l),
      err: () => undefined,
    });
  expect(await keys(["init"])).toBe(0);
  expect(await keys(["add", "lambda-test", "--models", "*"])).toBe(0);
  apiKey = out.at(-1) ?? "";
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
      AWS_LAMBDA_FUNCTION_NAME: "edge-infer-gateway",
      API_KEYS_TABLE: KEYS_TABLE,
      CACHE_TABLE: dynalite.table,
      DYNAMODB_ENDPOINT: dynalite.endpoint,
      CACHE_TIMEOUT_MS: "2000",
      ORIGIN_VERIFY_SECRET: ORIGIN_SECRET,
      POWERTOOLS_SERVICE_NAME: "edge-infer-gateway",
      LOG_LEVEL: "INFO",
    },
  });
});

afterAll(async () => {
  await gateway?.close();
  await api?.close();
  await model?.close();
  await models?.close();
  await dynalite?.close();
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
    expect(JSON.parse(missing.body)).toEqual({
      error: 'unknown model "ghost"',
      request_id: missing.headers["x-request-id"],
    });
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
    expect(JSON.parse(bad.body)).toEqual({
      error: "input 'a' has datatype INT32, expected FP32",
      request_id: bad.headers["x-request-id"],
    });
  });

  it("refuses requests that did not come through CloudFront, health included, before auth", async () => {
    for (const path of ["/v2/health/live", "/v2/models/add"]) {
      const res = await call(
        urlEvent("GET", path, undefined, { "x-origin-verify": "guess", "x-api-key": "" }),
      );
      expect(res.statusCode).toBe(403);
      expect(JSON.parse(res.body)).toEqual({
        error: "requests must come through the edge-infer distribution",
        request_id: res.headers["x-request-id"],
      });
    }
  });

  it("serves health without a key and nothing else: 401", async () => {
    expect((await call(urlEvent("GET", "/v2/health/live", undefined, { "x-api-key": "" }))).statusCode).toBe(
      200,
    );
    const res = await call(urlEvent("GET", "/v2/models/add", undefined, { "x-api-key": "" }));
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="edge-infer"');
  });

  it("caches results in DynamoDB: a repeated request is a HIT that never reaches the model function", async () => {
    const event = urlEvent("POST", "/v2/models/add/infer", {
      text: JSON.stringify({
        inputs: [
          { name: "a", shape: [1, 4], datatype: "FP32", data: [7, 7, 7, 7] },
          { name: "b", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
        ],
      }),
    });
    const miss = await call(event);
    expect(miss.statusCode).toBe(200);
    expect(miss.headers["x-cache"]).toBe("MISS");
    expect(miss.headers["server-timing"]).toMatch(
      /^decode;dur=[\d.]+, cache;dur=[\d.]+, .*infer;dur=[\d.]+.*, total;dur=/,
    );
    const invocations = model.invocations;
    const hit = await call(event);
    expect(hit.headers["x-cache"]).toBe("HIT");
    expect(JSON.parse(hit.body)).toEqual(JSON.parse(miss.body));
    expect(hit.headers["server-timing"]).not.toContain("infer;");
    expect(model.invocations).toBe(invocations);
  });

  it("serves the console inlined in the bundle: page public behind the origin check, data with a key", async () => {
    const page = await call(urlEvent("GET", "/", undefined, { "x-api-key": "" }));
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.body).toContain('<script src="/console/app.js"');
    expect((await call(urlEvent("GET", "/console/app.js", undefined, { "x-api-key": "" }))).statusCode).toBe(
      200,
    );
    expect((await call(urlEvent("GET", "/", undefined, { "x-origin-verify": "guess" }))).statusCode).toBe(
      403,
    );
    expect(
      (await call(urlEvent("GET", "/console/api/live", undefined, { "x-api-key": "" }))).statusCode,
    ).toBe(401);
    const live = JSON.parse((await call(urlEvent("GET", "/console/api/live"))).body);
    expect(live.scope).toBe("instance");
    expect(live.dashboardUrl).toMatch(/^https:\/\/[a-z0-9-]+\.console\.aws\.amazon\.com\/cloudwatch\//);
    const models = JSON.parse((await call(urlEvent("GET", "/console/api/models"))).body);
    expect(models.models).toContainEqual({ name: "add", backend: "Lambda" });
  });

  it("serves no /metrics on Lambda: the metrics leave as EMF", async () => {
    expect((await call(urlEvent("GET", "/metrics"))).statusCode).toBe(404);
  });

  it("prints the auth mode, Powertools request logs and EMF metrics on stdout", () => {
    const lines = gateway.output().split("\n");
    expect(lines).toContain(
      `auth: API keys required (DynamoDB table "${KEYS_TABLE}" at ${dynalite.endpoint})`,
    );
    const json = lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    const log = json.find((j) => j.message === "request" && j.cache === "HIT");
    expect(log).toMatchObject({
      level: "INFO",
      service: "edge-infer-gateway",
      method: "POST",
      path: "/v2/models/add/infer",
      status: 200,
      model: "add",
      version: "2",
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      duration_ms: expect.any(Number),
    });
    const emf = json.filter((j) => j._aws !== undefined && j.model === "add");
    expect(emf.length).toBeGreaterThan(0);
    expect(emf[0]?._aws).toMatchObject({
      CloudWatchMetrics: [{ Namespace: "EdgeInfer", Dimensions: [["model"]] }],
    });
    const sum = (metric: string) =>
      emf.reduce((n, j) => n + (typeof j[metric] === "number" ? j[metric] : 0), 0);
    expect(sum("cache_hits")).toBeGreaterThanOrEqual(1);
    expect(sum("cache_misses")).toBeGreaterThanOrEqual(1);
    expect(sum("requests")).toBeGreaterThanOrEqual(4);
    expect(sum("client_errors")).toBeGreaterThanOrEqual(1); // the INT32 request
  });
});
