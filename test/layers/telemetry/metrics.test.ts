import { describe, expect, it } from "vitest";
import { EmfMetrics } from "../../../layers/telemetry/emf";
import { isServerError } from "../../../layers/telemetry/metrics";
import { PrometheusMetrics } from "../../../layers/telemetry/prometheus";

/**
 * Parses the Prometheus text format strictly enough to catch malformed lines. Keys list `le` last,
 * as Triton writes it (prom-client writes it first; label order carries no meaning).
 */
function parseProm(text: string): Map<string, number> {
  expect(text.endsWith("\n")).toBe(true);
  const samples = new Map<string, number>();
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/;
  for (const line of text.trimEnd().split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = sample.exec(line);
    expect(m, line).not.toBeNull();
    const labels = (m?.[2] ?? "").replace(/^\{(le="[^"]*"),(.+)\}$/, "{$2,$1}");
    samples.set(`${m?.[1]}${labels}`, Number(m?.[3]));
  }
  return samples;
}

describe("Metrics (Prometheus)", () => {
  it("renders Triton-style series that parse and increase", async () => {
    const m = new PrometheusMetrics();
    m.recordRequest({
      model: "ocr-det",
      version: "1",
      status: 200,
      durationMs: 12.5,
      batchSize: 4,
      phases: { queue: 0.25, decode: 1, infer: 10, encode: 1.25 },
    });
    m.cacheMiss("ocr-det");
    const first = parseProm(await m.renderPrometheus());
    const mv = '{model="ocr-det",version="1"}';
    expect(first.get(`nv_inference_request_success${mv}`)).toBe(1);
    expect(first.get(`nv_inference_count${mv}`)).toBe(4);
    expect(first.get(`nv_inference_request_duration_us${mv}`)).toBe(12_500);
    expect(first.get(`nv_inference_queue_duration_us${mv}`)).toBe(250);
    expect(first.get(`nv_inference_compute_input_duration_us${mv}`)).toBe(1_000);
    expect(first.get(`nv_inference_compute_infer_duration_us${mv}`)).toBe(10_000);
    expect(first.get(`nv_inference_compute_output_duration_us${mv}`)).toBe(1_250);
    expect(first.get('nv_cache_num_misses_per_model{model="ocr-det"}')).toBe(1);
    expect(first.get('nv_inference_request_duration_ms_bucket{model="ocr-det",le="10"}')).toBe(0);
    expect(first.get('nv_inference_request_duration_ms_bucket{model="ocr-det",le="25"}')).toBe(1);
    expect(first.get('nv_inference_request_duration_ms_bucket{model="ocr-det",le="+Inf"}')).toBe(1);
    expect(first.get('nv_inference_request_duration_ms_count{model="ocr-det"}')).toBe(1);

    m.recordRequest({ model: "ocr-det", version: "1", status: 200, durationMs: 3 });
    m.recordRequest({
      model: "ocr-det",
      version: "1",
      status: 504,
      reason: "backend_timeout",
      durationMs: 30_000,
    });
    m.recordRequest({
      model: "ocr-det",
      version: "1",
      status: 400,
      reason: "invalid_input",
      durationMs: 0.2,
    });
    m.recordRequest({ model: "ocr-det", status: 413, durationMs: 0.1 });
    m.cacheHit("ocr-det");
    const second = parseProm(await m.renderPrometheus());
    expect(second.get(`nv_inference_request_success${mv}`)).toBe(2);
    expect(second.get(`nv_inference_count${mv}`)).toBe(5);
    expect(
      second.get('nv_inference_request_failure{model="ocr-det",version="1",reason="backend_timeout"}'),
    ).toBe(1);
    expect(
      second.get('nv_inference_request_failure{model="ocr-det",version="1",reason="invalid_input"}'),
    ).toBe(1);
    expect(second.get('nv_inference_request_failure{model="ocr-det",version="",reason="http_413"}')).toBe(1);
    expect(second.get('edgeinfer_http_responses{model="ocr-det",code="504"}')).toBe(1);
    expect(second.get('nv_cache_num_hits_per_model{model="ocr-det"}')).toBe(1);
    expect(second.get('nv_inference_request_duration_ms_count{model="ocr-det"}')).toBe(5);
    expect(second.get('nv_inference_request_duration_ms_bucket{model="ocr-det",le="1"}')).toBe(2);
    const text = await m.renderPrometheus();
    expect(text).toContain("# TYPE nv_inference_request_success counter");
    expect(text).toContain("# TYPE nv_inference_request_duration_ms histogram");
  });

  it("escapes hostile label values and caps the series a client can create", async () => {
    const m = new PrometheusMetrics({ maxSeries: 5 });
    m.cacheHit('we"ird\\model\nname');
    for (let i = 0; i < 50; i++) m.cacheHit(`bogus-${i}`);
    const samples = parseProm(await m.renderPrometheus());
    expect(samples.get('nv_cache_num_hits_per_model{model="we\\"ird\\\\model\\nname"}')).toBe(1);
    const hitSeries = [...samples.keys()].filter((k) => k.startsWith("nv_cache_num_hits_per_model"));
    expect(hitSeries).toHaveLength(6); // 5 kept + the _other overflow
    expect(samples.get('nv_cache_num_hits_per_model{model="_other"}')).toBe(46);
  });

  it("drops negative and NaN counter increments and non-finite observations", async () => {
    const m = new PrometheusMetrics();
    m.recordRequest({ model: "x", version: "1", status: 200, batchSize: 2, durationMs: 1 });
    m.recordRequest({ model: "x", version: "1", status: 200, batchSize: -5, durationMs: Number.NaN });
    m.recordRequest({ model: "x", version: "1", status: 200, batchSize: Number.NaN, durationMs: Infinity });
    const samples = parseProm(await m.renderPrometheus());
    expect(samples.get('nv_inference_request_success{model="x",version="1"}')).toBe(3);
    expect(samples.get('nv_inference_count{model="x",version="1"}')).toBe(2);
    expect(samples.get('nv_inference_request_duration_us{model="x",version="1"}')).toBe(1_000);
    expect(samples.get('nv_inference_request_duration_ms_count{model="x"}')).toBe(1);
  });

  it("bound series are created (and take a place under the cap) at their first valid record", async () => {
    const m = new PrometheusMetrics({ maxSeries: 2 });
    // Success is counted; the NaN batch size and duration create no count, duration or histogram series.
    m.recordRequest({ model: "w", version: "9", status: 200, batchSize: Number.NaN, durationMs: Number.NaN });
    const first = await m.renderPrometheus();
    expect(first).toContain('nv_inference_request_success{model="w",version="9"} 1');
    expect(first).not.toMatch(/^nv_inference_count\{/m);
    expect(first).not.toMatch(/^nv_inference_request_duration_ms_bucket/m);
    m.recordRequest({ model: "x", version: "1", status: 200, batchSize: 3, durationMs: 5 });
    m.recordRequest({ model: "y", version: "2", status: 200, durationMs: 5 });
    const samples = parseProm(await m.renderPrometheus());
    // w took no place under nv_inference_count's cap: x and y fit in its two.
    expect(samples.get('nv_inference_count{model="x",version="1"}')).toBe(3);
    expect(samples.get('nv_inference_count{model="y",version="2"}')).toBe(1);
    expect(samples.has('nv_inference_count{model="_other",version="_other"}')).toBe(false);
    // Success had w and x: y folds into _other.
    expect(samples.get('nv_inference_request_success{model="_other",version="_other"}')).toBe(1);
    expect(samples.get('nv_inference_request_duration_ms_bucket{model="x",le="5"}')).toBe(1);
  });

  it("records many requests of one model and version into the same series", async () => {
    const m = new PrometheusMetrics();
    for (let i = 0; i < 3; i++) {
      m.recordRequest({ model: "a", version: "1", status: 200, durationMs: 2, phases: { infer: 1 } });
    }
    m.recordRequest({ model: "a", version: "1", status: 400, reason: "invalid_input", durationMs: 1 });
    m.recordRequest({ model: "a", version: "1", status: 504, reason: "backend_timeout", durationMs: 1 });
    m.recordRequest({ model: "a", status: 404, durationMs: 1 });
    const samples = parseProm(await m.renderPrometheus());
    expect(samples.get('nv_inference_request_success{model="a",version="1"}')).toBe(3);
    expect(samples.get('nv_inference_count{model="a",version="1"}')).toBe(3);
    expect(samples.get('nv_inference_compute_infer_duration_us{model="a",version="1"}')).toBe(3000);
    expect(samples.get('nv_inference_request_duration_us{model="a",version="1"}')).toBe(8000);
    expect(samples.get('nv_inference_request_failure{model="a",version="1",reason="invalid_input"}')).toBe(1);
    expect(samples.get('nv_inference_request_failure{model="a",version="1",reason="backend_timeout"}')).toBe(
      1,
    );
    expect(samples.get('nv_inference_request_failure{model="a",version="",reason="http_404"}')).toBe(1);
    expect(samples.get('edgeinfer_http_responses{model="a",code="200"}')).toBe(3);
    expect(samples.get('edgeinfer_http_responses{model="a",code="404"}')).toBe(1);
    expect(samples.get('nv_inference_request_duration_ms_count{model="a"}')).toBe(6);
    // A version that only failed has no success series (series appear at their first increment).
    expect(samples.has('nv_inference_request_success{model="a",version=""}')).toBe(false);
  });

  it("tells server errors from client errors", async () => {
    expect(isServerError(503, "overloaded")).toBe(true);
    expect(isServerError(429, "rate_limited")).toBe(false);
    expect(isServerError(0, "backend_failure")).toBe(true);
  });
});

describe("Metrics (CloudWatch EMF)", () => {
  it("emits one EMF document per model with the dashboard's metric names, then starts over", async () => {
    const m = new EmfMetrics();
    m.recordRequest({ model: "a", version: "2", status: 200, durationMs: 5, phases: { queue: 1, infer: 3 } });
    m.recordRequest({ model: "a", version: "2", status: 502, reason: "backend_failure", durationMs: 7 });
    m.recordRequest({ model: "a", status: 400, reason: "invalid_input", durationMs: 1 });
    m.cacheHit("a");
    m.cacheMiss("b");
    const before = Date.now();
    const lines = m.flush();
    expect(lines).toHaveLength(2);
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const a = docs.find((d) => d.model === "a");
    expect(a?._aws).toEqual({
      Timestamp: expect.any(Number),
      CloudWatchMetrics: [
        {
          Namespace: "EdgeInfer",
          Dimensions: [["model"]],
          Metrics: expect.arrayContaining([
            { Name: "requests", Unit: "Count" },
            { Name: "errors", Unit: "Count" },
            { Name: "latency_ms", Unit: "Milliseconds" },
            { Name: "cache_hits", Unit: "Count" },
            { Name: "queue_ms", Unit: "Milliseconds" },
            { Name: "infer_ms", Unit: "Milliseconds" },
          ]),
        },
      ],
    });
    expect(a).toMatchObject({
      requests: 3,
      errors: 1,
      client_errors: 1,
      cache_hits: 1,
      latency_ms: [5, 7, 1],
    });
    expect(a).toMatchObject({ queue_ms: 1, infer_ms: 3 });
    // Every metric named in the directive has a value in the document, as EMF requires.
    const aws = a?._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> } | undefined;
    const defs = aws?.CloudWatchMetrics[0];
    for (const d of defs?.Metrics ?? []) expect(a, d.Name).toHaveProperty(d.Name);
    expect(docs.find((d) => d.model === "b")).toMatchObject({ cache_misses: 1 });
    expect((a?._aws as { Timestamp: number } | undefined)?.Timestamp).toBeGreaterThanOrEqual(before);
    expect(m.flush()).toEqual([]);
  });

  it("splits more than 100 observations over several documents", async () => {
    const m = new EmfMetrics();
    for (let i = 0; i < 250; i++) m.recordRequest({ model: "a", status: 200, durationMs: i });
    const docs = m.flush().map((l) => JSON.parse(l) as { requests?: number; latency_ms: number[] });
    expect(docs.map((d) => d.latency_ms.length)).toEqual([100, 100, 50]);
    expect(docs.map((d) => d.requests)).toEqual([250, undefined, undefined]);
    expect(docs.flatMap((d) => d.latency_ms)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it("adds no service dimension, whatever POWERTOOLS_SERVICE_NAME says", () => {
    const saved = process.env.POWERTOOLS_SERVICE_NAME;
    process.env.POWERTOOLS_SERVICE_NAME = "edge-infer-gateway";
    try {
      const m = new EmfMetrics("Other");
      m.cacheHit("a");
      const [doc] = m.flush().map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(doc).not.toHaveProperty("service");
      expect(doc?._aws).toMatchObject({
        CloudWatchMetrics: [{ Namespace: "Other", Dimensions: [["model"]] }],
      });
    } finally {
      if (saved === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
      else process.env.POWERTOOLS_SERVICE_NAME = saved;
    }
  });
});
