/**
 * A bounded load run: autocannon on loopback against `npm start` (gateway/node.ts in its own
 * process, the demo models in-process) sending ocr-cls binary requests. Every request must succeed;
 * latency and throughput are printed, not asserted (they say more about the machine than the code).
 */
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeInferResponse, encodeInferRequest } from "../../layers/protocol";
import { type Started, startProcess } from "../support/server";

/** The part of autocannon's API and result this test uses (it ships no types). */
interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
}
type Autocannon = (options: {
  url: string;
  method: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
  body: Buffer;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

let gateway: Started;
let url: string;

beforeAll(async () => {
  gateway = await startProcess(process.execPath, ["--import", "tsx", "gateway/node.ts"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: "0", LOG_LEVEL: "WARN" },
    ready: /edge-infer ready at (http:\/\/127\.0\.0\.1:\d+)/,
  });
  url = gateway.match[1] ?? "";
});

afterAll(() => gateway?.kill());

// One 3×48×192 crop, as the OCR pipeline sends the classifier, with the output in binary.
const image = new Float32Array(3 * 48 * 192).map((_, i) => ((i * 7919) % 255) / 255);
const encoded = encodeInferRequest(
  {
    inputs: [{ name: "x", datatype: "FP32", shape: [1, 3, 48, 192], data: image }],
    parameters: { binary_data_output: true },
  },
  { binary: true },
);
const headers = {
  "content-type": "application/octet-stream",
  "inference-header-content-length": String(encoded.headerLength),
};

async function run(name: string, seconds: number, extra: Record<string, string>): Promise<AutocannonResult> {
  const result = await autocannon({
    url: `${url}/v2/models/ocr-cls/infer`,
    method: "POST",
    connections: 8,
    duration: seconds,
    headers: { ...headers, ...extra },
    body: Buffer.from(encoded.body),
  });
  console.log(
    `load ${name}: ${result.requests.total} requests in ${seconds} s, ${Math.round(result.requests.average)} req/s, ` +
      `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; ` +
      `errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}`,
  );
  return result;
}

describe("load on the node server", () => {
  it("answers ocr-cls binary requests right before the run", async () => {
    const res = await fetch(`${url}/v2/models/ocr-cls/infer`, {
      method: "POST",
      headers,
      body: encoded.body,
    });
    expect(res.status).toBe(200);
    const out = decodeInferResponse(
      new Uint8Array(await res.arrayBuffer()),
      Number(res.headers.get("inference-header-content-length")),
    );
    const probs = Array.from(out.outputs[0]?.data as Float32Array);
    expect(probs).toHaveLength(2);
    expect((probs[0] ?? 0) + (probs[1] ?? 0)).toBeCloseTo(1, 5);
  });

  it("serves ~8 s of inference (cache bypassed) and ~2 s of cache hits with no error", async () => {
    const inference = await run("inference", 8, { "cache-control": "no-cache, no-store" });
    const cached = await run("cache hits", 2, {});
    for (const r of [inference, cached]) {
      expect(r.errors).toBe(0);
      expect(r.timeouts).toBe(0);
      expect(r.non2xx).toBe(0);
      expect(r["2xx"]).toBeGreaterThan(0);
    }
    expect(gateway.child.exitCode).toBeNull();
  });
});
