/**
 * The gateway app in-process (`app.request`) over in-process engines: the demo OCR models and the
 * generated test models. Routes, JSON and binary round trips, stock-client request shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../gateway/app";
import type { Backend, EngineBackend } from "../../layers/backend";
import { decodeInferResponse, encodeInferRequest } from "../../layers/protocol";
import { makeTestRepository } from "../support/models";
import { DEMO_DIR, engineBackend, f32bytes } from "./helpers";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let test: EngineBackend;
let demo: EngineBackend;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  repo = await makeTestRepository();
  test = engineBackend(repo.dir, ["add", "pinned", "int64-ops"]);
  demo = engineBackend(DEMO_DIR, ["ocr-cls", "ocr-det"]);
  const catalog = new Map<string, Backend>([
    ["add", test],
    ["pinned", test],
    ["int64-ops", test],
    ["ocr-cls", demo],
    ["ocr-det", demo],
  ]);
  app = createApp({ catalog });
});

afterAll(async () => {
  await test?.close();
  await demo?.close();
  await repo?.cleanup();
});

const post = (path: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
  app.request(path, { method: "POST", body, headers });

describe("gateway routes", () => {
  it("answers server metadata and liveness", async () => {
    const res = await app.request("/v2");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: "edge-infer",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      extensions: ["binary_tensor_data", "classification", "model_configuration"],
    });
    expect(await (await app.request("/v2/health/live")).json()).toEqual({ live: true });
  });

  it("serves model metadata with the batch dimension, per version, and the config", async () => {
    const res = await app.request("/v2/models/ocr-cls");
    expect(await res.json()).toEqual({
      name: "ocr-cls",
      versions: ["1", "2"], // 2: the generated shadow version, served beside live version 1
      platform: "onnxruntime_onnx",
      inputs: [{ name: "x", datatype: "FP32", shape: [-1, 3, 48, 192] }],
      outputs: [{ name: "softmax_0.tmp_0", datatype: "FP32", shape: [-1, 2] }],
    });
    const pinned = await (await app.request("/v2/models/pinned/versions/3")).json();
    expect(pinned).toMatchObject({ name: "pinned", versions: ["1", "2", "3"] });
    const config = await (await app.request("/v2/models/add/config")).json();
    expect(config).toMatchObject({
      name: "add",
      max_batch_size: 8,
      version_policy: { latest: { num_versions: 2 } },
    });
  });

  it("says a model is ready once its live version is loaded, and a pinned version only once used", async () => {
    await app.request("/v2/models/add");
    expect((await app.request("/v2/models/add/ready")).status).toBe(200);
    const cold = await app.request("/v2/models/pinned/versions/1/ready");
    expect(cold.status).toBe(503);
    expect(((await cold.json()) as { error: string }).error).toMatch(
      /^model "pinned" version 1 is not ready \(request id [\w-]+\)$/,
    );
    const body = JSON.stringify({ inputs: [{ name: "x", shape: [2], datatype: "FP32", data: [1, 2] }] });
    expect((await post("/v2/models/pinned/versions/1/infer", body)).status).toBe(200);
    expect(await (await app.request("/v2/models/pinned/versions/1/ready")).json()).toEqual({
      name: "pinned",
      version: "1",
      ready: true,
    });
  });
});

describe("gateway infer", () => {
  it("runs a KServe v2 JSON request (nested data, id) and names the version that answered", async () => {
    const res = await post(
      "/v2/models/add/infer",
      JSON.stringify({
        id: "42",
        inputs: [
          {
            name: "a",
            shape: [2, 4],
            datatype: "FP32",
            data: [
              [1, 2, 3, 4],
              [5, 6, 7, 8],
            ],
          },
          { name: "b", shape: [2, 4], datatype: "FP32", data: [1, 1, 1, 1, 2, 2, 2, 2] },
        ],
      }),
      { "content-type": "application/json" },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      model_name: "add",
      model_version: "2",
      id: "42",
      outputs: [
        { name: "sum", datatype: "FP32", shape: [2, 4], data: [3, 4, 5, 6, 8, 9, 10, 11] },
        { name: "diff", datatype: "FP32", shape: [2, 4], data: [0, 1, 2, 3, 3, 4, 5, 6] },
      ],
    });
  });

  it("serves the pinned version asked for in the path", async () => {
    const body = JSON.stringify({ inputs: [{ name: "x", shape: [3], datatype: "FP32", data: [0, 10, 20] }] });
    for (const v of ["1", "2", "3"]) {
      const res = await post(`/v2/models/pinned/versions/${v}/infer`, body);
      const json = (await res.json()) as { model_version: string; outputs: Array<{ data: number[] }> };
      expect(json.model_version).toBe(v);
      expect(json.outputs[0]?.data).toEqual([0, 10, 20].map((x) => x + Number(v)));
    }
  });

  it("answers a Triton client's binary request byte for byte as the extension specifies", async () => {
    // What tritonclient.http sends: binary inputs, one output binary and one JSON.
    const header = new TextEncoder().encode(
      JSON.stringify({
        inputs: [
          { name: "a", shape: [1, 4], datatype: "FP32", parameters: { binary_data_size: 16 } },
          { name: "b", shape: [1, 4], datatype: "FP32", parameters: { binary_data_size: 16 } },
        ],
        outputs: [
          { name: "sum", parameters: { binary_data: true } },
          { name: "diff", parameters: { binary_data: false } },
        ],
      }),
    );
    const body = new Uint8Array([...header, ...f32bytes([1, 2, 3, 4]), ...f32bytes([0.5, 0.5, 0.5, 0.5])]);
    const res = await post("/v2/models/add/versions/1/infer", body, {
      "Inference-Header-Content-Length": String(header.byteLength),
      "Content-Type": "application/octet-stream",
    });
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const jsonLength = Number(res.headers.get("inference-header-content-length"));
    const json = JSON.parse(new TextDecoder().decode(bytes.subarray(0, jsonLength)));
    expect(json).toEqual({
      model_name: "add",
      model_version: "1",
      outputs: [
        { name: "sum", datatype: "FP32", shape: [1, 4], parameters: { binary_data_size: 16 } },
        { name: "diff", datatype: "FP32", shape: [1, 4], data: [0.5, 1.5, 2.5, 3.5] },
      ],
    });
    const sum = new Float32Array(bytes.slice(jsonLength).buffer);
    expect(Array.from(sum)).toEqual([1.5, 2.5, 3.5, 4.5]);
  });

  it("round-trips INT64 and BOOL tensors through the binary extension", async () => {
    const x = new BigInt64Array([-3n, 0n, 2n ** 40n]);
    const encoded = encodeInferRequest(
      {
        inputs: [{ name: "x", datatype: "INT64", shape: [1, 3], data: x }],
        parameters: { binary_data_output: true },
      },
      { binary: true },
    );
    const res = await post("/v2/models/int64-ops/infer", encoded.body as Uint8Array<ArrayBuffer>, {
      "Inference-Header-Content-Length": String(encoded.headerLength),
    });
    const out = decodeInferResponse(
      new Uint8Array(await res.arrayBuffer()),
      Number(res.headers.get("inference-header-content-length")),
    );
    expect(out.outputs.find((o) => o.name === "doubled")?.data).toEqual(
      new BigInt64Array([-6n, 0n, 2n ** 41n]),
    );
    expect(Array.from(out.outputs.find((o) => o.name === "is_pos")?.data as Uint8Array)).toEqual([0, 0, 1]);
  });

  it("runs the real OCR models: classifier probabilities (JSON) and detector map (binary)", async () => {
    const cls = await post(
      "/v2/models/ocr-cls/infer",
      JSON.stringify({
        inputs: [
          { name: "x", shape: [1, 3, 48, 192], datatype: "FP32", data: new Array(3 * 48 * 192).fill(0.5) },
        ],
      }),
    );
    const probs = ((await cls.json()) as { outputs: Array<{ shape: number[]; data: number[] }> }).outputs[0];
    expect(probs?.shape).toEqual([1, 2]);
    expect((probs?.data[0] ?? 0) + (probs?.data[1] ?? 0)).toBeCloseTo(1, 5);

    const image = new Float32Array(3 * 64 * 96).map((_, i) => ((i * 7919) % 255) / 255);
    const encoded = encodeInferRequest(
      {
        inputs: [{ name: "x", datatype: "FP32", shape: [1, 3, 64, 96], data: image }],
        parameters: { binary_data_output: true },
      },
      { binary: true },
    );
    const det = await post("/v2/models/ocr-det/infer", encoded.body as Uint8Array<ArrayBuffer>, {
      "Inference-Header-Content-Length": String(encoded.headerLength),
    });
    expect(det.headers.get("content-type")).toBe("application/octet-stream");
    const out = decodeInferResponse(
      new Uint8Array(await det.arrayBuffer()),
      Number(det.headers.get("inference-header-content-length")),
    );
    expect(out.model_version).toBe("1");
    const map = out.outputs[0];
    expect(map?.shape).toEqual([1, 1, 64, 96]);
    expect(Array.from(map?.data as Float32Array).every((p) => p >= 0 && p <= 1)).toBe(true);
  });
});

describe("gateway extension points", () => {
  it("runs infer middleware around the backend call, after validation, outermost first", async () => {
    const seen: string[] = [];
    const app2 = createApp({
      catalog: new Map([["add", test]]),
      inferMiddleware: [
        async (ctx, next) => {
          seen.push(`outer ${ctx.model} described=${ctx.description.version} pinned=${ctx.version ?? "-"}`);
          const result = await next();
          ctx.headers["X-Cache"] = result.version === "9" ? "HIT" : "MISS";
          return result;
        },
        async (ctx, next) => {
          if (ctx.http.req.header("x-answer") === undefined) return next();
          seen.push("short-circuit");
          return {
            version: "9",
            outputs: [{ name: "sum", datatype: "FP32", shape: [1, 4], data: new Float32Array(4).fill(7) }],
          };
        },
      ],
    });
    const body = JSON.stringify({
      inputs: [
        { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 1, 1, 1] },
        { name: "b", shape: [1, 4], datatype: "FP32", data: [1, 1, 1, 1] },
      ],
    });
    const miss = await app2.request("/v2/models/add/versions/1/infer", { method: "POST", body });
    expect(miss.headers.get("x-cache")).toBe("MISS");
    expect(((await miss.json()) as { model_version: string }).model_version).toBe("1");
    const hit = await app2.request("/v2/models/add/infer", {
      method: "POST",
      body,
      headers: { "x-answer": "1" },
    });
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(await hit.json()).toEqual({
      model_name: "add",
      model_version: "9",
      outputs: [{ name: "sum", datatype: "FP32", shape: [1, 4], data: [7, 7, 7, 7] }],
    });
    const bad = await app2.request("/v2/models/add/infer", { method: "POST", body: "{}" });
    expect(bad.status).toBe(400);
    expect(seen).toEqual([
      "outer add described=1 pinned=1",
      "outer add described=2 pinned=-",
      "short-circuit",
    ]);
  });
});
