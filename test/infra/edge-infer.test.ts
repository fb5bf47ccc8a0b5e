import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { App, Duration } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../infra/catalog";
import { addEdgeInfer } from "../../infra/edge-infer";
import { defineCatalog, type ModelSpec, withLiveVersion } from "../../infra/model-spec";
import { REPO_ROOT } from "../../infra/paths";
import { AlarmsStack } from "../../infra/stacks/alarms-stack";
import { ModelStack } from "../../infra/stacks/model-stack";
import { StorageStack } from "../../infra/stacks/storage-stack";
import { STAGE_DIR_CONTEXT } from "../../infra/staging";
import {
  acknowledgements,
  allowStatements,
  FIXTURE_IMAGE,
  FIXTURE_ORT,
  fixtureApp,
  GATEWAY_ENTRY,
  nagErrors,
} from "./helpers";

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Templates = Record<string, { Resources: Record<string, Resource> } & Record<string, unknown>>;

function templates(app: App): Templates {
  const assembly = app.synth();
  return Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.template as Templates[string]]));
}

/** Paths (dot-joined) where two JSON values differ; a differing array is reported as a whole. */
function diffPaths(a: unknown, b: unknown, path = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [path];
  const isObj = (x: unknown): x is Record<string, unknown> =>
    typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObj(a) || !isObj(b)) return [path];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((k) =>
    JSON.stringify(a[k]) === JSON.stringify(b[k]) ? [] : diffPaths(a[k], b[k], path ? `${path}.${k}` : k),
  );
}

