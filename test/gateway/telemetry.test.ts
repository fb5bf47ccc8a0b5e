/**
 * Observability of the assembled gateway in local mode: one JSON log line per request, the
 * Server-Timing header, Prometheus metrics at /metrics (nv_inference_*), failures by reason and
 * bounded model labels.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../gateway/app";
import { readGatewayConfig } from "../../gateway/config";
import { type Gateway, gatewayDeps } from "../../gateway/deps";
import type { EngineBackend } from "../../layers/backend";
import { createLogger } from "../../layers/telemetry";
import { PrometheusMetrics } from "../../layers/telemetry/prometheus";
import { prometheusValues } from "../support/metrics";
import { addConfig, addModel, writeModelDir } from "../support/models";
import { engineBackend } from "./helpers";

let dir: string;
let engine: EngineBackend;
let gateway: Gateway;
let app: ReturnType<typeof createApp>;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-infer-telemetry-"));
  const add = {
    ...addConfig("add", { version_policy: { all: {} } }),
    cache: { enabled: true, ttl_seconds: 60 },
  };
  await writeModelDir(dir, "add", add, { 1: addModel(0), 2: addModel(1) });
  engine = engineBackend(dir, ["add"]);
  const logger = createLogger({
    service: "edge-infer-gateway",
    level: "info",
    sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  gateway = gatewayDeps(readGatewayConfig({}), new Map([["add", engine]]), {
    logger,
    prometheus: new PrometheusMetrics(),
  });
  app = createApp(gateway.deps);
});

afterAll(async () => {
  await gateway?.close();
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

const body = (a: number) =>
  JSON.stringify({
    inputs: [
      { name: "a", shape: [1, 4], datatype: "FP32", data: [a, a, a, a] },
      { name: "b", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
    ],
  });

const infer = (path: string, text: string, headers: Record<string, string> = {}) =>
  app.request(path, { method: "POST", body: text, headers: { "x-request-id": "req-telemetry", ...headers } });

/** The phases of a Server-Timing header, by name. */
function timing(res: Response): Record<string, number> {
  const header = res.headers.get("server-timing") ?? "";
  return Object.fromEntries(
    header.split(", ").map((p) => {
      const [name, dur] = p.split(";dur=");
      return [name ?? "", Number(dur)];
    }),
  );
}

describe("gateway telemetry", () => {
  it("times every phase in Server-Timing: decode, cache, queue, infer, encode, total", async () => {
    const miss = await infer("/v2/models/add/infer", body(1));
    expect(miss.status).toBe(200);
    expect(Object.keys(timing(miss))).toEqual(["decode", "cache", "queue", "infer", "encode", "total"]);
    for (const ms of Object.values(timing(miss))) expect(ms).toBeGreaterThanOrEqual(0);
    // A hit never reaches the model: no queue, no infer.
    const hit = await infer("/v2/models/add/infer", body(1));
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(Object.keys(timing(hit))).toEqual(["decode", "cache", "encode", "total"]);
    // Refusals carry it too.
    const bad = await infer("/v2/models/add/infer", "{");
    expect(Object.keys(timing(bad))).toEqual(["total"]);
  });

  it("logs one JSON line per request: request id, model, version, status, cache, timings", async () => {
    lines.length = 0;
    await infer("/v2/models/add/versions/1/infer", body(2), { "x-request-id": "req-log-1" });
    await infer("/v2/models/add/versions/1/infer", "[]", { "x-request-id": "req-log-2" });
    await app.request("/v2/health/live", { headers: { "x-request-id": "req-log-3" } });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      level: "info",
      service: "edge-infer-gateway",
      message: "request",
      request_id: "req-log-1",
      method: "POST",
      path: "/v2/models/add/versions/1/infer",
      status: 200,
      model: "add",
      version: "1",
      cache: "MISS",
      duration_ms: expect.any(Number),
      timings_ms: { decode: expect.any(Number), infer: expect.any(Number), encode: expect.any(Number) },
    });
    expect(lines[1]).toMatchObject({
      request_id: "req-log-2",
      status: 400,
      model: "add",
      version: "1",
      reason: "invalid_input",
    });
    expect(lines[2]).toMatchObject({ request_id: "req-log-3", status: 200, path: "/v2/health/live" });
    expect(lines[2]).not.toHaveProperty("model");
  });

  it("exposes per-model metrics at /metrics in Prometheus text, nv_inference_* names", async () => {
    await infer("/v2/models/add/infer", body(3));
    await infer("/v2/models/add/infer", body(3));
    await infer("/v2/models/add/infer", JSON.stringify({ inputs: [] }));
    await infer("/v2/models/ghost/infer", body(3));
    await infer("/v2/models/another-ghost/infer", body(3));
    const res = await app.request("/metrics");
    const text = await res.clone().text();
    const value = await prometheusValues(res);
    expect(value('nv_inference_request_success{model="add",version="2"}')).toBe(4);
    expect(value('nv_inference_request_success{model="add",version="1"}')).toBe(1);
    expect(value('nv_inference_request_failure{model="add",version="",reason="invalid_input"}')).toBe(2);
    expect(value('nv_inference_request_failure{model="add",version="1",reason="invalid_input"}')).toBe(1);
    // Names the catalog does not have share one label: a client cannot grow the series.
    expect(value('nv_inference_request_failure{model="_unknown",version="",reason="model_not_found"}')).toBe(
      2,
    );
    expect(text).not.toContain("ghost");
    expect(value('nv_cache_num_hits_per_model{model="add"}')).toBe(2);
    expect(value('nv_cache_num_misses_per_model{model="add"}')).toBe(3);
    for (const phase of ["queue", "compute_input", "compute_infer", "compute_output"]) {
      expect(value(`nv_inference_${phase}_duration_us{model="add",version="2"}`)).toBeGreaterThanOrEqual(0);
    }
    expect(value('nv_inference_request_duration_ms_count{model="add"}')).toBe(8);
    expect(value("edgeinfer_result_cache_hits_l1_total")).toBe(2);
  });
});

describe("telemetry at LOG_LEVEL=ERROR", () => {
  it("writes no request line, yet still counts the request and sends Server-Timing", async () => {
    const quiet: string[] = [];
    const logger = createLogger({
      service: "edge-infer-gateway",
      level: "error",
      sink: (l) => quiet.push(l),
    });
    const g = gatewayDeps(readGatewayConfig({}), new Map([["add", engine]]), {
      logger,
      prometheus: new PrometheusMetrics(),
    });
    try {
      const a = createApp(g.deps);
      const res = await a.request("/v2/models/add/infer", { method: "POST", body: body(7) });
      expect(res.status).toBe(200);
      expect(Object.keys(timing(res))).toContain("total");
      const missing = await a.request("/v2/models/nope/infer", { method: "POST", body: body(7) });
      expect(missing.status).toBe(404);
      expect(quiet).toEqual([]);
      const text = await (await a.request("/metrics")).text();
      expect(text).toMatch(/^nv_inference_request_success\{model="add",version="2"\} 1$/m);
      expect(text).toContain('edgeinfer_http_responses{model="_unknown",code="404"} 1\n');
    } finally {
      await g.close();
    }
  });
});
