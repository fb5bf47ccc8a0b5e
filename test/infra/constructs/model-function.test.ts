import type { CfnElement } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { Alarm } from "aws-cdk-lib/aws-cloudwatch";
import type { Role } from "aws-cdk-lib/aws-iam";
import { beforeAll, describe, expect, it } from "vitest";
import { ModelFunction } from "../../../infra/constructs/model-function";
import { type CpuModel, defineCatalog } from "../../../infra/model-spec";
import { sharpVersion } from "../../../infra/paths";
import { allowStatements, backendFixture, dockerImageSources, nagAcknowledged } from "../helpers";

const [det, rec] = defineCatalog({
  models: [
    {
      name: "det",
      backend: "cpu",
      liveVersion: 3,
      memoryMiB: 3008,
      timeoutSeconds: 20,
      architecture: "x86_64",
      provisionedConcurrency: 2,
      alarms: { errors: 2, p99LatencyMs: 1500, throttles: 4, evaluationPeriods: 3 },
    },
    { name: "rec", backend: "cpu", liveVersion: 1, rollout: { canary: { percent: 20, minutes: 10 } } },
  ],
}).models as CpuModel[];

function build() {
  const { app, stack, alarmTopic, props, gatewayRole } = backendFixture("Models");
  const fns = {
    det: new ModelFunction(stack, "Det", { ...props, model: det as CpuModel }),
    rec: new ModelFunction(stack, "Rec", { ...props, model: rec as CpuModel }),
  };
  const gateway = gatewayRole();
  fns.det.grantInvoke(gateway);
  return { app, stack, fns, gateway, topic: alarmTopic };
}