describe("the edge-infer app", () => {
  let app: App;
  let stacks: ReturnType<typeof fixtureApp>["stacks"];
  let before: Templates;
  beforeAll(() => {
    ({ app, stacks } = fixtureApp(catalog));
    before = templates(app);
  });

  it("has one stack per concern and one per catalog model, named from the catalog", () => {
    expect(Object.keys(before).sort()).toEqual([
      "EdgeInfer-Alarms",
      "EdgeInfer-Gateway",
      "EdgeInfer-Model-ocr",
      "EdgeInfer-Model-ocr-cls",
      "EdgeInfer-Model-ocr-det",
      "EdgeInfer-Model-ocr-det-gpu",
      "EdgeInfer-Model-ocr-rec",
      "EdgeInfer-Observability",
      "EdgeInfer-Storage",
    ]);
    const other = new App();
    const stacks = addEdgeInfer(other, {
      catalog,
      prefix: "Demo",
      gateway: { entry: GATEWAY_ENTRY },
      cpuImage: FIXTURE_IMAGE,
      gpuImage: FIXTURE_IMAGE,
      ortVersion: FIXTURE_ORT,
    });
    expect(stacks.gateway.stackName).toBe("Demo-Gateway");
    expect([...stacks.models.values()].map((s) => s.stackName)).toEqual(
      catalog.models.map((m) => `Demo-Model-${m.name}`),
    );
  });

  it("fixes no physical name of a bucket, table, function, role, topic or alarm", () => {
    const named = /^(BucketName|TableName|FunctionName|RoleName|TopicName|AlarmName|DashboardName)$/;
    for (const [stack, t] of Object.entries(before)) {
      for (const [id, r] of Object.entries(t.Resources)) {
        const props = r.Properties ?? {};
        // A Ref or GetAtt is fine (FunctionName of a version or alias); a literal string is a fixed name.
        const literal = Object.keys(props).filter((p) => named.test(p) && typeof props[p] === "string");
        expect(literal, `${stack}/${id}`).toEqual([]);
      }
    }
  });

  it("passes cdk-nag AwsSolutions with zero unacknowledged errors, each acknowledgement reasoned", () => {
    expect(nagErrors(app)).toEqual([]);
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a.reason.length, a.id).toBeGreaterThan(40);
    const wildcards = acks.filter((a) => a.id.startsWith("AwsSolutions-IAM5"));
    for (const w of wildcards)
      expect(w.id).toMatch(
        /^AwsSolutions-IAM5\[Resource::(\*|EdgeInfer-Storage:.*\/models\/([a-z0-9-]+\/)?\*|<ModelReleaseHookFunction[A-Z0-9]+\.Arn>:\*)\]$/,
      );
  });

  it("grants no wildcard action anywhere and no data action on Resource *", () => {
    for (const [name, t] of Object.entries(before)) {
      const statements = allowStatements(Template.fromJSON(t));
      for (const s of statements)
        expect(
          s.actions.filter((a) => a.includes("*")),
          name,
        ).toEqual([]);
      const onAnything = statements.filter((s) => s.resources.includes("*")).flatMap((s) => s.actions);
      expect(
        onAnything.filter((a) => a !== "ecr:GetAuthorizationToken"),
        name,
      ).toEqual([]);
    }
  });

  it("notifies the alarm topic from every alarm of every stack, without a dependency cycle", () => {
    let count = 0;
    for (const [name, t] of Object.entries(before)) {
      for (const [id, r] of Object.entries(t.Resources)) {
        if (r.Type !== "AWS::CloudWatch::Alarm") continue;
        count++;
        const topic =
          name === "EdgeInfer-Alarms"
            ? expect.anything()
            : { "Fn::ImportValue": expect.stringMatching(/^EdgeInfer-Alarms:/) };
        expect(r.Properties?.AlarmActions, `${name}/${id}`).toEqual([topic]);
      }
    }
    // 6 per CPU model or pipeline (3 release, 3 steady-state), 2 for the GPU endpoint, 2 for the gateway.
    expect(count).toBe(4 * 6 + 2 + 2);
    // The alarm stack depends on nothing; every stack with alarms depends on it (CDK refuses cycles).
    const assembly = app.synth();
    const deps = (stack: { artifactId: string }) =>
      assembly
        .getStackArtifact(stack.artifactId)
        .dependencies.map((d) => d.id)
        .filter((id) => !id.endsWith(".assets"));
    expect(deps(stacks.alarms)).toEqual([]);
    for (const m of stacks.models.values()) expect(deps(m)).toContain("EdgeInfer-Alarms");
    expect(deps(stacks.observability)).toContain("EdgeInfer-Alarms");
  });

  it("orders the timeouts: model < gateway backend deadline < gateway < CloudFront origin read <= 60 s", () => {
    const fns = Object.entries(before).flatMap(([name, t]) =>
      Object.values(t.Resources)
        .filter(
          (r) =>
            r.Type === "AWS::Lambda::Function" &&
            (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
              ?.MODEL_VERSION !== undefined,
        )
        .map((r) => ({ name, timeout: Number(r.Properties?.Timeout) })),
    );
    const gateway = Object.values(before["EdgeInfer-Gateway"]?.Resources ?? {});
    const gatewayFn = gateway.find(
      (r) =>
        r.Type === "AWS::Lambda::Function" && JSON.stringify(r.Properties).includes("BACKEND_TIMEOUT_MS"),
    );
    const deadline = Number(
      ((gatewayFn?.Properties?.Environment ?? {}) as { Variables: Record<string, string> }).Variables
        .BACKEND_TIMEOUT_MS,
    );
    const distribution = gateway.find((r) => r.Type === "AWS::CloudFront::Distribution");
    const readTimeout = Number(
      (
        (distribution?.Properties?.DistributionConfig ?? {}) as {
          Origins: { CustomOriginConfig: { OriginReadTimeout: number } }[];
        }
      ).Origins[0]?.CustomOriginConfig.OriginReadTimeout,
    );
    expect(fns.map((f) => f.name).sort()).toEqual([
      "EdgeInfer-Model-ocr",
      "EdgeInfer-Model-ocr-cls",
      "EdgeInfer-Model-ocr-det",
      "EdgeInfer-Model-ocr-rec",
    ]);
    for (const f of fns) expect(f.timeout * 1000, f.name).toBeLessThan(deadline);
    const gpu = Object.values(before["EdgeInfer-Model-ocr-det-gpu"]?.Resources ?? {}).find(
      (r) => r.Type === "AWS::SageMaker::Model",
    );
    const container = Number(
      ((gpu?.Properties?.PrimaryContainer ?? {}) as { Environment: Record<string, string> }).Environment
        .BACKEND_TIMEOUT_MS,
    );
    expect(container).toBeLessThan(60_000);
    expect(container).toBeLessThan(deadline);
    expect(deadline).toBeLessThan(Number(gatewayFn?.Properties?.Timeout) * 1000);
    expect(Number(gatewayFn?.Properties?.Timeout)).toBeLessThan(readTimeout);
    expect(readTimeout).toBeLessThanOrEqual(60);
    // A catalog line that breaks the order fails synthesis, naming the model and the fields.
    const slow = defineCatalog({
      models: [{ name: "slow", backend: "cpu", liveVersion: 1, timeoutSeconds: 29 }],
    });
    expect(() => fixtureApp(slow)).toThrow(
      "model 'slow': timeoutSeconds (Lambda timeout) 29 s must be below the gateway's backend deadline 28 s (gateway timeout 30 s - 2 s)",
    );
    expect(() => fixtureApp(slow, { timeout: Duration.seconds(40) })).not.toThrow();
    expect(() => fixtureApp(defineCatalog({ models: [] }), { timeout: Duration.seconds(60) })).toThrow(
      "gateway timeout (60 s) must be below CloudFront's origin read timeout, at most 60 s",
    );
  });

  it("releases a new live version of one model as a new Lambda version and alias shift, nothing else", () => {
    const after = templates(fixtureApp(withLiveVersion(catalog, "ocr-cls", 2)).app);
    for (const name of Object.keys(before)) {
      if (name !== "EdgeInfer-Model-ocr-cls") expect(after[name], name).toEqual(before[name]);
    }
    const [was, is] = [before["EdgeInfer-Model-ocr-cls"], after["EdgeInfer-Model-ocr-cls"]];
    const versionIds = (t: Templates[string] | undefined) =>
      Object.entries(t?.Resources ?? {})
        .filter(([, r]) => r.Type === "AWS::Lambda::Version")
        .map(([id]) => id);
    const [oldVersion] = versionIds(was);
    const [newVersion] = versionIds(is);
    expect(oldVersion).toBeDefined();
    expect(newVersion).toBeDefined();
    expect(newVersion).not.toBe(oldVersion);
    const fn = Object.entries(was?.Resources ?? {}).find(([, r]) => r.Type === "AWS::Lambda::Function")?.[0];
    const alias = Object.entries(was?.Resources ?? {}).find(([, r]) => r.Type === "AWS::Lambda::Alias")?.[0];
    // What names the version: the function's MODEL_VERSION, the alias, the release alarms (the new
    // Lambda version and model version in their dimensions) and the release hook (the version it
    // checks and may invoke). Nothing else changes.
    const paths = diffPaths(was, is);
    expect(paths).toEqual(
      expect.arrayContaining([
        `Resources.${alias}.Properties.FunctionVersion.Fn::GetAtt`,
        `Resources.${fn}.Properties.Environment.Variables.MODEL_VERSION`,
        `Resources.${newVersion}`,
        `Resources.${oldVersion}`,
      ]),
    );
    const changed = [...new Set(paths.map((p) => p.split(".")[1] ?? ""))].sort();
    const ofType = (type: string) =>
      Object.entries(is?.Resources ?? {})
        .filter(([, r]) => r.Type === type)
        .map(([id]) => id);
    const hookFn = ofType("AWS::Lambda::Function").find((id) => id.includes("ReleaseHook"));
    const hookPolicy = ofType("AWS::IAM::Policy").find((id) => id.includes("ReleaseHook"));
    const releaseAlarms = ofType("AWS::CloudWatch::Alarm").filter((id) =>
      /Version(ErrorRate|RunFailureRate|DurationP99)/.test(id),
    );
    expect(releaseAlarms).toHaveLength(3);
    expect(changed).toEqual(
      [alias, fn, newVersion, oldVersion, hookFn, hookPolicy, ...releaseAlarms].map(String).sort(),
    );
    expect(is?.Resources[`${fn}`]).toMatchObject({
      Properties: { Environment: { Variables: { MODEL_VERSION: "2" } } },
    });
    expect(is?.Resources[`${alias}`]).toMatchObject({
      Properties: { FunctionVersion: { "Fn::GetAtt": [newVersion, "Version"] } },
    });
    // The old version is retained, so CodeDeploy can shift back to it.
    expect(is?.Resources[`${newVersion}`]).toMatchObject({ DeletionPolicy: "Retain" });
  });
});

