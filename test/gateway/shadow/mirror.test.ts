/**
 * The shadow comparison in local mode, over real engines and generated ONNX models with known
 * outputs: identical versions agree; a perturbed one disagrees at the right element; a failing or
 * slow shadow changes nothing for the client and never counts against the live version; the
 * sampling share holds; cache hits are not shadowed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../../../layers/backend";
import {
  buildModel,
  makeTestRepository,
  modelConfig,
  offsetModel,
  writeModelDir,
} from "../../support/models";
import { engineBackend, faultyBackend } from "../helpers";
import { shadowGateway } from "./support";

/** `y = x + c` on FP32 [4], c a constant vector. */
function vectorAdd(c: number[]): Uint8Array {
  return buildModel({
    inputs: [{ name: "x", datatype: "FP32", dims: [4] }],
    outputs: [{ name: "y", datatype: "FP32", dims: [4] }],
    nodes: [{ op: "Add", inputs: ["x", "c"], outputs: ["y"] }],
    initializers: [
      { name: "c", datatype: "FP32", dims: [4], raw: new Uint8Array(new Float32Array(c).buffer) },
    ],
  });
}

const x = (values: number[]) => [{ name: "x", datatype: "FP32", shape: [4], data: values }];
const vec = [{ name: "x", datatype: "FP32" as const, shape: [4] }];
const out = [{ name: "y", datatype: "FP32" as const, shape: [4] }];

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let backend: Backend;

async function shadowed(
  name: string,
  v1: Uint8Array,
  v2: Uint8Array | undefined,
  shadow: object,
  cache = false,
) {
  const config = {
    ...modelConfig(name, { inputs: vec, outputs: out }),
    live_version: 1,
    shadow,
    cache: { enabled: cache, ttl_seconds: 60 },
  };
  await writeModelDir(repo.dir, name, config, v2 === undefined ? { 1: v1 } : { 1: v1, 2: v2 });
}

beforeAll(async () => {
  repo = await makeTestRepository();
  await shadowed("same", vectorAdd([1, 1, 1, 1]), vectorAdd([1, 1, 1, 1]), { version: 2, percent: 100 });
  await shadowed("drift", vectorAdd([0, 0, 0, 0]), vectorAdd([0, 0.00001, 0.5, 0]), {
    version: 2,
    percent: 100,
    argmax: ["y"],
  });
  await shadowed("gone", vectorAdd([0, 0, 0, 0]), undefined, { version: 2, percent: 100 });
  await shadowed("slow", vectorAdd([0, 0, 0, 0]), vectorAdd([0, 0, 0, 0]), { version: 2, percent: 100 });
  await shadowed("tenth", vectorAdd([0, 0, 0, 0]), vectorAdd([0, 0, 0, 0]), { version: 2, percent: 10 });
  await shadowed(
    "cached",
    vectorAdd([0, 0, 0, 0]),
    vectorAdd([0, 0, 0, 0]),
    { version: 2, percent: 100 },
    true,
  );
  await writeModelDir(repo.dir, "plain", modelConfig("plain", { inputs: vec, outputs: out }), {
    1: offsetModel(0),
  });
  backend = engineBackend(repo.dir, ["same", "drift", "gone", "slow", "tenth", "cached", "plain"]);
});
afterAll(async () => {
  await (backend as { close?: () => Promise<void> }).close?.();
  await repo.cleanup();
});

/** The live backend everywhere, but version 2 of "slow" never answers. */
function catalog(): Map<string, Backend> {
  const hang = faultyBackend(backend, "hang");
  const slow: Backend = {
    describe: (m, v, s) => backend.describe(m, v, s),
    ready: (m, v, s) => backend.ready(m, v, s),
    infer: (m, v, r, s) => (v === 2 ? hang.infer(m, v, r, s) : backend.infer(m, v, r, s)),
  };
  const names = ["same", "drift", "gone", "tenth", "cached", "plain"];
  return new Map<string, Backend>([...names.map((n) => [n, backend] as const), ["slow", slow]]);
}

