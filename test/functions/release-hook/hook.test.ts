/**
 * The release hook's esbuild bundle, run as CodeDeploy runs it, against the model function's bundle
 * in two versions (MODEL_VERSION 1 = alias live, 2 = the new one) behind the local Lambda Invoke API,
 * models and samples in s3rver, its verdict recorded by a local CodeDeploy endpoint. Every client is
 * the unmodified AWS SDK. Generated models: v1 = identity, v2 = identity + 0.5 (and broken variants).
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsApi,
  type CodeDeployApi,
  type LambdaVersions,
  startCodeDeployApi,
  startLambdaApi,
} from "../../support/aws-apis";
import { buildModel, modelConfig, offsetModel, writeModelDir } from "../../support/models";
import { type BundledLambda, startBundledLambda } from "../../support/server";
import { buildBundles, demoRepository, type S3Models, s3Models } from "../model/fixtures";

const identity = offsetModel(0);
const retrained = offsetModel(0.5);
const x = [1, 2, 3];
/** A sample: x → y, as the repository holds them. */
const sample = (y: number[]) =>
  JSON.stringify({
    request: { inputs: [{ name: "x", datatype: "FP32", shape: [3], data: x }] },
    expected: { outputs: [{ name: "y", datatype: "FP32", shape: [3], data: y }] },
  });

/** Each case: a model whose version 1 is identity, and its version 2. */
const CASES: Record<string, { v2: Uint8Array | null; release?: object; samples?: Record<string, string> }> = {
  good: { v2: retrained, samples: { "plus-half": sample([1.5, 2.5, 3.5]) } },
  "good-no-samples": { v2: retrained },
  corrupt: { v2: new TextEncoder().encode("not an ONNX model\u0000\u0001") },
  unreachable: { v2: retrained },
  renamed: {
    v2: buildModel({
      inputs: [{ name: "x", datatype: "FP32", dims: ["n"] }],
      outputs: [{ name: "z", datatype: "FP32", dims: ["n"] }],
      nodes: [{ op: "Identity", inputs: ["x"], outputs: ["z"] }],
    }),
  },
  "fails-samples": { v2: retrained, samples: { identity: sample([1, 2, 3]) } },
  nan: { v2: offsetModel(Number.NaN) },
  "compare-live": { v2: retrained, release: { compare_with_live: true, tolerance: { abs: 0.1, rel: 0 } } },
};

