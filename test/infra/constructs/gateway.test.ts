import type { CfnElement } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { CachePolicy, OriginRequestPolicy } from "aws-cdk-lib/aws-cloudfront";
import { beforeAll, describe, expect, it } from "vitest";
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
    { name: "rec", backend: "cpu", liveVersion: 2 },
    { name: "det-gpu", backend: "gpu", liveVersion: 1, instanceType: "ml.g5.xlarge", rollout: "all-at-once" },
  ],
});

describe("Gateway", () => {
  let b: ReturnType<typeof fixtureApp>;
  let t: Template;
  let fnId: string;
  beforeAll(() => {
    b = fixtureApp(catalog, { logLevel: "DEBUG" });
    t = Template.fromStack(b.stacks.gateway);
    fnId = b.stacks.gateway.getLogicalId(b.stacks.gateway.gateway.function.node.defaultChild as CfnElement);
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

  it("passes the catalog and the storage to the gateway through its environment", () => {
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

  it("exposes a Function URL with IAM auth, invokable by this distribution only", () => {
    t.hasResourceProperties("AWS::Lambda::Url", {
      AuthType: "AWS_IAM",
      TargetFunctionArn: { "Fn::GetAtt": [fnId, "Arn"] },
    });
    const distribution = b.stacks.gateway.getLogicalId(
      b.stacks.gateway.gateway.distribution.node.defaultChild as CfnElement,
    );
    for (const action of ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"]) {
      t.hasResourceProperties("AWS::Lambda::Permission", {
        Action: action,
        Principal: "cloudfront.amazonaws.com",
        SourceArn: { "Fn::Join": ["", Match.arrayWith([{ Ref: distribution }])] },
      });
    }
    t.resourceCountIs("AWS::Lambda::Permission", 2);
  });

  it("puts CloudFront in front with origin access control, HTTPS only, no caching, all methods", () => {
    t.hasResourceProperties("AWS::CloudFront::OriginAccessControl", {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: "lambda",
        SigningBehavior: "always",
        SigningProtocol: "sigv4",
      },
    });
    t.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: "https-only",
          AllowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
          CachePolicyId: CachePolicy.CACHING_DISABLED.cachePolicyId,
          OriginRequestPolicyId: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
        }),
        Origins: [
          Match.objectLike({
            OriginAccessControlId: { "Fn::GetAtt": [Match.stringLikeRegexp("OriginAccessControl"), "Id"] },
            CustomOriginConfig: Match.objectLike({
              OriginProtocolPolicy: "https-only",
              OriginReadTimeout: 30,
            }),
          }),
        ],
        Logging: Match.objectLike({ Prefix: "cloudfront/" }),
      }),
    });
  });

  it("may invoke the catalog's aliases and endpoints and nothing else", () => {
    const invoke = statementsFor(t, "lambda:InvokeFunction");
    for (const s of invoke) expect(s.actions).toEqual(["lambda:InvokeFunction"]);
    expect(invoke.flatMap((s) => s.resources)).toEqual([
      { "Fn::ImportValue": expect.stringMatching(/^EdgeInfer-Model-det:.*ModelLive/) },
      { "Fn::ImportValue": expect.stringMatching(/^EdgeInfer-Model-rec:.*ModelLive/) },
    ]);
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
      "AwsSolutions-S1",
    ]);
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(40);
  });
});
