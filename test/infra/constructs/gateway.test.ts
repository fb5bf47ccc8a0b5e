import type { CfnElement } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { CachePolicy, OriginRequestPolicy } from "aws-cdk-lib/aws-cloudfront";
import { beforeAll, describe, expect, it } from "vitest";
import { ORIGIN_VERIFY_HEADER } from "../../../gateway/auth/origin";
import { ORIGIN_VERIFY_HEADER as INFRA_ORIGIN_VERIFY_HEADER } from "../../../infra/constructs/gateway";
import { defineCatalog } from "../../../infra/model-spec";
import {
  acknowledgements,
  allowStatements,
  fixtureApp,
  joinedText,
  nagErrors,
  statementsFor,
} from "../helpers";

const catalog = defineCatalog({
  models: [
    { name: "det", backend: "cpu", liveVersion: 1 },
    // During a release: the new live version 2 is compared with the old one on live traffic.
    { name: "rec", backend: "cpu", liveVersion: 2, shadow: { version: 1, percent: 10 } },
    { name: "det-gpu", backend: "gpu", liveVersion: 1, instanceType: "ml.g5.xlarge", rollout: "all-at-once" },
  ],
});

describe("Gateway", () => {
  let b: ReturnType<typeof fixtureApp>;
  let t: Template;
  let fnId: string;
  let secretId: string;
  beforeAll(() => {
    b = fixtureApp(catalog, { logLevel: "DEBUG" });
    t = Template.fromStack(b.stacks.gateway);
    const { gateway } = b.stacks.gateway;
    fnId = b.stacks.gateway.getLogicalId(gateway.function.node.defaultChild as CfnElement);
    secretId = b.stacks.gateway.getLogicalId(gateway.originVerifySecret.node.defaultChild as CfnElement);
  });

  it("runs the esbuild bundle on Node.js 22, arm64", () => {
    t.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      Handler: "index.handler",
      MemorySize: 1024,
      Timeout: 30,
    });
  });

  it("passes the catalog (with the catalog line's shadow) and the storage to the gateway through its environment", () => {
    const fn = t.findResources("AWS::Lambda::Function")[fnId];
    const env = fn?.Properties.Environment.Variables as Record<string, unknown>;
    expect(JSON.parse(joinedText(env.MODEL_CATALOG))).toEqual({
      det: {
        backend: "lambda",
        target: expect.stringMatching(/^REF\(EdgeInfer-Model-det:ExportsOutputRefModelLive/),
      },
      rec: {
        backend: "lambda",
        target: expect.stringMatching(/^REF\(EdgeInfer-Model-rec:ExportsOutputRefModelLive/),
        shadow: { version: 1, percent: 10 },
      },
      "det-gpu": {
        backend: "sagemaker",
        target: expect.stringMatching(
          /^REF\(EdgeInfer-Model-det-gpu:ExportsOutputFnGetAttModelEndpoint.*EndpointName/,
        ),
      },
    });
    expect(env).toMatchObject({
      CACHE_TABLE: { "Fn::ImportValue": expect.stringMatching(/^EdgeInfer-Storage:.*Cache/) },
      API_KEYS_TABLE: { "Fn::ImportValue": expect.stringMatching(/^EdgeInfer-Storage:.*ApiKeys/) },
      LOG_LEVEL: "DEBUG",
      BACKEND_TIMEOUT_MS: "28000",
      POWERTOOLS_SERVICE_NAME: "edge-infer-gateway",
      POWERTOOLS_METRICS_NAMESPACE: "EdgeInfer",
    });
    expect(joinedText(env.MODEL_REPOSITORY)).toMatch(
      /^s3:\/\/REF\(EdgeInfer-Storage:.*Repository.*\)\/models$/,
    );
  });

  it("exposes a public Function URL, invokable through that URL only", () => {
    t.hasResourceProperties("AWS::Lambda::Url", {
      AuthType: "NONE",
      TargetFunctionArn: { "Fn::GetAtt": [fnId, "Arn"] },
    });
    // No origin access control: it would make clients sign POST bodies and drop their Authorization.
    t.resourceCountIs("AWS::CloudFront::OriginAccessControl", 0);
    const permissions = Object.values(t.findResources("AWS::Lambda::Permission")).map((r) => r.Properties);
    expect(permissions).toEqual(
      expect.arrayContaining([
        {
          Action: "lambda:InvokeFunctionUrl",
          FunctionName: { "Fn::GetAtt": [fnId, "Arn"] },
          FunctionUrlAuthType: "NONE",
          Principal: "*",
        },
        // Public lambda:InvokeFunction, but only when it comes through the Function URL.
        {
          Action: "lambda:InvokeFunction",
          FunctionName: { "Fn::GetAtt": [fnId, "Arn"] },
          InvokedViaFunctionUrl: true,
          Principal: "*",
        },
      ]),
    );
    expect(permissions).toHaveLength(2);
  });

  it("generates the origin secret: 48 letters and digits, rotation acknowledged", () => {
    t.resourceCountIs("AWS::SecretsManager::Secret", 1);
    t.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true, IncludeSpace: false },
    });
    const secret = t.findResources("AWS::SecretsManager::Secret")[secretId];
    expect(secret?.Properties).not.toHaveProperty("SecretString");
    // The rotation procedure (README) finds the secret through this output.
    t.hasOutput("OriginSecretArn", { Value: { Ref: secretId } });
  });

  it("gives the gateway the origin secret by dynamic reference, never its value", () => {
    const env = t.findResources("AWS::Lambda::Function")[fnId]?.Properties.Environment.Variables as Record<
      string,
      unknown
    >;
    expect(joinedText(env.ORIGIN_VERIFY_SECRET)).toBe(
      `{{resolve:secretsmanager:REF(${secretId}):SecretString:::}}`,
    );
  });

  it("puts CloudFront in front adding x-origin-verify, HTTPS only, no caching, all methods", () => {
    t.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: "https-only",
          AllowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
          CachePolicyId: CachePolicy.CACHING_DISABLED.cachePolicyId,
          // Authorization and Inference-Header-Content-Length reach the gateway; Host does not.
          OriginRequestPolicyId: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
        }),
        Origins: [
          Match.objectLike({
            DomainName: {
              "Fn::Select": [
                2,
                {
                  "Fn::Split": [
                    "/",
                    { "Fn::GetAtt": [Match.stringLikeRegexp("FunctionUrl"), "FunctionUrl"] },
                  ],
                },
              ],
            },
            CustomOriginConfig: Match.objectLike({
              OriginProtocolPolicy: "https-only",
              // The gateway's 30 s + 5 s: CloudFront waits longer than the gateway (infra/timeouts.ts).
              OriginReadTimeout: 35,
            }),
          }),
        ],
        Logging: Match.objectLike({ Prefix: "cloudfront/" }),
      }),
    });
    const [origin] = Object.values(t.findResources("AWS::CloudFront::Distribution")).map(
      (d) => d.Properties.DistributionConfig.Origins[0],
    );
    expect(origin).not.toHaveProperty("OriginAccessControlId");
    expect(origin.OriginCustomHeaders).toHaveLength(1);
    // The header the gateway checks (gateway/auth/origin.ts), with the value the function receives.
    expect(origin.OriginCustomHeaders[0].HeaderName).toBe(ORIGIN_VERIFY_HEADER);
    expect(ORIGIN_VERIFY_HEADER).toBe(INFRA_ORIGIN_VERIFY_HEADER);
    expect(joinedText(origin.OriginCustomHeaders[0].HeaderValue)).toBe(
      `{{resolve:secretsmanager:REF(${secretId}):SecretString:::}}`,
    );
  });

  it("pins the origin secret's version when given, so a rotation re-resolves both references", () => {
    const versionId = "5f0c3a52-1b2d-4c8e-9a7f-0123456789ab";
    const one = defineCatalog({ models: [{ name: "det", backend: "cpu", liveVersion: 1 }] });
    const pinned = fixtureApp(one, { originVerifyVersionId: versionId });
    const pt = Template.fromStack(pinned.stacks.gateway);
    const env = Object.values(pt.findResources("AWS::Lambda::Function")).find(
      (f) => f.Properties.Environment?.Variables?.ORIGIN_VERIFY_SECRET !== undefined,
    )?.Properties.Environment.Variables;
    const reference =
      /^\{\{resolve:secretsmanager:REF\(GatewayOriginVerify[0-9A-F]{8}\):SecretString:::(.*)\}\}$/;
    expect(reference.exec(joinedText(env.ORIGIN_VERIFY_SECRET))?.[1]).toBe(versionId);
    const [origin] = Object.values(pt.findResources("AWS::CloudFront::Distribution")).map(
      (d) => d.Properties.DistributionConfig.Origins[0],
    );
    expect(reference.exec(joinedText(origin.OriginCustomHeaders[0].HeaderValue))?.[1]).toBe(versionId);
    expect(() => fixtureApp(one, { originVerifyVersionId: "AWSCURRENT" })).toThrow(
      "Gateway originVerifyVersionId: expected a Secrets Manager VersionId (32-64 letters, digits, '-'), received \"AWSCURRENT\"",
    );
  });

  it("may invoke the catalog's aliases, endpoints and the shadow comparison function, nothing else", () => {
    const invoke = statementsFor(t, "lambda:InvokeFunction");
    for (const s of invoke) expect(s.actions).toEqual(["lambda:InvokeFunction"]);
    const compare = b.stacks.gateway.gateway.shadowCompare;
    const compareFn = b.stacks.gateway.getLogicalId(compare?.function.node.defaultChild as CfnElement);
    const rec = { "Fn::ImportValue": expect.stringMatching(/^EdgeInfer-Model-rec:.*ModelLive/) };
    expect(invoke.flatMap((s) => s.resources)).toEqual(
      expect.arrayContaining([
        { "Fn::ImportValue": expect.stringMatching(/^EdgeInfer-Model-det:.*ModelLive/) },
        rec,
        { "Fn::GetAtt": [compareFn, "Arn"] },
      ]),
    );
    // The gateway's three, and the comparison function's one: the shadowed model's alias.
    expect(invoke.flatMap((s) => s.resources)).toHaveLength(4);
    const sagemaker = statementsFor(t, "sagemaker:InvokeEndpoint").flatMap((s) => s.resources);
    expect(sagemaker).toHaveLength(1);
    expect(joinedText(sagemaker[0])).toMatch(
      /:sagemaker:.*:endpoint\/edgeinfermodeldetgpu-model-[0-9a-f]{8}$/,
    );
  });

  it("reads and writes the cache, reads API keys and the repository, and nothing broader", () => {
    const data = allowStatements(t).filter((s) => !s.actions.some((a) => a.startsWith("logs:")));
    expect([...new Set(data.flatMap((s) => s.actions))].sort()).toEqual([
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "lambda:InvokeFunction",
      "s3:GetObject",
      "s3:ListBucket",
      "sagemaker:InvokeEndpoint",
    ]);
    for (const s of data) expect(s.resources).not.toContain("*");
    const on = (action: string) => JSON.stringify(statementsFor(t, action).flatMap((s) => s.resources));
    expect(on("dynamodb:PutItem")).toMatch(/Cache/);
    expect(on("dynamodb:PutItem")).not.toMatch(/ApiKeys/);
    expect(on("dynamodb:GetItem")).toMatch(/ApiKeys/);
    expect(on("s3:GetObject")).toMatch(/"\/models\/\*"/);
  });

  it("passes cdk-nag, with a reason for each gateway acknowledgement", () => {
    expect(nagErrors(b.app)).toEqual([]);
    const acks = acknowledgements(b.app).filter((a) => a.path.startsWith("EdgeInfer-Gateway/"));
    expect(acks.map((a) => a.id).sort()).toEqual([
      "AwsSolutions-CFR1",
      "AwsSolutions-CFR2",
      "AwsSolutions-CFR4",
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::EdgeInfer-Storage:.*\/models\/\*\]$/),
      "AwsSolutions-L1",
      "AwsSolutions-L1",
      "AwsSolutions-S1",
      "AwsSolutions-SMG4",
    ]);
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(40);
  });

  it("compares shadowed models in a function of its own: bounded, never retried, named to the gateway", () => {
    const compare = b.stacks.gateway.gateway.shadowCompare;
    expect(compare).toBeDefined();
    const compareId = b.stacks.gateway.getLogicalId(compare?.function.node.defaultChild as CfnElement);
    const fns = t.findResources("AWS::Lambda::Function");
    expect(fns[compareId]?.Properties).toMatchObject({
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      ReservedConcurrentExecutions: 10,
      Timeout: 60,
    });
    const env = fns[compareId]?.Properties.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(JSON.parse(joinedText(env.SHADOW_TARGETS)))).toEqual(["rec"]);
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe("EdgeInfer");
    t.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: compareId },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
    });
    const gatewayEnv = fns[fnId]?.Properties.Environment.Variables as Record<string, unknown>;
    expect(gatewayEnv.SHADOW_FUNCTION).toEqual({ Ref: compareId });
  });

  it("has no comparison function when no model has a shadow", () => {
    const plain = fixtureApp(defineCatalog({ models: [{ name: "det", backend: "cpu", liveVersion: 1 }] }));
    expect(plain.stacks.gateway.gateway.shadowCompare).toBeUndefined();
    const env = Object.values(Template.fromStack(plain.stacks.gateway).findResources("AWS::Lambda::Function"))
      .map((f) => f.Properties.Environment?.Variables ?? {})
      .find((v) => "MODEL_CATALOG" in v);
    expect(env?.SHADOW_FUNCTION).toBeUndefined();
  });
});
