/**
 * Per-model concurrency with load shedding, through the assembled gateway: a backend held busy on
 * purpose fills the model's slots and queue, the next request is shed with 503 + Retry-After, other
 * models are not affected, and the queued request is served once a slot frees up.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../gateway/app";
import { readGatewayConfig } from "../../../gateway/config";
import { gatewayDeps } from "../../../gateway/deps";
import type { Backend, EngineBackend, InferResult } from "../../../layers/backend";
import { PrometheusMetrics } from "../../../layers/telemetry/prometheus";
import type { ValidatedRequest } from "../../../layers/validation/request";
import { makeTestRepository } from "../../support/models";
import { engineBackend } from "../helpers";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let engine: EngineBackend;

beforeAll(async () => {
  repo = await makeTestRepository();
  engine = engineBackend(repo.dir, ["add", "int64-ops"]);
});

afterAll(async () => {
  await engine?.close();
  await repo?.cleanup();
});

/** A backend whose infer calls wait until `open()`; `entered` counts the calls that started. */
function gated(inner: Backend) {
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => {
    release = r;
  });
  const state = {
    entered: 0,
    open: () => release(),
    close: () => {
      gate = new Promise<void>((r) => {
        release = r;
      });
    },
  };
  const backend: Backend = {
    describe: (m, v, s) => inner.describe(m, v, s),
    ready: (m, v, s) => inner.ready(m, v, s),
    async infer(
      m: string,
      v: number | undefined,
      r: ValidatedRequest,
      s?: AbortSignal,
    ): Promise<InferResult> {
      state.entered++;
      await gate;
      return inner.infer(m, v, r, s);
    },
  };
  return { backend, state };
}

const addBody = JSON.stringify({
  inputs: [
    { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
    { name: "b", shape: [1, 4], datatype: "FP32", data: [1, 1, 1, 1] },
  ],
});
const int64Body = JSON.stringify({
  inputs: [{ name: "x", shape: [1, 3], datatype: "INT64", data: [3, -1, 0] }],
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

function appWith(env: Record<string, string>, backend: Backend) {
  const config = readGatewayConfig({ LOG_LEVEL: "SILENT", ...env });
  const prometheus = new PrometheusMetrics();
  const gateway = gatewayDeps(
    config,
    new Map([
      ["add", backend],
      ["int64-ops", engine],
    ]),
    { prometheus },
  );
  return { app: createApp(gateway.deps), prometheus };
}

describe("per-model concurrency limit", () => {
  it("sheds the request past the slots and the queue with 503 + Retry-After, and serves the rest", async () => {
    const { backend, state } = gated(engine);
    const { app, prometheus } = appWith({ MODEL_MAX_CONCURRENCY: "1", MODEL_MAX_QUEUE: "1" }, backend);
    const infer = (model: string, body: string) =>
      app.request(`/v2/models/${model}/infer`, { method: "POST", body });
    const running = infer("add", addBody);
    await until(() => state.entered === 1);
    const queued = infer("add", addBody);
    await new Promise((r) => setTimeout(r, 20)); // let it reach the queue
    const shed = await infer("add", addBody);
    expect(shed.status).toBe(503);
    expect(shed.headers.get("retry-after")).toBe("1");
    const error = ((await shed.json()) as { error: string }).error;
    expect(error).toMatch(/^model "add" is overloaded, retry later \(request id [\w-]+\)$/);
    // Another model has its own lane.
    expect((await infer("int64-ops", int64Body)).status).toBe(200);
    state.open();
    const [first, second] = await Promise.all([running, queued]);
    expect(first?.status).toBe(200);
    expect(second?.status).toBe(200);
    expect(second?.headers.get("server-timing")).toMatch(/queue;dur=[\d.]+/);
    expect(await second?.json()).toMatchObject({
      outputs: [{ name: "sum", data: [3, 4, 5, 6] }, { name: "diff" }],
    });
    expect(state.entered).toBe(2);
    const metrics = await prometheus.renderPrometheus();
    expect(metrics).toContain('nv_inference_request_failure{model="add",version="",reason="overloaded"} 1');
  });

  it("sheds a queued request that waits past MODEL_QUEUE_TIMEOUT_MS", async () => {
    const { backend, state } = gated(engine);
    const { app } = appWith(
      { MODEL_MAX_CONCURRENCY: "1", MODEL_MAX_QUEUE: "4", MODEL_QUEUE_TIMEOUT_MS: "30" },
      backend,
    );
    const running = app.request("/v2/models/add/infer", { method: "POST", body: addBody });
    await until(() => state.entered === 1);
    const waited = await app.request("/v2/models/add/infer", { method: "POST", body: addBody });
    expect(waited.status).toBe(503);
    expect(waited.headers.get("retry-after")).toBe("1");
    state.open();
    expect((await running).status).toBe(200);
  });
});