describe("ModelFunction", () => {
  let b: ReturnType<typeof build>;
  let t: Template;
  const id = (c: { node: { defaultChild?: unknown } }) =>
    b.stack.getLogicalId(c.node.defaultChild as CfnElement);
  beforeAll(() => {
    b = build();
    t = Template.fromStack(b.stack);
  });

  it("is a container image function sized and configured from the catalog", () => {
    t.hasResourceProperties("AWS::Lambda::Function", {
      PackageType: "Image",
      MemorySize: 3008,
      Timeout: 20,
      Architectures: ["x86_64"],
      Environment: {
        Variables: {
          MODEL_NAME: "det",
          MODEL_VERSION: "3",
          MODEL_CACHE_DIR: "/tmp/models",
          MODEL_REPOSITORY: {
            "Fn::Join": [
              "",
              ["s3://", { "Fn::ImportValue": Match.stringLikeRegexp("Repository") }, "/models"],
            ],
          },
        },
      },
    });
    t.hasResourceProperties("AWS::Lambda::Function", {
      MemorySize: 2048,
      Timeout: 20,
      Architectures: ["arm64"],
    });
  });

  it("builds the image for the model's architecture with the pinned ORT and sharp versions", () => {
    const sources = dockerImageSources(b.app, b.stack);
    expect(sources.map((s) => s.platform).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    for (const s of sources)
      expect(s).toMatchObject({
        dockerFile: "Dockerfile",
        dockerBuildArgs: { ORT_VERSION: "1.30.0", SHARP_VERSION: sharpVersion() },
      });
  });

  it("publishes a version and points alias live at it, with provisioned concurrency where asked", () => {
    const versions = t.findResources("AWS::Lambda::Version");
    expect(Object.keys(versions)).toHaveLength(2);
    const detVersion = Object.keys(versions).find((k) => k.startsWith("DetFunctionCurrentVersion"));
    expect(detVersion).toBeDefined();
    t.hasResourceProperties("AWS::Lambda::Alias", {
      Name: "live",
      FunctionName: { Ref: id(b.fns.det.function) },
      FunctionVersion: { "Fn::GetAtt": [detVersion, "Version"] },
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
    });
    t.hasResourceProperties("AWS::Lambda::Alias", {
      FunctionName: { Ref: id(b.fns.rec.function) },
      ProvisionedConcurrencyConfig: Match.absent(),
    });
  });

  it("lets CodeDeploy move alias live with the catalog rollout", () => {
    t.hasResource("AWS::Lambda::Alias", {
      Properties: Match.objectLike({ FunctionName: { Ref: id(b.fns.det.function) } }),
      UpdatePolicy: {
        CodeDeployLambdaAliasUpdate: {
          ApplicationName: { Ref: Match.stringLikeRegexp("^DetDeploymentApplication") },
          DeploymentGroupName: { Ref: id(b.fns.det.deploymentGroup) },
        },
      },
    });
    t.hasResourceProperties("AWS::CodeDeploy::DeploymentGroup", {
      DeploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    });
    const custom = Object.keys(t.findResources("AWS::CodeDeploy::DeploymentConfig"));
    expect(custom).toHaveLength(1);
    t.hasResourceProperties("AWS::CodeDeploy::DeploymentConfig", {
      TrafficRoutingConfig: {
        Type: "TimeBasedCanary",
        TimeBasedCanary: { CanaryInterval: 10, CanaryPercentage: 20 },
      },
    });
    t.hasResourceProperties("AWS::CodeDeploy::DeploymentGroup", { DeploymentConfigName: { Ref: custom[0] } });
  });

  it("rolls back on the new version's error rate, run-failure rate and p99, updated before the alias moves", () => {
    const { errorRate, runFailureRate, durationP99 } = b.fns.det.alarms.release;
    t.hasResourceProperties("AWS::CodeDeploy::DeploymentGroup", {
      DeploymentGroupName: Match.absent(),
      AlarmConfiguration: {
        Enabled: true,
        Alarms: [
          { Name: { Ref: id(errorRate) } },
          { Name: { Ref: id(runFailureRate) } },
          { Name: { Ref: id(durationP99) } },
        ],
      },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: Match.arrayWith(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]),
      },
    });
    const versionId = Object.keys(t.findResources("AWS::Lambda::Version")).find((k) => k.startsWith("Det"));
    const onNewVersion = [
      { Name: "ExecutedVersion", Value: { "Fn::GetAtt": [versionId, "Version"] } },
      { Name: "FunctionName", Value: { Ref: id(b.fns.det.function) } },
      { Name: "Resource", Value: { "Fn::Join": ["", [{ Ref: id(b.fns.det.function) }, ":live"]] } },
    ];
    const alarms = t.findResources("AWS::CloudWatch::Alarm");
    type Query = { Id: string; Expression?: string; MetricStat?: { Metric: unknown; Stat: string } };
    const queries = (a: { node: { defaultChild?: unknown } }) => alarms[id(a)]?.Properties.Metrics as Query[];
    // One error in three requests is no evidence: below 10 invocations a minute the rate reads 0.
    const expression = "IF(total >= 10, 100 * FILL(failures, 0) / total, 0)";
    expect(alarms[id(errorRate)]?.Properties).toMatchObject({ EvaluationPeriods: 3, Threshold: 5 });
    // failures / total per minute, both summed from one namespace and one set of dimensions.
    const rate = (Namespace: string, failures: string, total: string, Dimensions: unknown) => [
      [expect.any(String), expression],
      ["failures", { Metric: { Namespace, MetricName: failures, Dimensions }, Period: 60, Stat: "Sum" }],
      ["total", { Metric: { Namespace, MetricName: total, Dimensions }, Period: 60, Stat: "Sum" }],
    ];
    const idAndQuery = (q: Query) => [q.Id, q.Expression ?? q.MetricStat];
    expect(queries(errorRate).map(idAndQuery)).toEqual(
      rate("AWS/Lambda", "Errors", "Invocations", onNewVersion),
    );
    const emf = [
      { Name: "model", Value: "det" },
      { Name: "version", Value: "3" },
    ];
    expect(queries(runFailureRate).map(idAndQuery)).toEqual(
      rate("EdgeInfer", "model_run_failures", "model_runs", emf),
    );
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "AWS/Lambda",
      MetricName: "Duration",
      ExtendedStatistic: "p99",
      Threshold: 1500,
      Dimensions: onNewVersion,
    });
    const alias = t.findResources("AWS::Lambda::Alias")[id(b.fns.det.alias)];
    expect(alias?.DependsOn).toEqual(
      expect.arrayContaining([id(errorRate), id(runFailureRate), id(durationP99)]),
    );
  });

  it("keeps steady-state alarms on alias live: errors, p99 duration, throttles; every alarm notifies", () => {
    const onAlias = [
      { Name: "FunctionName", Value: { Ref: id(b.fns.det.function) } },
      { Name: "Resource", Value: { "Fn::Join": ["", [{ Ref: id(b.fns.det.function) }, ":live"]] } },
    ];
    const common = { Namespace: "AWS/Lambda", Period: 60, EvaluationPeriods: 3, Dimensions: onAlias };
    t.hasResourceProperties("AWS::CloudWatch::Alarm", { ...common, MetricName: "Errors", Threshold: 2 });
    t.hasResourceProperties("AWS::CloudWatch::Alarm", { ...common, MetricName: "Duration", Threshold: 1500 });
    t.hasResourceProperties("AWS::CloudWatch::Alarm", { ...common, MetricName: "Throttles", Threshold: 4 });
    const alarms = t.findResources("AWS::CloudWatch::Alarm");
    expect(Object.keys(alarms)).toHaveLength(12);
    for (const [name, a] of Object.entries(alarms)) {
      expect(a.Properties.AlarmActions, name).toEqual([{ Ref: id(b.topic) }]);
      expect(a.Properties.OKActions, name).toEqual([{ Ref: id(b.topic) }]);
    }
  });

  it("checks a new version before any traffic moves: a BeforeAllowTraffic hook on every alias", () => {
    for (const fn of [b.fns.det, b.fns.rec]) {
      t.hasResource("AWS::Lambda::Alias", {
        Properties: Match.objectLike({ FunctionName: { Ref: id(fn.function) } }),
        UpdatePolicy: {
          CodeDeployLambdaAliasUpdate: Match.objectLike({
            BeforeAllowTrafficHook: { Ref: id(fn.releaseHook.function) },
          }),
        },
      });
    }
    const versionId = Object.keys(t.findResources("AWS::Lambda::Version")).find((k) => k.startsWith("Det"));
    t.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Environment: {
        Variables: Match.objectLike({
          FUNCTION_NAME: { Ref: id(b.fns.det.function) },
          NEW_VERSION: { "Fn::GetAtt": [versionId, "Version"] },
          MODEL_NAME: "det",
          ALIAS: "live",
        }),
      },
    });
  });

  it("lets the hook invoke only its own model's new version and alias, read its folder and report to CodeDeploy", () => {
    const hook = b.fns.det.releaseHook.function;
    const role = id(hook.role as Role);
    const policy = Object.values(t.findResources("AWS::IAM::Policy")).find((p) =>
      JSON.stringify(p.Properties.Roles).includes(role),
    );
    const statements = allowStatements(Template.fromJSON({ Resources: { P: policy } }));
    const versionId = Object.keys(t.findResources("AWS::Lambda::Version")).find((k) => k.startsWith("Det"));
    expect(statements.map((s) => s.actions)).toEqual([
      ["logs:CreateLogStream", "logs:PutLogEvents"],
      ["lambda:InvokeFunction"],
      ["s3:ListBucket"],
      ["s3:GetObject"],
      ["codedeploy:PutLifecycleEventHookExecutionStatus"],
    ]);
    expect(statements[1]?.resources).toHaveLength(2);
    expect(statements[1]?.resources).toEqual(
      expect.arrayContaining([
        { Ref: versionId },
        { "Fn::Join": ["", [{ "Fn::GetAtt": [id(b.fns.det.function), "Arn"] }, ":live"]] },
      ]),
    );
    expect(JSON.stringify(statements[3]?.resources)).toContain('"/models/det/*"');
    expect(JSON.stringify(statements[4]?.resources)).toContain(`deploymentgroup:`);
    expect(JSON.stringify(statements[4]?.resources)).toContain(id(b.fns.det.deploymentGroup));
  });

  it("gives the function its log group and read on its own model folder, nothing more", () => {
    const role = id(b.fns.det.function.role as Role);
    const policy = Object.values(t.findResources("AWS::IAM::Policy")).find((p) =>
      JSON.stringify(p.Properties.Roles).includes(role),
    );
    const statements = allowStatements(Template.fromJSON({ Resources: { P: policy } }));
    expect(statements.map((s) => s.actions)).toEqual([
      ["logs:CreateLogStream", "logs:PutLogEvents"],
      ["s3:ListBucket"],
      ["s3:GetObject"],
    ]);
    expect(JSON.stringify(statements[2]?.resources)).toContain('"/models/det/*"');
    expect(statements[1]?.condition).toEqual({
      StringLike: { "s3:prefix": ["models/det/", "models/det/*"] },
    });
  });

  it("grants invoke on alias live only", () => {
    const invoke = allowStatements(t).filter((s) => s.actions.includes("lambda:InvokeFunction"));
    const gatewayRole = id(b.gateway);
    const policy = Object.values(t.findResources("AWS::IAM::Policy")).find((p) =>
      JSON.stringify(p.Properties.Roles).includes(gatewayRole),
    );
    expect(allowStatements(Template.fromJSON({ Resources: { P: policy } }))).toEqual([
      { actions: ["lambda:InvokeFunction"], resources: [{ Ref: id(b.fns.det.alias) }], condition: undefined },
    ]);
    // Besides the gateway's: each release hook on its own function, CodeDeploy on each hook.
    expect(invoke).toHaveLength(5);
    expect(b.fns.det.catalogTarget.backend).toBe("lambda");
  });

  it("passes cdk-nag, acknowledging only CodeDeploy's managed policy, the prefix wildcard and the hook's versions", () => {
    const ids = nagAcknowledged(b.app).map((a) => a.id);
    expect(ids.filter((i) => i.startsWith("AwsSolutions-IAM4"))).toEqual([
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]",
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]",
    ]);
    const wildcards = ids.filter((i) => i.startsWith("AwsSolutions-IAM5")).sort();
    expect(wildcards).toEqual([
      "AwsSolutions-IAM5[Resource::<DetReleaseHookFunction46CECEB5.Arn>:*]",
      "AwsSolutions-IAM5[Resource::<RecReleaseHookFunctionD841D601.Arn>:*]",
      expect.stringMatching(/\/models\/det\/\*\]$/),
      expect.stringMatching(/\/models\/det\/\*\]$/),
      expect.stringMatching(/\/models\/rec\/\*\]$/),
      expect.stringMatching(/\/models\/rec\/\*\]$/),
    ]);
  });
});

