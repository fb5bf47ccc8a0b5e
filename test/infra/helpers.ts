/** Shared pieces of the infra tests: fixtures, the nag run and IAM statement collection. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App, Stack, Validations } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Topic } from "aws-cdk-lib/aws-sns";
import { AwsSolutionsChecks } from "cdk-nag";
import { expect } from "vitest";
import type { ImageSource } from "../../infra/constructs/backend";
import type { GatewayProps } from "../../infra/constructs/gateway";
import { ModelStorage } from "../../infra/constructs/model-storage";
import { addEdgeInfer, addNagChecks } from "../../infra/edge-infer";
import type { Catalog } from "../../infra/model-spec";

const FIXTURES = fileURLToPath(new URL("./fixtures", import.meta.url));

/** A tiny gateway entry: bundles in milliseconds. */
export const GATEWAY_ENTRY = join(FIXTURES, "gateway.ts");
/** A one-file Docker context: keeps asset hashing out of the tests' time. */
export const FIXTURE_IMAGE: ImageSource = { directory: join(FIXTURES, "image"), file: "Dockerfile" };
/** ORT version for fixture builds (the real one is read from package-lock.json). */
export const FIXTURE_ORT = "1.30.0";

/** cdk.json's context (feature flags), so that tests synthesize what `cdk synth` does. */
const CDK_CONTEXT = (
  JSON.parse(readFileSync(fileURLToPath(new URL("../../cdk.json", import.meta.url)), "utf8")) as {
    context?: Record<string, unknown>;
  }
).context;

/** An App with cdk.json's context that runs cdk-nag AwsSolutions at synthesis, as infra/app.ts does. */
export function nagApp(): App {
  const app = new App({ context: CDK_CONTEXT });
  addNagChecks(app);
  return app;
}

/** Unacknowledged cdk-nag errors of a synthesized app (what would fail `cdk synth`). */
export function nagErrors(app: App): string[] {
  app.synth();
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations
    .filter((v) => v.severity === "error")
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

/** Every acknowledgement in the app: rule id, reason and where. */
export function acknowledgements(app: App): { path: string; id: string; reason: string }[] {
  const out: { path: string; id: string; reason: string }[] = [];
  for (const c of app.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        out.push({ path: c.node.path, id: id.replace(/^annotation::/i, ""), reason: String(reason) });
      }
    }
  }
  return out;
}

/** An Allow statement of an IAM policy, normalised to arrays. */
export interface Statement {
  actions: string[];
  resources: unknown[];
  condition: unknown;
}

/** All Allow statements of the template's IAM policies (AWS::IAM::Policy and inline role policies). */
export function allowStatements(template: Template): Statement[] {
  const docs: unknown[] = [];
  for (const r of Object.values(template.findResources("AWS::IAM::Policy")))
    docs.push(r.Properties.PolicyDocument);
  for (const r of Object.values(template.findResources("AWS::IAM::Role"))) {
    for (const p of (r.Properties.Policies ?? []) as { PolicyDocument: unknown }[])
      docs.push(p.PolicyDocument);
  }
  const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : [x]);
  return docs.flatMap((doc) =>
    (doc as { Statement: Record<string, unknown>[] }).Statement.filter((s) => s.Effect === "Allow").map(
      (s) => ({
        actions: arr(s.Action).map(String),
        resources: arr(s.Resource),
        condition: s.Condition,
      }),
    ),
  );
}

/** Statements that grant `action`. */
export function statementsFor(template: Template, action: string): Statement[] {
  return allowStatements(template).filter((s) => s.actions.includes(action));
}

/** The `source` entries of a stack's asset manifest: Docker image builds or file (zip) assets. */
export function assetSources(
  app: App,
  stack: Stack,
  kind: "dockerImages" | "files",
): Record<string, unknown>[] {
  const assembly = app.synth();
  const manifest = JSON.parse(
    readFileSync(join(assembly.directory, `${stack.artifactId}.assets.json`), "utf8"),
  ) as Record<string, Record<string, { source: Record<string, unknown> }> | undefined>;
  return Object.values(manifest[kind] ?? {}).map((i) => i.source);
}

/** The Docker image builds a stack publishes. */
export function dockerImageSources(app: App, stack: Stack): Record<string, unknown>[] {
  return assetSources(app, stack, "dockerImages");
}

/** The app infra/app.ts builds, with the fixture gateway entry and images: synthesizes in seconds. */
export function fixtureApp(catalog: Catalog, gateway: Omit<GatewayProps, "backends" | "storage"> = {}) {
  const app = nagApp();
  const stacks = addEdgeInfer(app, {
    catalog,
    cpuImage: FIXTURE_IMAGE,
    gpuImage: FIXTURE_IMAGE,
    ortVersion: FIXTURE_ORT,
    gateway: { entry: GATEWAY_ENTRY, ...gateway },
  });
  return { app, stacks };
}

/**
 * A CloudFormation string built with Fn::Join, as text: each reference becomes `REF(<export or id>)`,
 * so JSON built by Stack.toJsonString can be parsed back.
 */
export function joinedText(value: unknown): string {
  if (typeof value === "string") return value;
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (join === undefined) throw new Error(`expected a string or Fn::Join, received ${JSON.stringify(value)}`);
  return join[1]
    .map((part) => {
      if (typeof part === "string") return part;
      const p = part as Record<string, unknown>;
      return `REF(${String(p["Fn::ImportValue"] ?? p.Ref ?? JSON.stringify(p).replaceAll('"', ""))})`;
    })
    .join(join[0]);
}

/**
 * What a model backend construct (ModelFunction, GpuEndpoint) is built on in its tests: a nag-checked
 * app, ModelStorage in stack "Storage", and stack `stackId` with an alarm topic; `props` are the
 * construct's props but `model`, with the fixture image; `gatewayRole()` adds a role Lambda assumes,
 * standing for the gateway's in grant tests.
 */
export function backendFixture(stackId: string) {
  const app = nagApp();
  const storage = new ModelStorage(new Stack(app, "Storage"), "ModelStorage");
  const stack = new Stack(app, stackId);
  const alarmTopic = new Topic(stack, "Topic", { enforceSSL: true });
  const props = { repository: storage, image: FIXTURE_IMAGE, ortVersion: FIXTURE_ORT, alarmTopic };
  const gatewayRole = () =>
    new Role(stack, "Gateway", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
  return { app, storage, stack, alarmTopic, props, gatewayRole };
}

/** Expects no unacknowledged cdk-nag error in `app`; returns what was acknowledged, to be checked. */
export function nagAcknowledged(app: App): { path: string; id: string; reason: string }[] {
  expect(nagErrors(app)).toEqual([]);
  return acknowledgements(app);
}
