/**
 * A pipeline on AWS: its catalog line, and the stack that line synthesizes: a model function like
 * any other (deployment group, release hook, alarms) that may read its step models' files too; a
 * step model's release leaves it unchanged.
 */
import { readFileSync } from "node:fs";
import type { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../infra/catalog";
import { defineCatalog, withLiveVersion } from "../../infra/model-spec";
import type { EnsembleStep } from "../../layers/repository/types";
import { DEMO } from "../layers/pipeline/support";
import { fixtureApp, joinedText } from "./helpers";

/** The CPU lines of the deployed catalog: the ocr pipeline and its three step models. */
const cpuCatalog = () => defineCatalog({ models: catalog.models.filter((m) => m.backend === "cpu") });
const stackOf = (app: App, name: string) =>
  app.synth().stacks.find((s) => s.stackName === `EdgeInfer-Model-${name}`)?.template as object;

describe("a pipeline's catalog line", () => {
  it("names the models the demo pipeline's config.json runs, each deployed on its own too", () => {
    const config = JSON.parse(readFileSync(`${DEMO}/ocr/config.json`, "utf8")) as {
      ensemble_scheduling: { step: EnsembleStep[] };
    };
    const named = config.ensemble_scheduling.step.flatMap((s) =>
      "model_name" in s ? [s.model_name] : Object.values(s.models ?? {}).map((m) => m.model_name),
    );
    const ocr = catalog.models.find((m) => m.name === "ocr");
    expect(ocr?.backend === "cpu" && [...ocr.steps].sort()).toEqual([...new Set(named)].sort());
    for (const step of named) expect(catalog.models.find((m) => m.name === step)?.backend).toBe("cpu");
  });

  it.each([
    [
      ["ocr-det", "ocr-det"],
      `model 'p': steps must be distinct models other than the pipeline itself, received ["ocr-det","ocr-det"]`,
    ],
    [["p"], `model 'p': steps must be distinct models other than the pipeline itself, received ["p"]`],
    [["ocr-det", "ghost"], `model 'p': steps must be models of the catalog, received ["ghost"]`],
  ])("refuses steps %j", (steps, message) => {
    const models = [
      { name: "ocr-det", backend: "cpu" as const, liveVersion: 1 },
      { name: "p", backend: "cpu" as const, liveVersion: 1, steps },
    ];
    expect(() => defineCatalog({ models })).toThrow(message);
  });
});

describe("a pipeline's stack", () => {
  let app: App;
  let t: Template;
  beforeAll(() => {
    ({ app } = fixtureApp(cpuCatalog()));
    t = Template.fromJSON(stackOf(app, "ocr"));
  });

  it("is a model function serving the pipeline at its live version, sized for three models", () => {
    t.hasResourceProperties("AWS::Lambda::Function", {
      PackageType: "Image",
      MemorySize: 3008,
      Timeout: 25,
      Architectures: ["arm64"],
      Environment: { Variables: { MODEL_NAME: "ocr", MODEL_VERSION: "1" } },
    });
  });

  it("reads its own folder and its step models' folders of the repository, and nothing else", () => {
    type Doc = { Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] };
    const [policy] = Object.entries(t.findResources("AWS::IAM::Policy"))
      .filter(([id]) => id.startsWith("ModelRole"))
      .map(([, r]) => r.Properties.PolicyDocument as Doc);
    const of = (action: string) => (policy?.Statement ?? []).filter((s) => s.Action === action);
    const objects = of("s3:GetObject").flatMap((s) => [s.Resource].flat().map(joinedText));
    expect(objects.map((r) => r.replace(/^REF\([^)]*\)/, "")).sort()).toEqual([
      "/models/ocr-cls/*",
      "/models/ocr-det/*",
      "/models/ocr-rec/*",
      "/models/ocr/*",
    ]);
    const listed = of("s3:ListBucket").map(
      (s) => (s.Condition as { StringLike: { "s3:prefix": string[] } }).StringLike["s3:prefix"],
    );
    expect(listed.map((p) => p.join(" ")).sort()).toEqual([
      "models/ocr-cls/ models/ocr-cls/*",
      "models/ocr-det/ models/ocr-det/*",
      "models/ocr-rec/ models/ocr-rec/*",
      "models/ocr/ models/ocr/*",
    ]);
  });

  it("has a deployment group, a release hook checking the pipeline's samples and rollback alarms", () => {
    t.resourceCountIs("AWS::CodeDeploy::DeploymentGroup", 1);
    t.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs22.x",
      Environment: { Variables: Match.objectLike({ MODEL_NAME: "ocr", NEW_VERSION: Match.anyValue() }) },
    });
    const alarms = Object.values(t.findResources("AWS::CloudWatch::Alarm"));
    const cls = Template.fromJSON(stackOf(app, "ocr-cls"));
    expect(alarms.length).toBe(Object.keys(cls.findResources("AWS::CloudWatch::Alarm")).length);
    const runs = alarms.filter((a) => JSON.stringify(a).includes('"model_runs"'));
    expect(JSON.stringify(runs)).toContain('{"Name":"model","Value":"ocr"}');
  });

  it("is routed by the gateway like any model: to its alias live", () => {
    const gateway = app.synth().stacks.find((s) => s.stackName === "EdgeInfer-Gateway")?.template as {
      Resources: Record<
        string,
        { Type: string; Properties?: { Environment?: { Variables?: Record<string, unknown> } } }
      >;
    };
    const fn = Object.values(gateway.Resources).find(
      (r) => r.Properties?.Environment?.Variables?.MODEL_CATALOG,
    );
    const routes = joinedText(fn?.Properties?.Environment?.Variables?.MODEL_CATALOG);
    expect(routes).toMatch(/"ocr":\{"backend":"lambda","target":"REF\([^)]*ocr[^)]*Live[^)]*\)"\}/i);
  });

  it("is unchanged by a step model's release: the pipeline keeps the versions its steps pin", () => {
    const released = fixtureApp(withLiveVersion(cpuCatalog(), "ocr-rec", 2)).app;
    expect(stackOf(released, "ocr")).toEqual(stackOf(app, "ocr"));
    expect(stackOf(released, "ocr-rec")).not.toEqual(stackOf(app, "ocr-rec"));
  });
});
