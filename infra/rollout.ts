/**
 * Maps a catalog rollout to what each backend understands: a CodeDeploy Lambda deployment config
 * (a predefined one where it exists) and a SageMaker blue/green traffic routing configuration.
 */
import { Duration } from "aws-cdk-lib";
import {
  type ILambdaDeploymentConfig,
  LambdaDeploymentConfig,
  TrafficRouting,
} from "aws-cdk-lib/aws-codedeploy";
import type { CfnEndpoint } from "aws-cdk-lib/aws-sagemaker";
import type { Construct } from "constructs";
import type { Rollout } from "./model-spec";

// CodeDeploy's predefined Lambda configurations, keyed as `<kind>:<percent>:<minutes>`.
const PREDEFINED: Readonly<Record<string, ILambdaDeploymentConfig>> = {
  "canary:10:5": LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  "canary:10:10": LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
  "canary:10:15": LambdaDeploymentConfig.CANARY_10PERCENT_15MINUTES,
  "canary:10:30": LambdaDeploymentConfig.CANARY_10PERCENT_30MINUTES,
  "linear:10:1": LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
  "linear:10:2": LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_2MINUTES,
  "linear:10:3": LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES,
  "linear:10:10": LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_10MINUTES,
};

/** The rollout as kind, percent of traffic per step and minutes per step. */
export function rolloutSteps(rollout: Rollout): {
  kind: "all-at-once" | "canary" | "linear";
  percent: number;
  minutes: number;
} {
  if (rollout === "all-at-once") return { kind: "all-at-once", percent: 100, minutes: 0 };
  if ("canary" in rollout)
    return { kind: "canary", percent: rollout.canary.percent, minutes: rollout.canary.minutes };
  return { kind: "linear", percent: rollout.linear.percent, minutes: rollout.linear.everyMinutes };
}

/**
 * The CodeDeploy config for a rollout: predefined where CodeDeploy has one, else a custom
 * `LambdaDeploymentConfig` created under `scope` with id `id`.
 */
export function lambdaDeploymentConfig(
  scope: Construct,
  id: string,
  rollout: Rollout,
): ILambdaDeploymentConfig {
  const { kind, percent, minutes } = rolloutSteps(rollout);
  if (kind === "all-at-once") return LambdaDeploymentConfig.ALL_AT_ONCE;
  const predefined = PREDEFINED[`${kind}:${percent}:${minutes}`];
  if (predefined !== undefined) return predefined;
  const shift = { percentage: percent, interval: Duration.minutes(minutes) };
  return new LambdaDeploymentConfig(scope, id, {
    trafficRouting:
      kind === "canary" ? TrafficRouting.timeBasedCanary(shift) : TrafficRouting.timeBasedLinear(shift),
  });
}

/** The SageMaker blue/green traffic routing for a rollout (percent of the green fleet's capacity). */
export function sageMakerTrafficRouting(rollout: Rollout): CfnEndpoint.TrafficRoutingConfigProperty {
  const { kind, percent, minutes } = rolloutSteps(rollout);
  const waitIntervalInSeconds = minutes * 60;
  const step = { type: "CAPACITY_PERCENT", value: percent };
  if (kind === "canary") return { type: "CANARY", canarySize: step, waitIntervalInSeconds };
  if (kind === "linear") return { type: "LINEAR", linearStepSize: step, waitIntervalInSeconds };
  return { type: "ALL_AT_ONCE", waitIntervalInSeconds: 0 };
}
