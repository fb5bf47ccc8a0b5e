import { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { LambdaDeploymentConfig } from "aws-cdk-lib/aws-codedeploy";
import { describe, expect, it } from "vitest";
import { lambdaDeploymentConfig, rolloutSteps, sageMakerTrafficRouting } from "../../infra/rollout";

describe("lambdaDeploymentConfig", () => {
  it.each([
    ["all-at-once" as const, LambdaDeploymentConfig.ALL_AT_ONCE],
    [{ canary: { percent: 10, minutes: 5 } }, LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES],
    [{ canary: { percent: 10, minutes: 30 } }, LambdaDeploymentConfig.CANARY_10PERCENT_30MINUTES],
    [{ linear: { percent: 10, everyMinutes: 1 } }, LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE],
    [{ linear: { percent: 10, everyMinutes: 10 } }, LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_10MINUTES],
  ])("uses CodeDeploy's predefined config where one exists (%#)", (rollout, predefined) => {
    const stack = new Stack();
    expect(lambdaDeploymentConfig(stack, "Rollout", rollout)).toBe(predefined);
    expect(stack.node.children).toHaveLength(0);
  });

  it("creates a custom time-based canary config otherwise", () => {
    const stack = new Stack();
    lambdaDeploymentConfig(stack, "Rollout", { canary: { percent: 20, minutes: 10 } });
    Template.fromStack(stack).hasResourceProperties("AWS::CodeDeploy::DeploymentConfig", {
      ComputePlatform: "Lambda",
      TrafficRoutingConfig: {
        Type: "TimeBasedCanary",
        TimeBasedCanary: { CanaryInterval: 10, CanaryPercentage: 20 },
      },
    });
  });

  it("creates a custom time-based linear config otherwise", () => {
    const stack = new Stack();
    lambdaDeploymentConfig(stack, "Rollout", { linear: { percent: 25, everyMinutes: 4 } });
    Template.fromStack(stack).hasResourceProperties("AWS::CodeDeploy::DeploymentConfig", {
      TrafficRoutingConfig: {
        Type: "TimeBasedLinear",
        TimeBasedLinear: { LinearInterval: 4, LinearPercentage: 25 },
      },
    });
  });
});

describe("sageMakerTrafficRouting", () => {
  it("maps canary, linear and all-at-once to SageMaker's blue/green routing in seconds", () => {
    expect(sageMakerTrafficRouting({ canary: { percent: 50, minutes: 10 } })).toEqual({
      type: "CANARY",
      canarySize: { type: "CAPACITY_PERCENT", value: 50 },
      waitIntervalInSeconds: 600,
    });
    expect(sageMakerTrafficRouting({ linear: { percent: 25, everyMinutes: 2 } })).toEqual({
      type: "LINEAR",
      linearStepSize: { type: "CAPACITY_PERCENT", value: 25 },
      waitIntervalInSeconds: 120,
    });
    expect(sageMakerTrafficRouting("all-at-once")).toEqual({ type: "ALL_AT_ONCE", waitIntervalInSeconds: 0 });
  });

  it("reads a rollout as kind, percent and minutes", () => {
    expect(rolloutSteps({ linear: { percent: 5, everyMinutes: 3 } })).toEqual({
      kind: "linear",
      percent: 5,
      minutes: 3,
    });
    expect(rolloutSteps("all-at-once")).toEqual({ kind: "all-at-once", percent: 100, minutes: 0 });
  });
});
