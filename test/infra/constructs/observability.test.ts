import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { defineCatalog } from "../../../infra/model-spec";
import { acknowledgements, fixtureApp, joinedText, nagErrors } from "../helpers";

const catalog = defineCatalog({
  models: [
    { name: "det", backend: "cpu", liveVersion: 1 },
    { name: "cls", backend: "cpu", liveVersion: 1 },
  ],
});

interface Widget {
  properties: { title: string; metrics?: unknown[][] };
}

describe("Observability", () => {
  let b: ReturnType<typeof fixtureApp>;
  let t: Template;
  let widgets: Widget[];
  beforeAll(() => {
    b = fixtureApp(catalog);
    t = Template.fromStack(b.stacks.observability);
    const [dashboard] = Object.values(t.findResources("AWS::CloudWatch::Dashboard"));
    widgets = (JSON.parse(joinedText(dashboard?.Properties.DashboardBody)) as { widgets: Widget[] }).widgets;
  });

  it("sends alarms to an SNS topic encrypted with a rotated key CloudWatch may use, TLS only", () => {
    const t = Template.fromStack(b.stacks.alarms);
    const keys = Object.keys(t.findResources("AWS::KMS::Key"));
    expect(keys).toHaveLength(1);
    const key = keys[0];
    t.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: { "Fn::GetAtt": [key, "Arn"] } });
    t.hasResourceProperties("AWS::KMS::Key", {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          }),
        ]),
      },
    });
    t.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ],
      },
    });
  });

  it("alarms on the gateway's 5xx rate and p99 latency, to the topic", () => {
    const topic = { "Fn::ImportValue": Match.stringLikeRegexp("^EdgeInfer-Alarms:") };
    const actions = { AlarmActions: [topic], OKActions: [topic] };
    const fn = {
      Name: "FunctionName",
      Value: { "Fn::ImportValue": Match.stringLikeRegexp("^EdgeInfer-Gateway:") },
    };
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      ...actions,
      Threshold: 5,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: "IF(req > 0, 100 * err / req, 0)" }),
        Match.objectLike({
          Id: "req",
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: "UrlRequestCount" }) }),
        }),
        Match.objectLike({
          Id: "err",
          MetricStat: Match.objectLike({
            Metric: { MetricName: "Url5xxCount", Namespace: "AWS/Lambda", Dimensions: [fn] },
          }),
        }),
      ]),
    });
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      ...actions,
      MetricName: "UrlRequestLatency",
      ExtendedStatistic: "p99",
      Threshold: 3000,
      Dimensions: [fn],
    });
  });

  it("graphs requests, errors and p50/p99 latency per model from the EdgeInfer namespace", () => {
    const metricsOf = (title: string) =>
      widgets.find((w) => w.properties.title === title)?.properties.metrics;
    expect(metricsOf("Requests per model")).toEqual([
      ["EdgeInfer", "requests", "model", "det", expect.objectContaining({ stat: "Sum", label: "det" })],
      ["EdgeInfer", "requests", "model", "cls", expect.objectContaining({ stat: "Sum", label: "cls" })],
    ]);
    expect(metricsOf("Errors per model")?.map((m) => m.slice(0, 4))).toEqual([
      ["EdgeInfer", "errors", "model", "det"],
      ["EdgeInfer", "errors", "model", "cls"],
    ]);
    expect(metricsOf("Latency p50 per model")?.[0]).toEqual([
      "EdgeInfer",
      "latency_ms",
      "model",
      "det",
      expect.objectContaining({ stat: "p50" }),
    ]);
    expect(metricsOf("Latency p99 per model")?.[1]?.[4]).toMatchObject({ stat: "p99", label: "cls" });
  });

  it("graphs the cache hit ratio per model from cache_hits and cache_misses", () => {
    const ratio =
      widgets.find((w) => w.properties.title === "Cache hit ratio per model")?.properties.metrics ?? [];
    const expressions = ratio
      .map((m) => m[0])
      .filter((m): m is { expression: string } => typeof m === "object");
    expect(expressions.map((e) => e.expression)).toEqual([
      "IF(h0 + m0 > 0, 100 * h0 / (h0 + m0), 0)",
      "IF(h1 + m1 > 0, 100 * h1 / (h1 + m1), 0)",
    ]);
    const inputs = ratio.filter((m) => typeof m[0] === "string").map((m) => m.slice(0, 4));
    expect(inputs).toEqual(
      expect.arrayContaining([
        ["EdgeInfer", "cache_hits", "model", "det"],
        ["EdgeInfer", "cache_misses", "model", "det"],
        ["EdgeInfer", "cache_hits", "model", "cls"],
        ["EdgeInfer", "cache_misses", "model", "cls"],
      ]),
    );
  });

  it("passes cdk-nag without any acknowledgement", () => {
    expect(nagErrors(b.app)).toEqual([]);
    expect(acknowledgements(b.app).filter((a) => a.path.startsWith("EdgeInfer-Observability/"))).toEqual([]);
  });
});