describe("what cdk synth packages", () => {
  /** Synthesizes one CPU and the GPU model of the real catalog, staging into a folder that does not exist yet. */
  function synth(stageDir: string) {
    const app = new App({ context: { [STAGE_DIR_CONTEXT]: stageDir } });
    const alarms = new AlarmsStack(app, "Alarms");
    const storage = new StorageStack(app, "Storage");
    const models = catalog.models.filter((m) => m.name === "ocr-det" || m.backend === "gpu");
    const stacks = models.map(
      (model: ModelSpec) =>
        new ModelStack(app, `M-${model.name}`, {
          model,
          repository: storage.storage,
          alarmTopic: alarms.alarmTopic.topic,
        }),
    );
    const assembly = app.synth();
    const manifests = stacks.map(
      (s) =>
        JSON.parse(readFileSync(join(assembly.directory, `${s.artifactId}.assets.json`), "utf8")) as Record<
          "dockerImages" | "files",
          Record<
            string,
            { source: { directory?: string; path?: string; dockerFile?: string; platform?: string } }
          >
        >,
    );
    const listed = (dir: string) =>
      (readdirSync(dir, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[])
        .filter((e) => e.isFile())
        .map((e) => relative(dir, join(e.parentPath, e.name)))
        .sort();
    return {
      outdir: app.outdir,
      images: manifests.flatMap((m) => Object.entries(m.dockerImages ?? {})),
      files: manifests.flatMap((m) => Object.entries(m.files ?? {})),
      listed,
    };
  }

  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "edge-infer-stage-"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("builds the bundles from the source at every synth: images hold a Dockerfile and the bundle it copies", () => {
    const first = synth(join(root, "a"));
    expect(first.images.map(([, i]) => [i.source.dockerFile, i.source.platform])).toEqual([
      ["functions/Dockerfile", "linux/arm64"],
      ["functions/Dockerfile.gpu", "linux/amd64"],
    ]);
    const [cpu, gpu] = first.images.map(([, i]) =>
      first.listed(join(first.outdir, String(i.source.directory))),
    );
    expect(cpu).toEqual([
      "dist/model-function/index.mjs",
      "dist/model-function/index.mjs.map",
      "functions/Dockerfile",
    ]);
    expect(gpu).toEqual([
      "dist/model-server/index.mjs",
      "dist/model-server/index.mjs.map",
      expect.stringMatching(/^dist\/model-server\/.+\.mjs$/),
      expect.stringMatching(/^dist\/model-server\/.+\.mjs\.map$/),
      "functions/Dockerfile.gpu",
    ]);
    const hook = first.files.find(([, f]) => !String(f.source.path).endsWith(".json"));
    expect(first.listed(join(first.outdir, String(hook?.[1].source.path)))).toEqual([
      "index.mjs",
      "index.mjs.map",
    ]);
    const code = readFileSync(
      join(first.outdir, String(first.images[0]?.[1].source.directory), "dist/model-function/index.mjs.map"),
      "utf8",
    );
    // Deterministic: no absolute path of this machine in a bundle or its source map.
    expect(code).not.toContain(REPO_ROOT);
    expect(code).toContain('"../../functions/model/lambda.ts"');
  });

  it("gives the same asset hashes when synthesized twice from the same source", () => {
    const [a, b] = [synth(join(root, "b")), synth(join(root, "c"))];
    expect(b.images.map(([hash]) => hash)).toEqual(a.images.map(([hash]) => hash));
    expect(b.files.map(([hash]) => hash).sort()).toEqual(a.files.map(([hash]) => hash).sort());
    expect(a.images).toHaveLength(2);
  });
});