async function repository(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "release-hook-models-"));
  for (const [name, c] of Object.entries(CASES)) {
    const config = {
      ...modelConfig(name, { version_policy: { all: {} } }),
      ...(c.release ? { release: c.release } : {}),
    };
    await writeModelDir(dir, name, config, c.v2 === null ? { 1: identity } : { 1: identity, 2: c.v2 });
    for (const [file, text] of Object.entries(c.samples ?? {})) {
      await mkdir(join(dir, name, "2", "samples"), { recursive: true });
      await writeFile(join(dir, name, "2", "samples", `${file}.json`), text);
    }
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The demo ocr pipeline and its step models, with a version 2 of the pipeline: version 1's files and
 * a second sample that expects other text (the first, by name, is the one it warms up with).
 */
async function ocrPipeline(dir: string): Promise<string[]> {
  const demo = await demoRepository();
  try {
    await cp(demo.dir, dir, { recursive: true });
  } finally {
    await demo.cleanup();
  }
  await cp(join(dir, "ocr", "1"), join(dir, "ocr", "2"), { recursive: true });
  const hello = JSON.parse(await readFile(join(dir, "ocr", "2", "samples", "hello.json"), "utf8"));
  hello.expected.outputs = [{ name: "text", datatype: "BYTES", shape: [1], data: ["Goodbye World 2026"] }];
  await writeFile(join(dir, "ocr", "2", "samples", "wrong.json"), JSON.stringify(hello));
  return [];
}

let bundles: Awaited<ReturnType<typeof buildBundles>>;
let models: S3Models;
let cacheDir: string;
let lambda: AwsApi;
let codedeploy: CodeDeployApi;
const functions: LambdaVersions[] = [];
const started: BundledLambda[] = [];

beforeAll(async () => {
  [bundles, models, cacheDir, codedeploy] = await Promise.all([
    buildBundles(["model-function", "release-hook"]),
    s3Models(undefined, ocrPipeline, repository),
    mkdtemp(join(tmpdir(), "release-hook-cache-")),
    startCodeDeployApi(),
  ]);
  lambda = await startLambdaApi(functions);
});

afterAll(async () => {
  await Promise.all(started.map((f) => f.close()));
  await lambda?.close();
  await codedeploy?.close();
  await models?.close();
  await bundles?.cleanup();
  await rm(cacheDir, { recursive: true, force: true });
});

async function start(bundle: string, functionName: string, env: Record<string, string>) {
  const fn = await startBundledLambda(bundle, {
    functionName,
    env: { PATH: process.env.PATH, LOG_LEVEL: "ERROR", ...models.env, ...env },
  });
  started.push(fn);
  return fn;
}

/** Publishes versions 1 and 2 of `name` (alias live → 1), runs the hook for 2, returns its verdict and log. */
async function release(name: string, v2env: Record<string, string> = {}) {
  const modelEnv = (v: string) => ({
    MODEL_NAME: name,
    MODEL_VERSION: v,
    MODEL_REPOSITORY: models.uri,
    MODEL_CACHE_DIR: cacheDir,
  });
  const [v1, v2] = await Promise.all([
    start(bundles.files["model-function"], name, modelEnv("1")),
    start(bundles.files["model-function"], name, { ...modelEnv("2"), ...v2env }),
  ]);
  functions.push({ functionName: name, versions: { "1": v1, "2": v2 }, aliases: { live: "1" } });
  const hook = await start(bundles.files["release-hook"], `${name}-hook`, {
    FUNCTION_NAME: name,
    NEW_VERSION: "2",
    MODEL_NAME: name,
    MODEL_REPOSITORY: models.uri,
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
    AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
  });
  const deploymentId = `d-${name.toUpperCase()}`;
  const invoked = await hook.invoke({
    DeploymentId: deploymentId,
    LifecycleEventHookExecutionId: `hook-${name}`,
  });
  if (!invoked.ok) throw new Error(`hook failed: ${invoked.error.errorMessage}\n${hook.output()}`);
  const reported = codedeploy.statuses.filter((s) => s.deploymentId === deploymentId);
  const calls = lambda.calls.filter((c) => c.startsWith(`${name}`));
  await Promise.all([v1.close(), v2.close(), hook.close()]);
  return {
    reported: reported.map((s) => [s.lifecycleEventHookExecutionId, s.status]),
    reasons: (invoked.payload as { reasons: string[] }).reasons,
    log: hook.output(),
    calls,
  };
}

describe("the release hook bundle", () => {
  it("lets a retrained version through: ready, same signature, its samples pass, outputs finite", async () => {
    const r = await release("good");
    expect(r.reasons).toEqual([]);
    expect(r.reported).toEqual([["hook-good", "Succeeded"]]);
    // The new version is invoked by its number, the live one by the alias (metadata only: no compare).
    expect(r.calls.filter((c) => c.endsWith(":2")).length).toBeGreaterThanOrEqual(5);
    expect(r.calls.filter((c) => c.endsWith(":live"))).toEqual(["good:live"]);
    expect(r.log).toContain('"message":"samples"');
    expect(r.log).toContain('"names":["plus-half"]');
  });

  it("checks a pipeline's new version like any model's: ready after its first sample, then every sample", async () => {
    const r = await release("ocr");
    expect(r.reported).toEqual([["hook-ocr", "Failed"]]);
    // Ready and the same signature (no reason for either); no generated requests for a BYTES input.
    expect(r.reasons).toEqual([
      "samples: sample 'wrong' output 'text': 1 of 1 elements beyond abs 0.0001 + rel 0.001; worst element [0]: expected Goodbye World 2026, got Hello World 2026",
    ]);
    expect(r.log).toContain('"names":["hello","wrong"]');
  });

  it("lets a version without samples through on generated requests alone", async () => {
    const r = await release("good-no-samples");
    expect(r.reported).toEqual([["hook-good-no-samples", "Succeeded"]]);
  });

  it("fails a version whose model.onnx is corrupt: not ready", async () => {
    const r = await release("corrupt");
    expect(r.reported).toEqual([["hook-corrupt", "Failed"]]);
    expect(r.reasons).toEqual([expect.stringMatching(/^ready: version 2 /)]);
    expect(r.log).toContain('"stage":"ready"');
  });

  it("fails a version that answers 503 (its repository unreachable)", async () => {
    const r = await release("unreachable", { S3_ENDPOINT: "http://127.0.0.1:9" });
    expect(r.reported).toEqual([["hook-unreachable", "Failed"]]);
    expect(r.reasons).toEqual([expect.stringMatching(/^ready: version 2 /)]);
  });

  it("fails a version whose signature changed, naming the outputs", async () => {
    const r = await release("renamed");
    expect(r.reported).toEqual([["hook-renamed", "Failed"]]);
    expect(r.reasons).toEqual([
      "signature: output 'y' is gone (a changed signature is a new model, not a new version)",
      "signature: output 'z' is new (a changed signature is a new model, not a new version)",
    ]);
  });

  it("fails a version that does not give its samples' outputs: sample, output, worst element, expected vs got", async () => {
    const r = await release("fails-samples");
    expect(r.reported).toEqual([["hook-fails-samples", "Failed"]]);
    expect(r.reasons).toEqual([
      "samples: sample 'identity' output 'y': 3 of 3 elements beyond abs 0.0001 + rel 0.001; worst element [0]: expected 1, got 1.5",
    ]);
    expect(r.log).toContain('"sample":"identity"');
  });

  it("fails a version that returns NaN", async () => {
    const r = await release("nan");
    expect(r.reported).toEqual([["hook-nan", "Failed"]]);
    expect(r.reasons[0]).toBe(
      "generated: generated (free dimensions = 1): output 'y': element [0] is NaN (not finite)",
    );
  });

  it("with compare_with_live, fails a version whose outputs differ from the live one beyond tolerance", async () => {
    const r = await release("compare-live");
    expect(r.reported).toEqual([["hook-compare-live", "Failed"]]);
    expect(r.reasons[0]).toMatch(
      /^compare_with_live: generated \(free dimensions = 1\): output 'y': 1 of 1 elements beyond abs 0\.1 \+ rel 0; worst element \[0\]: expected [0-9.]+, got [0-9.]+ \(expected = alias live, got = version 2\)$/,
    );
    expect(r.calls.filter((c) => c.endsWith(":live")).length).toBeGreaterThan(1);
  });
});
