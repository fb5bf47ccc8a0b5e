/**
 * The dashboard's shadow row: per shadowed model, what the comparison of its live version with its
 * shadow found (functions/shadow-compare and the gateway's hand-over, EMF dimensions {model, version}).
 */
import { Duration } from "aws-cdk-lib";
import { GraphWidget, Metric } from "aws-cdk-lib/aws-cloudwatch";

/** A model with a shadow: its name and live version (the metrics' `version` dimension). */
export interface ShadowedModel {
  readonly model: string;
  readonly liveVersion: number;
  readonly shadowVersion: number;
}

/** Counts on the left (compared, disagreements, errors, skipped, dropped), the max abs difference on the right. */
export function shadowWidgets(namespace: string, models: readonly ShadowedModel[]): GraphWidget[] {
  return models.map(({ model, liveVersion, shadowVersion }) => {
    const metric = (metricName: string, statistic: string, label: string) =>
      new Metric({
        namespace,
        metricName,
        dimensionsMap: { model, version: String(liveVersion) },
        statistic,
        period: Duration.minutes(1),
        label,
      });
    return new GraphWidget({
      title: `Shadow: ${model} v${liveVersion} vs v${shadowVersion}`,
      left: [
        metric("shadow_requests", "Sum", "compared"),
        metric("shadow_disagreements", "Sum", "disagreements"),
        metric("shadow_errors", "Sum", "shadow errors"),
        metric("shadow_skipped", "Sum", "skipped (over 1 MB)"),
        metric("shadow_dropped", "Sum", "dropped (hand-over failed)"),
      ],
      right: [metric("shadow_max_abs_diff", "Maximum", "max abs difference")],
      leftYAxis: { label: "count", showUnits: false },
      width: 12,
      height: 6,
    });
  });
}
