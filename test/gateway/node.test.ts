/**
 * `npm start` for real: gateway/node.ts in its own process on a free loopback port, in local mode
 * with the demo OCR models, called with fetch; then SIGTERM. And a bad variable failing the start.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeInferResponse, encodeInferRequest } from "../../layers/protocol";
import { s3Models } from "../functions/model/fixtures";
import { type Started, startProcess } from "../support/server";

const tsx = ["--import", "tsx", "gateway/node.ts"];
const baseEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "WARN" };

let gateway: Started;
let url: string;

beforeAll(async () => {
  gateway = await startProcess(process.execPath, tsx, {
    env: { ...baseEnv, PORT: "0" },
    ready: /edge-infer ready at (http:\/\/127\.0\.0\.1:\d+) — local \(in-process\): (.+) — try: curl (\S+)/,
  });
  url = gateway.match[1] ?? "";
});

afterAll(() => gateway?.kill());

describe("gateway on node (npm start)", () => {
  it("serves the demo models, warm, and its ready line's curl example works", async () => {
    expect(gateway.match[2]).toBe("ocr, ocr-cls, ocr-det, ocr-rec");
    const example = await fetch(gateway.match[3] ?? "");
    expect(example.status).toBe(200);
    expect(await example.json()).toMatchObject({ name: "ocr", platform: "ensemble" });
    expect(await (await fetch(`${url}/v2/health/ready`)).json()).toEqual({ ready: true });
  });

  it("answers binary infer requests over HTTP", async () => {
    const encoded = encodeInferRequest(
      {
        inputs: [
          {
            name: "x",
            datatype: "FP32",
            shape: [2, 3, 48, 160],
            data: new Float32Array(2 * 3 * 48 * 160).fill(0.2),
          },
        ],
        outputs: [{ name: "softmax_11.tmp_0", parameters: { binary_data: true } }],
      },
      { binary: true },
    );
    const res = await fetch(`${url}/v2/models/ocr-rec/infer`, {
      method: "POST",
      body: encoded.body,
      headers: {
        "Inference-Header-Content-Length": String(encoded.headerLength),
        "x-request-id": "loopback-1",
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("loopback-1");
    const out = decodeInferResponse(
      new Uint8Array(await res.arrayBuffer()),
      Number(res.headers.get("inference-header-content-length")),
    );
    const [probs] = out.outputs;
    if (probs === undefined || !(probs.data instanceof Float32Array))
      throw new Error("expected one FP32 output");
    expect(probs.shape.slice(0, 2)).toEqual([2, 20]);
    // Each time step is a softmax over the character set.
    const row = Array.from(probs.data.subarray(0, probs.shape[2] ?? 0));
    expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 3);
  });

  it("exits 0 on SIGTERM", async () => {
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toBe(0);
    expect(gateway.output()).toContain("SIGTERM: finishing requests in flight, then exiting");
  });

  it("reads its models from s3:// when MODEL_REPOSITORY says so", async () => {
    const models = await s3Models(["add"]);
    const s3gateway = await startProcess(process.execPath, tsx, {
      env: { ...baseEnv, ...models.env, PORT: "0", MODEL_REPOSITORY: models.uri },
      ready: /ready at (http:\/\/127\.0\.0\.1:\d+) — local \(in-process\): add —/,
    });
    try {
      const res = await fetch(`${s3gateway.match[1]}/v2/models/add/infer`, {
        method: "POST",
        body: JSON.stringify({
          inputs: [
            { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
            { name: "b", shape: [1, 4], datatype: "FP32", data: [0, 0, 0, 0] },
          ],
          outputs: [{ name: "sum" }],
        }),
      });
      expect(await res.json()).toMatchObject({
        model_version: "2",
        outputs: [{ name: "sum", data: [2, 3, 4, 5] }],
      });
    } finally {
      s3gateway.kill();
      await models.close();
    }
  });

  it("reads a local S3_ENDPOINT with no AWS credentials in the environment, as DynamoDB's (repro 7)", async () => {
    const models = await s3Models(["add"]);
    const { AWS_ACCESS_KEY_ID: _, AWS_SECRET_ACCESS_KEY: __, ...noKeys } = models.env;
    const s3gateway = await startProcess(process.execPath, tsx, {
      env: { ...baseEnv, ...noKeys, PORT: "0", MODEL_REPOSITORY: models.uri },
      ready: /ready at (http:\/\/127\.0\.0\.1:\d+) — local \(in-process\): add —/,
    });
    try {
      const res = await fetch(`${s3gateway.match[1]}/v2/models/add/ready`);
      expect(res.status).toBe(200);
    } finally {
      s3gateway.kill();
      await models.close();
    }
  });

  it("refuses to start on a bad variable, naming it", async () => {
    const failed = await startProcess(process.execPath, tsx, {
      env: { ...baseEnv, PORT: "http" },
      ready: /failed to start: .*/,
    });
    expect(failed.match[0]).toBe('failed to start: PORT: expected an integer from 0 to 65535, got "http"');
    expect(await failed.exited).toBe(1);
  });
});
