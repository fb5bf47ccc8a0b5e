/**
 * The shadow on AWS through the real bundles: the gateway's bundle (Function URL events) answers
 * from the model function's bundle and hands each sampled request, by an asynchronous Invoke of the
 * local Lambda API, to the comparison function's bundle, which calls the shadow version (pinned) of
 * the same model function and prints EMF metrics and disagreement lines. `add` v2 (live) is v1 + 1
 * on `sum`: a disagreement; `same` has two identical versions: none.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyTable, DynamoKeyStore } from "../../../gateway/auth/dynamo-store";
import { newKeyRecord } from "../../../gateway/auth/keys";
import { REMOTE_RESULTS } from "../../../gateway/shadow/wiring";
import { decodeInferResponse } from "../../../layers/protocol";
import { inferEvent } from "../../../layers/transport";
import { startLambdaApi } from "../../support/aws-apis";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";
import { addModel, modelConfig, writeModelDir } from "../../support/models";
import { type BundledLambda, startBundledLambda } from "../../support/server";
import { functionUrlEvent, type UrlResult } from "../../support/url-event";
import { buildBundles, type S3Models, s3Models } from "../model/fixtures";

const ARN = "arn:aws:lambda:us-east-1:123456789012:function:";
const COMPARE = "edge-infer-shadow-compare";
const vec = (name: string) => ({ name, datatype: "FP32" as const, shape: [4] });
/** A request's tensor: a batch of one. */
const row = (name: string, data: number[]) => ({ name, datatype: "FP32", shape: [1, 4], data });

let bundles: Awaited<ReturnType<typeof buildBundles>>;
let models: S3Models;
let cacheDir: string;
let dynalite: DynaliteHandle;
/** On Lambda the gateway serves only with API keys: one key for every model. */
const key = newKeyRecord({ name: "shadow-test", models: "*", rateLimit: { rps: 100, burst: 100 } });
let api: Awaited<ReturnType<typeof startLambdaApi>>;
const fns: Record<string, BundledLambda> = {};

/** The EMF documents a bundle printed, as objects. */
function emf(fn: BundledLambda): Array<Record<string, unknown> & { _aws: unknown }> {
  return fn
    .output()
    .split("\n")
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: unknown });
}

/** Sum of metric `name` over the EMF documents of `fn` for `model`. */
const total = (fn: BundledLambda, model: string, name: string) =>
  emf(fn)
    .filter((d) => d.model === model && typeof d[name] === "number")
    .reduce((n, d) => n + (d[name] as number), 0);

async function infer(model: string, a: number[], b: number[]): Promise<UrlResult> {
  const text = JSON.stringify({ inputs: [row("a", a), row("b", b)] });
  const r = await (fns.gateway as BundledLambda).invoke(
    functionUrlEvent(
      "POST",
      `/v2/models/${model}/infer`,
      { "content-type": "application/json", "x-api-key": key.key },
      { text },
    ),
  );
  if (!r.ok) throw new Error(`gateway handler failed: ${r.error.errorMessage}`);
  return r.payload as UrlResult;
}

beforeAll(async () => {
  [bundles, models, cacheDir, dynalite] = await Promise.all([
    buildBundles(["gateway", "model-function", "shadow-compare"]),
    s3Models(["add"], async (dir) => {
      const config = modelConfig("same", {
        max_batch_size: 8,
        inputs: [vec("a"), vec("b")],
        outputs: [vec("sum"), vec("diff")],
        version_policy: { latest: { num_versions: 2 } },
      });
      await writeModelDir(dir, "same", config, { 1: addModel(0), 2: addModel(0) });
      return ["same"];
    }),
    mkdtemp(join(tmpdir(), "model-cache-")),
    startDynalite(),
  ]);
  await createKeyTable(dynalite.client, "keys");
  await new DynamoKeyStore(dynalite.client, "keys").put(key.record);
  const base = { PATH: process.env.PATH, AWS_REGION: "us-east-1", LOG_LEVEL: "ERROR" };
  for (const m of ["add", "same"]) {
    fns[m] = await startBundledLambda(bundles.files["model-function"], {
      functionName: `edge-infer-${m}`,
      env: {
        ...base,
        ...models.env,
        MODEL_NAME: m,
        MODEL_VERSION: "2",
        MODEL_REPOSITORY: models.uri,
        MODEL_CACHE_DIR: join(cacheDir, m),
      },
    });
  }
  const targets = { add: `${ARN}edge-infer-add:live`, same: `${ARN}edge-infer-same:live` };
  const lambdaEnv = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" };
  // Functions are looked up per call: the comparison function joins once it knows the API's URL.
  const listed = [fns.add as BundledLambda, fns.same as BundledLambda];
  api = await startLambdaApi(listed);
  fns.compare = await startBundledLambda(bundles.files["shadow-compare"], {
    functionName: COMPARE,
    env: { ...base, ...lambdaEnv, SHADOW_TARGETS: JSON.stringify(targets), LAMBDA_ENDPOINT: api.url },
  });
  listed.push(fns.compare);
  const shadow = { version: 1, percent: 100, argmax: [] };
  fns.gateway = await startBundledLambda(bundles.files.gateway, {
    functionName: "edge-infer-gateway",
    env: {
      ...base,
      ...lambdaEnv,
      AWS_LAMBDA_FUNCTION_NAME: "edge-infer-gateway",
      MODEL_CATALOG: JSON.stringify({
        add: { backend: "lambda", target: targets.add, shadow },
        same: { backend: "lambda", target: targets.same, shadow },
      }),
      LAMBDA_ENDPOINT: api.url,
      SHADOW_FUNCTION: COMPARE,
      API_KEYS_TABLE: "keys",
      DYNAMODB_ENDPOINT: dynalite.endpoint,
      LOG_LEVEL: "WARN",
    },
  });
}, 240_000);