describe("shadow comparison in local mode", () => {
  it("identical versions: every mirrored request compared, no disagreement", async () => {
    const g = shadowGateway(catalog());
    for (let i = 0; i < 5; i++) {
      const res = await g.infer("same", x([i, 2, 3, 4]));
      expect(res.status).toBe(200);
      await g.gateway.shadow.idle();
    }
    const s = await g.summary("same");
    expect(s.shadow).toMatchObject({ version: 2, percent: 100 });
    expect([s.live_version, s.shadow_version]).toEqual(["1", "2"]);
    expect(s.totals).toMatchObject({
      requests: 5,
      disagreements: 0,
      errors: 0,
      timeouts: 0,
      max_abs_diff: 0,
    });
    expect(s.last_disagreements).toEqual([]);
  });

  it("a perturbed version: disagreements name the worst element, live vs shadow, never the tensor", async () => {
    const g = shadowGateway(catalog());
    const res = await g.infer("drift", x([1, 2, 3, 4]));
    const body = (await res.json()) as { outputs: Array<{ data: number[] }>; model_version: string };
    expect(body.model_version).toBe("1");
    expect(body.outputs[0]?.data).toEqual([1, 2, 3, 4]); // the client got the live answer
    await g.gateway.shadow.idle();
    const s = await g.summary("drift");
    expect(s.totals).toMatchObject({ requests: 1, disagreements: 1, errors: 0 });
    expect(s.totals.max_abs_diff).toBeCloseTo(0.5, 5);
    const [d] = s.last_disagreements;
    expect(d?.request_id).toBe(res.headers.get("x-request-id"));
    expect(d?.outputs).toHaveLength(1);
    const o = d?.outputs[0] as Record<string, unknown>;
    expect(o).toMatchObject({ output: "y", sameShape: true, worst: { index: [2], live: 3, shadow: 3.5 } });
    expect(o.withinShare).toBe(0.75); // 0.00001 on element 1 is within abs 1e-4
    expect(o.argmaxAgreement).toBe(1); // [1,2,3,4] and [1,2,3.5,4] both peak at 3
    expect(o.maxRelDiff as number).toBeCloseTo(0.5 / 3, 5);
    expect(JSON.stringify(s)).not.toContain("[1,2,3,4]");
    const m = await g.metrics();
    expect(m).toContain('shadow_requests{model="drift",live_version="1",shadow_version="2"} 1');
    expect(m).toContain('shadow_disagreements{model="drift",live_version="1",shadow_version="2"} 1');
    expect(m).toMatch(
      /shadow_max_abs_diff_bucket\{le="1",model="drift",live_version="1",shadow_version="2"\} 1/,
    );
    expect(m).toMatch(
      /shadow_max_abs_diff_bucket\{le="0.1",model="drift",live_version="1",shadow_version="2"\} 0/,
    );
  });

  it("a failing shadow (version missing): answers unchanged, errors counted, live metrics clean", async () => {
    const g = shadowGateway(catalog());
    for (let i = 0; i < 3; i++) {
      const res = await g.infer("gone", x([1, 2, 3, 4]));
      expect(res.status).toBe(200);
      // One mirror at a time: a missing version is looked for in the repository (a rescan), and a
      // mirror sent while the last is still looking would be dropped, not failed.
      await g.gateway.shadow.idle();
    }
    expect((await g.summary("gone")).totals).toMatchObject({ requests: 0, errors: 3, disagreements: 0 });
    const m = await g.metrics();
    expect(m).toContain('shadow_errors{model="gone",live_version="1",shadow_version="2",kind="error"} 3');
    expect(m).toContain('nv_inference_request_success{model="gone",version="1"} 3');
    expect(m).not.toMatch(/nv_inference_request_failure\{model="gone"/);
    expect(m).not.toMatch(/edgeinfer_http_responses\{model="gone",code="[45]/);
  });

  it("a shadow that never answers: the client is not delayed, the timeout is counted", async () => {
    const g = shadowGateway(catalog(), 300);
    const started = performance.now();
    const res = await g.infer("slow", x([1, 2, 3, 4]));
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(250);
    // A second request while the first shadow hangs is mirrored too (2 in flight at most).
    expect((await g.infer("slow", x([1, 2, 3, 4]))).status).toBe(200);
    expect((await g.infer("slow", x([1, 2, 3, 4]))).status).toBe(200);
    await g.gateway.shadow.idle();
    const s = await g.summary("slow");
    expect(s.totals).toMatchObject({ requests: 0, timeouts: 2, dropped: 1, errors: 0 });
    const m = await g.metrics();
    expect(m).toContain('shadow_errors{model="slow",live_version="1",shadow_version="2",kind="timeout"} 2');
    expect(m).toContain(
      'shadow_dropped{model="slow",live_version="1",shadow_version="2",reason="concurrency"} 1',
    );
    expect(m).not.toMatch(/nv_inference_request_failure\{model="slow"/);
  });

  it("mirrors its share of unpinned requests, within 5 sigma over 1000", async () => {
    const g = shadowGateway(catalog());
    const n = 1000;
    for (let i = 0; i < n; i++) {
      await g.infer("tenth", x([i, 0, 0, 0]));
      await g.gateway.shadow.idle();
    }
    const { totals } = await g.summary("tenth");
    const sampled = totals.requests + totals.dropped + totals.errors + totals.timeouts;
    const sd = Math.sqrt(n * 0.1 * 0.9);
    expect(Math.abs(sampled - n * 0.1)).toBeLessThan(5 * sd);
    expect(totals.dropped).toBe(0);
  });

  it("pinned requests and cache hits are not shadowed; a model without a shadow reports none", async () => {
    const g = shadowGateway(catalog());
    expect((await g.infer("same", x([1, 2, 3, 4]), 1)).status).toBe(200);
    expect((await g.infer("cached", x([1, 2, 3, 4]))).status).toBe(200);
    await g.gateway.cache.flush();
    const hit = await g.infer("cached", x([1, 2, 3, 4]));
    expect(hit.headers.get("x-cache") ?? hit.headers.get("X-Cache")).toMatch(/HIT/i);
    await g.gateway.shadow.idle();
    expect((await g.summary("same")).totals.requests).toBe(0);
    expect((await g.summary("cached")).totals.requests).toBe(1);
    const plain = await g.app.request("/v2/models/plain/shadow");
    expect(plain.status).toBe(404);
    expect(await plain.json()).toMatchObject({ error: 'model "plain" has no shadow version' });
    const unknown = await g.app.request("/v2/models/nope/shadow");
    expect(unknown.status).toBe(404);
  });
});
