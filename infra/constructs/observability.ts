/**
 * Observability: a dashboard of the gateway's per-model EMF metrics (requests, errors, p50/p99
 * latency, cache hit ratio) and alarms on the gateway's 5xx rate and p99 latency, sent to the
 * alarm topic (infra/constructs/alarm-topic.ts).
 */
import { Duration } from "aws-cdk-lib";
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { EMF_DIMENSION, EMF_NAMESPACE } from "../../layers/telemetry/emf";
import { notify } from "./alarm-topic";
import { type ShadowedModel, shadowWidgets } from "./shadow-dashboard";

/** Properties of Observability. */
export interface ObservabilityProps {
  /** Catalog model names: one line per model on each graph. */
  readonly models: readonly string[];
  /** Where the gateway alarms go. */
  readonly topic: ITopic;
  /** The gateway function (its Function URL metrics drive the alarms). */
  readonly gatewayFunction: IFunction;
  /** EMF namespace of the gateway's metrics (its only dimension is `model`: layers/telemetry/emf.ts). @default "EdgeInfer" */
  readonly namespace?: string;
  /** Gateway 5xx responses, in percent of requests, that trip the alarm. @default 5 */
  readonly errorRatePercent?: number;
  /** Gateway p99 latency in ms that trips the alarm. @default 3000 */
  readonly p99LatencyMs?: number;
  /** Models with a shadow: one graph each in the shadow row. @default none */
  readonly shadows?: readonly ShadowedModel[];
}

/** Dashboard and gateway alarms. */
export class Observability extends Construct {
  readonly dashboard: Dashboard;
  readonly alarms: { readonly errorRate: Alarm; readonly latency: Alarm };

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const namespace = props.namespace ?? EMF_NAMESPACE;
    const period = Duration.minutes(1);
    const fn = props.gatewayFunction;

    const requests = fn.metric("UrlRequestCount", { period, statistic: "Sum" });
    const errors5xx = fn.metric("Url5xxCount", { period, statistic: "Sum" });
    const errorRate = new MathExpression({
      expression: "IF(req > 0, 100 * err / req, 0)",
      usingMetrics: { req: requests, err: errors5xx },
      period,
      label: "gateway 5xx %",
    });
    const latency = fn.metric("UrlRequestLatency", { period, statistic: "p99" });
    const threshold = { rate: props.errorRatePercent ?? 5, latency: props.p99LatencyMs ?? 3000 };
    const alarm = (alarmId: string, metric: IMetric, value: number, what: string) => {
      const a = new Alarm(this, alarmId, {
        metric,
        threshold: value,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `edge-infer gateway: ${what} in 3 of 5 minutes.`,
      });
      return notify(a, props.topic);
    };
    this.alarms = {
      errorRate: alarm("ErrorRate", errorRate, threshold.rate, `5xx >= ${threshold.rate}% of requests`),
      latency: alarm("LatencyP99", latency, threshold.latency, `p99 latency >= ${threshold.latency} ms`),
    };

    const perModel = (metricName: string, statistic: string) =>
      props.models.map(
        (model) =>
          new Metric({
            namespace,
            metricName,
            dimensionsMap: { [EMF_DIMENSION]: model },
            statistic,
            period,
            label: model,
          }),
      );
    const hitRatio = props.models.map((model, i) => {
      const dims = { [EMF_DIMENSION]: model };
      return new MathExpression({
        expression: `IF(h${i} + m${i} > 0, 100 * h${i} / (h${i} + m${i}), 0)`,
        usingMetrics: {
          [`h${i}`]: new Metric({
            namespace,
            metricName: "cache_hits",
            dimensionsMap: dims,
            statistic: "Sum",
            period,
          }),
          [`m${i}`]: new Metric({
            namespace,
            metricName: "cache_misses",
            dimensionsMap: dims,
            statistic: "Sum",
            period,
          }),
        },
        period,
        label: model,
      });
    });
    const graph = (title: string, left: IMetric[], unit?: string) =>
      new GraphWidget({
        title,
        left,
        width: 12,
        height: 6,
        leftYAxis: unit ? { label: unit, showUnits: false } : {},
      });

    this.dashboard = new Dashboard(this, "Dashboard", { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: "Gateway alarms",
        alarms: [this.alarms.errorRate, this.alarms.latency],
        width: 24,
      }),
    );
    this.dashboard.addWidgets(
      graph("Requests per model", perModel("requests", "Sum"), "count"),
      graph("Errors per model", perModel("errors", "Sum"), "count"),
    );
    this.dashboard.addWidgets(
      graph("Latency p50 per model", perModel("latency_ms", "p50"), "ms"),
      graph("Latency p99 per model", perModel("latency_ms", "p99"), "ms"),
    );
    this.dashboard.addWidgets(
      graph("Cache hit ratio per model", hitRatio, "%"),
      new GraphWidget({
        title: "Gateway (Function URL): 5xx % (left), p99 latency ms (right)",
        left: [errorRate],
        right: [latency],
        width: 12,
        height: 6,
      }),
    );
    const shadows = shadowWidgets(namespace, props.shadows ?? []);
    if (shadows.length > 0) this.dashboard.addWidgets(...shadows);
  }
}