afterAll(async () => {
  for (const f of Object.values(fns)) await f.close();
  await api?.close();
  await models?.close();
  await dynalite?.close();
  await bundles?.cleanup();
  await rm(cacheDir, { recursive: true, force: true });
});

describe("shadow comparison on AWS (bundles, local Lambda API)", () => {
  it("a perturbed live version: the client gets v2's answer, the comparison function reports the worst element", async () => {
    const res = await infer("add", [1, 2, 3, 4], [10, 20, 30, 40]);
    expect(res.statusCode).toBe(200);
    const body = decodeInferResponse(new TextEncoder().encode(res.body));
    expect(body.model_version).toBe("2");
    expect(body.outputs.find((o) => o.name === "sum")?.data).toEqual(new Float32Array([12, 23, 34, 45]));
    await api.asyncSettled();
    expect(api.calls).toContain(COMPARE);
    expect(api.calls).toContain(`${ARN}edge-infer-add:live`);
    const compare = fns.compare as BundledLambda;
    expect(total(compare, "add", "shadow_requests")).toBe(1);
    expect(total(compare, "add", "shadow_disagreements")).toBe(1);
    expect(total(compare, "add", "shadow_errors")).toBe(0);
    const doc = emf(compare).find((d) => d.model === "add" && "shadow_max_abs_diff" in d);
    expect(doc).toMatchObject({ version: "2", shadow_max_abs_diff: 1 });
    expect(JSON.stringify(doc?._aws)).toContain('[["model","version"]]');
    const line = compare
      .output()
      .split("\n")
      .find((l) => l.includes('"shadow disagreement"'));
    const logged = JSON.parse(line ?? "{}") as { outputs: Array<Record<string, unknown>>; requestId: string };
    expect(logged.outputs).toEqual([
      expect.objectContaining({
        output: "sum",
        maxAbsDiff: 1,
        withinShare: 0,
        worst: { index: [0, 0], live: 12, shadow: 11 },
      }),
    ]);
    expect(line).not.toContain('"data"');
  });

  it("the summary route on Lambda names the shadow and where its results are", async () => {
    const r = await (fns.gateway as BundledLambda).invoke(
      functionUrlEvent("GET", "/v2/models/add/shadow", { "x-api-key": key.key }),
    );
    if (!r.ok) throw new Error(r.error.errorMessage);
    const res = r.payload as UrlResult;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      model: "add",
      shadow: { version: 1, percent: 100, argmax: [] },
      compared_in: REMOTE_RESULTS,
    });
  });

  it("identical versions: compared, no disagreement; a failing shadow version is an error, not a disagreement", async () => {
    for (let i = 0; i < 3; i++)
      expect((await infer("same", [i, 1, 2, 3], [4, 5, 6, 7])).statusCode).toBe(200);
    await api.asyncSettled();
    const compare = fns.compare as BundledLambda;
    expect(total(compare, "same", "shadow_requests")).toBe(3);
    expect(total(compare, "same", "shadow_disagreements")).toBe(0);
    // A job whose shadow version (9) the repository lacks, built as the gateway builds it.
    const zeros = (name: string) => ({
      name,
      datatype: "FP32" as const,
      shape: [1, 4],
      data: new Float32Array(4),
    });
    const request = { inputs: [zeros("a"), zeros("b")] };
    const live = await (fns.same as BundledLambda).invoke(inferEvent("same", undefined, request));
    if (!live.ok) throw new Error(live.error.errorMessage);
    const job = {
      requestId: "job-9",
      liveVersion: "2",
      argmax: [],
      tolerance: { abs: 1e-4, rel: 1e-3 },
      event: inferEvent("same", 9, request),
      live: live.payload,
    };
    const ran = await compare.invoke(job);
    expect(ran).toEqual({ ok: true, payload: null });
    expect(total(compare, "same", "shadow_errors")).toBe(1);
    expect(total(compare, "same", "shadow_requests")).toBe(3);
    expect(compare.output()).toMatch(/"shadow call failed".*"requestId":"job-9"/);
    // Not a job at all: refused in the log, no throw (an async event that throws is retried).
    expect(await compare.invoke({ hello: 1 })).toEqual({ ok: true, payload: null });
    expect(compare.output()).toContain('"shadow job refused"');
  });
});
