/**
 * A CPU model's alarms. Release alarms watch the new Lambda version alone (`ExecutedVersion`, so a
 * 10 % canary is not diluted by the old version's traffic): its error rate, its ONNX Runtime
 * run-failure rate (the function's EMF metrics) and its p99 duration; they are the deployment
 * group's alarms. Steady-state alarms watch alias `live` whatever version serves it. A model with a
 * shadow also has a disagreement-rate alarm (the comparison function's EMF metrics for the live
 * version): a release alarm when the catalog line sets `compareWithLive`, otherwise it only
 * reports (a retrained model is meant to differ). All notify.
 */
import { Duration } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import type { Alias, IFunction, IVersion } from "aws-cdk-lib/aws-lambda";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import type { CpuModel } from "../model-spec";
import { notify } from "./alarm-topic";

/** EMF metrics of the model function (per model version): runs and ORT run failures. */
export const RUN_METRICS = { runs: "model_runs", failures: "model_run_failures" } as const;
/** EMF metrics of the shadow comparison function (per model and live version): functions/shadow-compare. */
export const SHADOW_ALARM_METRICS = {
  requests: "shadow_requests",
  disagreements: "shadow_disagreements",
} as const;

/** Inputs of modelFunctionAlarms. */
export interface ModelAlarmProps {
  readonly model: CpuModel;
  readonly function: IFunction;
  /** The version being released (the alias's new target). */
  readonly version: IVersion;
  readonly alias: Alias;
  readonly topic: ITopic;
  /** EMF namespace of the model function's metrics. */
  readonly namespace: string;
}

/** The alarms of one model function. */
export interface ModelFunctionAlarms {
  /** On the new version: stop and roll back a deployment. */
  readonly release: {
    readonly errorRate: Alarm;
    readonly runFailureRate: Alarm;
    readonly durationP99: Alarm;
    /** The shadow alarm, when the model has a shadow and `compareWithLive`. */
    readonly shadowDisagreementRate?: Alarm;
  };
  /** Disagreement rate of the live version with its shadow; absent without a shadow. */
  readonly shadow?: Alarm;
  /** On alias `live`: a model failing at steady state. */
  readonly steady: { readonly errors: Alarm; readonly duration: Alarm; readonly throttles: Alarm };
}

const period = Duration.minutes(1);

/** Creates the release and steady-state alarms under `scope`. */
export function modelFunctionAlarms(scope: Construct, props: ModelAlarmProps): ModelFunctionAlarms {
  const { model, alias, topic } = props;
  const t = model.alarms;
  const alarm = (id: string, metric: IMetric, threshold: number, what: string) =>
    notify(
      new Alarm(scope, id, {
        metric,
        threshold,
        evaluationPeriods: t.evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `${model.name} ${what}`,
      }),
      topic,
    );

  // Lambda's per-version metrics of calls through the alias; the Resource names the alias by text
  // (not by reference), so the alarms can be updated before the alias, which waits for them.
  const lambdaMetric = (metricName: string, statistic: string) =>
    new Metric({
      namespace: "AWS/Lambda",
      metricName,
      dimensionsMap: {
        FunctionName: props.function.functionName,
        Resource: `${props.function.functionName}:${alias.aliasName}`,
        ExecutedVersion: props.version.version,
      },
      statistic,
      period,
    });
  const runMetric = (metricName: string) =>
    new Metric({
      namespace: props.namespace,
      metricName,
      dimensionsMap: { model: model.name, version: String(model.liveVersion) },
      statistic: "Sum",
      period,
    });
  // Below `minInvocations` a minute the rate reads 0: one error in three requests is no evidence.
  const rate = (label: string, failures: IMetric, total: IMetric) =>
    new MathExpression({
      expression: `IF(total >= ${t.minInvocations}, 100 * FILL(failures, 0) / total, 0)`,
      usingMetrics: { failures, total },
      period,
      label,
    });
  const release = " Rolls back the deployment in progress.";
  const newVersion = `(new Lambda version, model version ${model.liveVersion})`;
  const shadow =
    model.shadow === undefined
      ? undefined
      : alarm(
          "ShadowDisagreementRate",
          rate(
            "shadow disagreement %",
            runMetric(SHADOW_ALARM_METRICS.disagreements),
            runMetric(SHADOW_ALARM_METRICS.requests),
          ),
          t.shadowDisagreementRatePercent,
          `(model version ${model.liveVersion} vs shadow version ${model.shadow.version}): disagreements >= ${t.shadowDisagreementRatePercent}% of compared requests (at least ${t.minInvocations} a minute).${model.compareWithLive ? release : " Reported only: compareWithLive is false."}`,
        );
  return {
    ...(shadow === undefined ? {} : { shadow }),
    release: {
      ...(shadow !== undefined && model.compareWithLive ? { shadowDisagreementRate: shadow } : {}),
      errorRate: alarm(
        "VersionErrorRate",
        rate("error %", lambdaMetric("Errors", "Sum"), lambdaMetric("Invocations", "Sum")),
        t.errorRatePercent,
        `${newVersion}: function errors >= ${t.errorRatePercent}% of invocations (at least ${t.minInvocations} a minute).${release}`,
      ),
      runFailureRate: alarm(
        "VersionRunFailureRate",
        rate("run failure %", runMetric(RUN_METRICS.failures), runMetric(RUN_METRICS.runs)),
        t.runFailureRatePercent,
        `${newVersion}: ONNX Runtime run failures >= ${t.runFailureRatePercent}% of runs (at least ${t.minInvocations} a minute).${release}`,
      ),
      durationP99: alarm(
        "VersionDurationP99",
        lambdaMetric("Duration", "p99"),
        t.p99LatencyMs,
        `${newVersion}: p99 duration >= ${t.p99LatencyMs} ms.${release}`,
      ),
    },
    steady: {
      errors: alarm(
        "Errors",
        alias.metricErrors({ period, statistic: "Sum" }),
        t.errors,
        `(alias live): >= ${t.errors} errors a minute.`,
      ),
      duration: alarm(
        "DurationP99",
        alias.metricDuration({ period, statistic: "p99" }),
        t.p99LatencyMs,
        `(alias live): p99 duration >= ${t.p99LatencyMs} ms.`,
      ),
      throttles: alarm(
        "Throttles",
        alias.metricThrottles({ period, statistic: "Sum" }),
        t.throttles,
        `(alias live): >= ${t.throttles} throttles a minute.`,
      ),
    },
  };
}
