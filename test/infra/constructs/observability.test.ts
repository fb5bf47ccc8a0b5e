import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { defineCatalog } from "../../../infra/model-spec";
import { EmfMetrics } from "../../../layers/telemetry/emf";
import { acknowledgements, fixtureApp, joinedText, nagErrors } from "../helpers";

const catalog = defineCatalog({
  models: [
    { name: "det", backend: "cpu", liveVersion: 1 },
    { name: "cls", backend: "cpu", liveVersion: 2, shadow: { version: 1, percent: 10 } },
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

  it("graphs a shadowed model's comparison: counts of its live version, the max abs difference", () => {
    const shadow = widgets.filter((w) => w.properties.title.startsWith("Shadow:"));
    expect(shadow.map((w) => w.properties.title)).toEqual(["Shadow: cls v2 vs v1"]);
    const metrics = shadow[0]?.properties.metrics ?? [];
    expect(metrics.map((m) => m.slice(0, 6))).toEqual(
      [
        "shadow_requests",
        "shadow_disagreements",
        "shadow_errors",
        "shadow_skipped",
        "shadow_dropped",
        "shadow_max_abs_diff",
      ].map((name) => ["EdgeInfer", name, "model", "cls", "version", "2"]),
    );
    expect(metrics.at(-1)?.[6]).toMatchObject({ stat: "Maximum", yAxis: "right" });
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

  it.each([
    ["the default namespace", {}],
    ["a namespace of its own", { metricsNamespace: "Inference" }],
  ])(
    "graphs exactly the namespace, metric names and dimension sets the gateway's EMF carries (%s)",
    (_, props) => {
      const app = fixtureApp(catalog, props);
      const fn = Object.values(
        Template.fromStack(app.stacks.gateway).findResources("AWS::Lambda::Function"),
      ).find((f) => f.Properties.Environment?.Variables?.POWERTOOLS_METRICS_NAMESPACE !== undefined);
      const env = fn?.Properties.Environment.Variables as Record<string, string>;
      const [dashboard] = Object.values(
        Template.fromStack(app.stacks.observability).findResources("AWS::CloudWatch::Dashboard"),
      );
      const graphed = (
        JSON.parse(joinedText(dashboard?.Properties.DashboardBody)) as { widgets: Widget[] }
      ).widgets
        .flatMap((w) => w.properties.metrics ?? [])
        // Lambda's own Function URL metrics (AWS/Lambda) are not the gateway's EMF.
        .filter((m): m is string[] => typeof m[0] === "string" && !m[0].startsWith("AWS/"))
        // The shadow row's metrics are the comparison function's (test/functions/shadow-compare).
        .filter((m) => !String(m[1]).startsWith("shadow_"))
        .map((m) => m.filter((x) => typeof x === "string"));
      expect(graphed.length).toBe(12); // requests, errors, p50, p99, hits, misses: per model

      // The gateway's EMF as it would print it on Lambda, with the function's environment.
      const saved = process.env.POWERTOOLS_SERVICE_NAME;
      process.env.POWERTOOLS_SERVICE_NAME = env.POWERTOOLS_SERVICE_NAME;
      const emf = new EmfMetrics(env.POWERTOOLS_METRICS_NAMESPACE);
      if (saved === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
      else process.env.POWERTOOLS_SERVICE_NAME = saved;
      for (const model of ["det", "cls"]) {
        emf.recordRequest({ model, status: 200, durationMs: 3 });
        emf.cacheHit(model);
        emf.cacheMiss(model);
      }
      type Doc = Record<string, unknown> & {
        _aws: {
          CloudWatchMetrics: Array<{
            Namespace: string;
            Dimensions: string[][];
            Metrics: Array<{ Name: string }>;
          }>;
        };
      };
      const docs = emf.flush().map((l) => JSON.parse(l) as Doc);
      for (const [namespace, name, ...dims] of graphed) {
        const keys = dims.filter((_, i) => i % 2 === 0);
        const found = docs.some(
          (d) =>
            keys.every((k, i) => d[k] === dims[2 * i + 1]) &&
            d._aws.CloudWatchMetrics.some(
              (c) =>
                c.Namespace === namespace &&
                c.Metrics.some((m) => m.Name === name) &&
                c.Dimensions.some((set) => [...set].sort().join() === [...keys].sort().join()),
            ),
        );
        expect(found, `${namespace} ${name} ${dims.join(" ")}`).toBe(true);
      }
      expect(graphed[0]?.[0]).toBe(env.POWERTOOLS_METRICS_NAMESPACE);
    },
  );

  it("passes cdk-nag without any acknowledgement", () => {
    expect(nagErrors(b.app)).toEqual([]);
    expect(acknowledgements(b.app).filter((a) => a.path.startsWith("EdgeInfer-Observability/"))).toEqual([]);
  });
});
