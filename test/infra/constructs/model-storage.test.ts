import { Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { beforeAll, describe, expect, it } from "vitest";
import { ModelStorage } from "../../../infra/constructs/model-storage";
import { acknowledgements, allowStatements, nagApp, nagErrors, statementsFor } from "../helpers";

function build(extra?: (storage: ModelStorage, stack: Stack) => void) {
  const app = nagApp();
  const stack = new Stack(app, "Storage");
  const storage = new ModelStorage(stack, "ModelStorage");
  const consumer = new Stack(app, "Consumer");
  const reader = new Role(consumer, "Reader", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
  storage.grantRead(reader, "ocr-det/");
  storage.grantCacheReadWrite(reader);
  storage.grantApiKeysRead(reader);
  extra?.(storage, consumer);
  return { app, stack, storage, consumer };
}

describe("ModelStorage", () => {
  let built: ReturnType<typeof build>;
  let template: Template;
  let consumer: Template;
  beforeAll(() => {
    built = build();
    template = Template.fromStack(built.stack);
    consumer = Template.fromStack(built.consumer);
  });

  it("keeps the model repository versioned, encrypted, private, TLS-only, logged and retained", () => {
    const logs = built.stack.getLogicalId(built.storage.accessLogs.node.defaultChild as never);
    template.hasResource("AWS::S3::Bucket", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: "Enabled" },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: logs }, LogFilePrefix: "repository/" },
        LifecycleConfiguration: {
          Rules: [Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 90 } })],
        },
      }),
    });
    const repo = built.stack.getLogicalId(built.storage.bucket.node.defaultChild as never);
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: repo },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "s3:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  it("lets S3 deliver access logs through a bucket policy, not an ACL", () => {
    template.resourcePropertiesCountIs("AWS::S3::Bucket", { AccessControl: Match.anyValue() }, 0);
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "logging.s3.amazonaws.com" },
            Action: "s3:PutObject",
          }),
        ]),
      },
    });
  });

  it("creates the cache table on demand, with pk, TTL on expires_at and point-in-time recovery", () => {
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      Properties: {
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        TimeToLiveSpecification: { AttributeName: "expires_at", Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
  });

  it("creates the API keys table keyed by key_hash, on demand, with point-in-time recovery", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "key_hash", KeyType: "HASH" }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    template.resourceCountIs("AWS::DynamoDB::Table", 2);
  });

  it("grants read on one key prefix only: GetObject under it, ListBucket limited to it", () => {
    const [get] = statementsFor(consumer, "s3:GetObject");
    expect(get?.actions).toEqual(["s3:GetObject"]);
    expect(JSON.stringify(get?.resources)).toMatch(/"\/models\/ocr-det\/\*"\]\]\}\]$/);
    const [list] = statementsFor(consumer, "s3:ListBucket");
    expect(list?.condition).toEqual({ StringLike: { "s3:prefix": ["models/ocr-det/", "models/ocr-det/*"] } });
  });

  it("grants GetItem/PutItem on the cache and GetItem on the API keys, each on its own table", () => {
    const dynamo = allowStatements(consumer).filter((s) => s.actions.some((a) => a.startsWith("dynamodb:")));
    expect(dynamo.map((s) => s.actions)).toEqual([
      ["dynamodb:GetItem", "dynamodb:PutItem"],
      ["dynamodb:GetItem"],
    ]);
    expect(JSON.stringify(dynamo[0]?.resources)).toContain("Cache");
    expect(JSON.stringify(dynamo[1]?.resources)).toContain("ApiKeys");
  });

  it("passes cdk-nag with every acknowledgement reasoned, the prefix wildcard acknowledged narrowly", () => {
    expect(nagErrors(built.app)).toEqual([]);
    const acks = acknowledgements(built.app);
    expect(acks.map((a) => a.id)).toEqual([
      "AwsSolutions-S1",
      expect.stringMatching(
        /^AwsSolutions-IAM5\[Resource::Storage:ExportsOutput.*Arn.*\/models\/ocr-det\/\*\]$/,
      ),
    ]);
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(40);
  });

  it("still fails cdk-nag on a wildcard the grant did not make", () => {
    const other = build((storage, stack) => {
      const role = new Role(stack, "Greedy", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
      role.addToPolicy(
        new PolicyStatement({ actions: ["s3:GetObject"], resources: [storage.bucket.arnForObjects("*")] }),
      );
    });
    expect(() => other.app.synth()).toThrow(/AwsSolutions-IAM5/);
  });
});