describe("ModelFunction with a shadow", () => {
  const [strict, retrained] = defineCatalog({
    models: [
      {
        name: "strict",
        backend: "cpu",
        liveVersion: 2,
        shadow: { version: 1, percent: 10 },
        compareWithLive: true,
      },
      { name: "retrained", backend: "cpu", liveVersion: 4, shadow: { version: 3, percent: 5 } },
    ],
  }).models as CpuModel[];
  const { stack, props: opts } = backendFixture("Models");
  const fns = {
    strict: new ModelFunction(stack, "Strict", { ...opts, model: strict as CpuModel }),
    retrained: new ModelFunction(stack, "Retrained", { ...opts, model: retrained as CpuModel }),
  };
  const t = Template.fromStack(stack);
  const id = (c: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(c.node.defaultChild as CfnElement);
  const groups = Object.values(t.findResources("AWS::CodeDeploy::DeploymentGroup"));
  const rollbackAlarms = (fn: ModelFunction) =>
    groups
      .map((g) => g.Properties.AlarmConfiguration.Alarms as Array<{ Name: { Ref: string } }>)
      .find((alarms) => alarms.some((a) => a.Name.Ref === id(fn.alarms.release.errorRate)))
      ?.map((a) => a.Name.Ref);

  it("alarms on the disagreement rate of the live version with its shadow (EMF {model, version})", () => {
    const alarm = fns.strict.alarms.shadow;
    expect(alarm).toBeDefined();
    const props = t.findResources("AWS::CloudWatch::Alarm")[id(alarm as Alarm)]?.Properties;
    expect(props).toMatchObject({ Threshold: 5, AlarmActions: [{ Ref: expect.any(String) }] });
    type Query = { Id: string; Expression?: string; MetricStat?: { Metric: Record<string, unknown> } };
    const queries = props?.Metrics as Query[];
    expect(queries[0]?.Expression).toBe("IF(total >= 10, 100 * FILL(failures, 0) / total, 0)");
    const dims = [
      { Name: "model", Value: "strict" },
      { Name: "version", Value: "2" },
    ];
    expect(queries.slice(1).map((q) => q.MetricStat?.Metric)).toEqual([
      { Namespace: "EdgeInfer", MetricName: "shadow_disagreements", Dimensions: dims },
      { Namespace: "EdgeInfer", MetricName: "shadow_requests", Dimensions: dims },
    ]);
  });

  it("rolls back on it when compareWithLive is set; only reports it otherwise", () => {
    expect(rollbackAlarms(fns.strict)).toContain(id(fns.strict.alarms.shadow as Alarm));
    expect(rollbackAlarms(fns.strict)).toHaveLength(4);
    expect(fns.retrained.alarms.shadow).toBeDefined();
    expect(rollbackAlarms(fns.retrained)).not.toContain(id(fns.retrained.alarms.shadow as Alarm));
    expect(rollbackAlarms(fns.retrained)).toHaveLength(3);
    expect(fns.retrained.alarms.shadow?.node.defaultChild).toBeDefined();
    const description = (fn: ModelFunction) =>
      t.findResources("AWS::CloudWatch::Alarm")[id(fn.alarms.shadow as Alarm)]?.Properties.AlarmDescription;
    expect(description(fns.strict)).toContain("Rolls back the deployment in progress.");
    expect(description(fns.retrained)).toContain("Reported only");
  });

  it("has no shadow alarm without a shadow", () => {
    expect(build().fns.det.alarms.shadow).toBeUndefined();
  });
});
