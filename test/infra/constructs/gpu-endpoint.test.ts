import type { CfnElement } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { GpuEndpoint, VARIANT_NAME } from "../../../infra/constructs/gpu-endpoint";
import { defineCatalog, type GpuModel } from "../../../infra/model-spec";
import { sharpVersion } from "../../../infra/paths";
import { allowStatements, backendFixture, dockerImageSources, nagAcknowledged } from "../helpers";

const [model] = defineCatalog({
  models: [
    {
      name: "det-gpu",
      backend: "gpu",
      liveVersion: 4,
      instanceType: "ml.g5.xlarge",
      instanceCount: 2,
      rollout: { canary: { percent: 50, minutes: 10 } },
      alarms: { errors: 3, p99LatencyMs: 800 },
    },
  ],
}).models as GpuModel[];

function build() {
  const { app, stack, props, gatewayRole } = backendFixture("Gpu");
  const endpoint = new GpuEndpoint(stack, "Model", { ...props, model: model as GpuModel });
  endpoint.grantInvoke(gatewayRole());
  return { app, stack, endpoint };
}

describe("GpuEndpoint", () => {
  let b: ReturnType<typeof build>;
  let t: Template;
  const id = (c: { node: { defaultChild?: unknown } } | CfnElement) =>
    b.stack.getLogicalId(("logicalId" in c ? c : c.node.defaultChild) as CfnElement);
  beforeAll(() => {
    b = build();
    t = Template.fromStack(b.stack);
  });

  it("runs the GPU image with the model's variables under its own execution role", () => {
    t.hasResourceProperties("AWS::SageMaker::Model", {
      ExecutionRoleArn: { "Fn::GetAtt": [id(b.endpoint.role), "Arn"] },
      PrimaryContainer: {
        Image: { "Fn::Sub": Match.stringLikeRegexp("container-assets") },
        Environment: {
          MODEL_NAME: "det-gpu",
          MODEL_VERSION: "4",
          MODEL_CACHE_DIR: "/tmp/models",
          MODEL_REPOSITORY: Match.objectLike({ "Fn::Join": Match.anyValue() }),
        },
      },
    });
    expect(dockerImageSources(b.app, b.stack)).toEqual([
      expect.objectContaining({
        platform: "linux/amd64",
        dockerBuildArgs: { ORT_VERSION: "1.30.0", SHARP_VERSION: sharpVersion() },
      }),
    ]);
  });

  it("puts the model on the catalog's GPU instance type and count", () => {
    t.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
      ProductionVariants: [
        {
          VariantName: VARIANT_NAME,
          ModelName: { "Fn::GetAtt": [id(b.endpoint.sageMakerModel), "ModelName"] },
          InstanceType: "ml.g5.xlarge",
          InitialInstanceCount: 2,
          InitialVariantWeight: 1,
          ContainerStartupHealthCheckTimeoutInSeconds: 600,
        },
      ],
    });
  });

  it("updates blue/green with a canary and rolls back on its alarms", () => {
    t.hasResourceProperties("AWS::SageMaker::Endpoint", {
      EndpointName: b.endpoint.endpointName,
      EndpointConfigName: { "Fn::GetAtt": [id(b.endpoint.endpointConfig), "EndpointConfigName"] },
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: {
            Type: "CANARY",
            CanarySize: { Type: "CAPACITY_PERCENT", Value: 50 },
            WaitIntervalInSeconds: 600,
          },
          TerminationWaitInSeconds: 600,
        },
        AutoRollbackConfiguration: {
          Alarms: [
            { AlarmName: { Ref: id(b.endpoint.alarms.errors) } },
            { AlarmName: { Ref: id(b.endpoint.alarms.latency) } },
          ],
        },
      },
    });
  });

  it("alarms on 5xx errors and p99 model latency (microseconds) of the endpoint's variant", () => {
    const dims = [
      { Name: "EndpointName", Value: b.endpoint.endpointName },
      { Name: "VariantName", Value: VARIANT_NAME },
    ];
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "AWS/SageMaker",
      MetricName: "Invocation5XXErrors",
      Statistic: "Sum",
      Threshold: 3,
      Dimensions: dims,
    });
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "AWS/SageMaker",
      MetricName: "ModelLatency",
      ExtendedStatistic: "p99",
      Threshold: 800_000,
      Dimensions: dims,
    });
    expect(b.endpoint.endpointName).toMatch(/^[a-z0-9](-*[a-z0-9]){0,62}$/);
  });

  it("lets the role pull its image, write its logs, read its model folder and its rollback alarms only", () => {
    const statements = allowStatements(t).filter((s) => !s.actions.includes("sagemaker:InvokeEndpoint"));
    expect(statements.map((s) => [...s.actions].sort())).toEqual([
      ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
      ["ecr:GetAuthorizationToken"],
      ["logs:CreateLogStream", "logs:PutLogEvents"],
      ["logs:DescribeLogStreams"],
      ["s3:ListBucket"],
      ["s3:GetObject"],
      ["cloudwatch:DescribeAlarms"],
    ]);
    expect(statements[1]?.resources).toEqual(["*"]);
    expect(JSON.stringify(statements[5]?.resources)).toContain('"/models/det-gpu/*"');
    // SageMaker's guardrails read exactly the alarms its auto-rollback names.
    expect(statements[6]?.resources).toEqual([
      { "Fn::GetAtt": [id(b.endpoint.alarms.errors), "Arn"] },
      { "Fn::GetAtt": [id(b.endpoint.alarms.latency), "Arn"] },
    ]);
  });

  it("has a log group deleted with the stack, after the endpoint: the model can be removed and added again", () => {
    const [logId] = Object.keys(t.findResources("AWS::Logs::LogGroup"));
    t.hasResource("AWS::Logs::LogGroup", {
      Properties: {
        LogGroupName: `/aws/sagemaker/Endpoints/${b.endpoint.endpointName}`,
        RetentionInDays: 30,
      },
      DeletionPolicy: "Delete",
      UpdateReplacePolicy: "Delete",
    });
    t.hasResource("AWS::SageMaker::Endpoint", { DependsOn: Match.arrayWith([logId]) });
  });

  it("gives the container a deadline below SageMaker's 60 s, and every alarm an action", () => {
    t.hasResourceProperties("AWS::SageMaker::Model", {
      PrimaryContainer: { Environment: Match.objectLike({ BACKEND_TIMEOUT_MS: "20000" }) },
    });
    for (const [name, a] of Object.entries(t.findResources("AWS::CloudWatch::Alarm")))
      expect(a.Properties.AlarmActions, name).toHaveLength(1);
  });

  it("grants InvokeEndpoint on this endpoint only", () => {
    const invoke = allowStatements(t).filter((s) => s.actions.includes("sagemaker:InvokeEndpoint"));
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0]?.resources)).toContain(`:endpoint/${b.endpoint.endpointName}"`);
    expect(b.endpoint.catalogTarget.backend).toBe("sagemaker");
  });

  it("passes cdk-nag, each acknowledgement with its reason", () => {
    const acks = nagAcknowledged(b.app).filter((a) => a.path.startsWith("Gpu/"));
    expect(acks.map((a) => a.id).sort()).toEqual([
      "AwsSolutions-IAM5[Resource::*]",
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::.*\/models\/det-gpu\/\*\]$/),
      "AwsSolutions-SM1",
      "AwsSolutions-SM2",
    ]);
    for (const a of acks) expect(a.reason).toMatch(/\w{4,}.{30,}/);
  });
});
