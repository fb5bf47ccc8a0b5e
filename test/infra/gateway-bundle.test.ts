/**
 * The gateway as CDK packages it (NodejsFunction: ESM, banner, AWS SDK bundled) starts with the
 * environment the Gateway construct gives it and answers a Function URL event.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type CfnElement, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Gateway } from "../../infra/constructs/gateway";
import { ModelFunction } from "../../infra/constructs/model-function";
import { type CpuModel, defineCatalog } from "../../infra/model-spec";
import { assetSources, backendFixture, joinedText } from "./helpers";

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;

/** What CloudFormation's dynamic reference to the origin secret would resolve to. */
const ORIGIN_SECRET = "FakeOriginSecret0123456789abcdefghijklmnopqrstuv";

/** A deploy-time value as the function would see it: references become plausible names. */
function resolveEnv(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "Fn::ImportValue" in value) return "edge-infer-fake";
  const text = joinedText(value);
  if (/^\{\{resolve:secretsmanager:/.test(text)) return ORIGIN_SECRET;
  return text.replace(/REF\([^)]*\)/g, "arn:aws:lambda:us-east-1:123456789012:function:fake:live");
}

describe("the packaged gateway", () => {
  const saved = { ...process.env };
  let handler: Handler;
  let env: Record<string, string>;

  beforeAll(async () => {
    const { app, storage, stack: models, props } = backendFixture("Models");
    const [model] = defineCatalog({ models: [{ name: "ocr-det", backend: "cpu", liveVersion: 1 }] }).models;
    const backend = new ModelFunction(models, "Det", { ...props, model: model as CpuModel });
    const stack = new Stack(app, "Gateway");
    const gateway = new Gateway(stack, "Gateway", { backends: [backend], storage });
    const id = stack.getLogicalId(gateway.function.node.defaultChild as CfnElement);
    const fn = Template.fromStack(stack).findResources("AWS::Lambda::Function")[id];
    const vars = fn?.Properties.Environment.Variables as Record<string, unknown>;
    env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolveEnv(v)]));
    const code = assetSources(app, stack, "files").find((a) => a.packaging === "zip");
    Object.assign(process.env, env, { AWS_REGION: "us-east-1", AWS_LAMBDA_FUNCTION_NAME: "gateway" });
    const mod = (await import(pathToFileURL(join(app.outdir, String(code?.path), "index.mjs")).href)) as {
      handler: Handler;
    };
    handler = mod.handler;
  });

  afterAll(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it("is given the variables the gateway reads", () => {
    expect(Object.keys(env).sort()).toEqual([
      "API_KEYS_TABLE",
      "BACKEND_TIMEOUT_MS",
      "CACHE_TABLE",
      "LOG_LEVEL",
      "MODEL_CATALOG",
      "MODEL_REPOSITORY",
      "NODE_OPTIONS",
      "ORIGIN_VERIFY_SECRET",
      "POWERTOOLS_METRICS_NAMESPACE",
      "POWERTOOLS_SERVICE_NAME",
    ]);
    expect(env.ORIGIN_VERIFY_SECRET).toBe(ORIGIN_SECRET);
  });

  it("starts with that environment and answers a Function URL event from CloudFront", async () => {
    // As CloudFront sends it: with the origin secret.
    const event = functionUrlEvent("/v2/health/live", { "x-origin-verify": ORIGIN_SECRET });
    const res = await handler(event, { awsRequestId: "req-1", getRemainingTimeInMillis: () => 30_000 });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ live: true });
  });
});

/** A Lambda Function URL (payload 2.0) GET event. */
function functionUrlEvent(path: string, headers: Record<string, string>) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { host: "abc.lambda-url.us-east-1.on.aws", ...headers },
    requestContext: {
      accountId: "123456789012",
      apiId: "abc",
      domainName: "abc.lambda-url.us-east-1.on.aws",
      domainPrefix: "abc",
      http: { method: "GET", path, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "test" },
      requestId: "req-1",
      routeKey: "$default",
      stage: "$default",
      time: "22/Nov/2025:14:00:00 +0000",
      timeEpoch: 1_763_820_000_000,
    },
    isBase64Encoded: false,
  };
}
