/**
 * Bounded work per request (issue 12, repro 1): config.json `limits` shown by /config, checked before
 * any run, with the demo models' defaults; the input-element cap of a model without limits; and
 * `limits.max_response_bytes` before the run where output shapes tell, else 413 after it. Real
 * gateway server in local mode, real ORT.
 */
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelEngine } from "../../../layers/engine";
import { openRepository } from "../../../layers/repository";
import { FieldReader } from "../../../layers/repository/config-fields";
import { parseLimits } from "../../../layers/repository/limits";
import { checkInputLimits, DEFAULT_MAX_INPUT_ELEMENTS } from "../../../layers/validation/limits";
import { startGatewayServer, type TestGateway } from "../../support/server";

const DEMO = fileURLToPath(new URL("../../../functions/models/", import.meta.url));
let dir: string;
let gateway: TestGateway;

/** Demo model `from` linked into `dir` as `model` (file and sum as they are), its config's `limits` replaced. */
async function demoWithLimits(model: string, limits: unknown, from = model): Promise<void> {
  await mkdir(join(dir, model, "1"), { recursive: true });
  const config = JSON.parse(await readFile(join(DEMO, from, "config.json"), "utf8"));
  await writeFile(join(dir, model, "config.json"), JSON.stringify({ ...config, name: model, limits }));
  await symlink(await realpath(join(DEMO, from, "1", "model.onnx")), join(dir, model, "1", "model.onnx"));
  await copyFile(join(DEMO, from, "1", "model.onnx.sha256"), join(dir, model, "1", "model.onnx.sha256"));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "limits-"));
  for (const m of ["ocr-det", "ocr-rec"]) {
    await demoWithLimits(m, JSON.parse(await readFile(join(DEMO, m, "config.json"), "utf8")).limits);
  }
  await demoWithLimits("ocr-cls", { max_response_bytes: 100 });
  // ocr-det's output is [batch, 1, h, w]: only the run tells its size.
  await demoWithLimits("small-det", { max_response_bytes: 5000 }, "ocr-det");
  // A model without limits: ocr-det's signature, the default element cap.
  await demoWithLimits("no-limits", undefined, "ocr-det");
  gateway = await startGatewayServer({ MODEL_REPOSITORY: pathToFileURL(dir).href, BATCHING: "off" });
});

afterAll(async () => {
  await gateway?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A binary infer request of zeros for FP32 input `x` of `shape`. */
function inferBinary(model: string, shape: number[], binaryOutputs = false): Promise<Response> {
  const bytes = shape.reduce((a, b) => a * b, 1) * 4;
  const header = JSON.stringify({
    inputs: [{ name: "x", shape, datatype: "FP32", parameters: { binary_data_size: bytes } }],
    ...(binaryOutputs ? { parameters: { binary_data_output: true } } : {}),
  });
  const head = new TextEncoder().encode(header);
  const body = new Uint8Array(head.length + bytes);
  body.set(head);
  return fetch(`${gateway.url}/v2/models/${model}/infer`, {
    method: "POST",
    body,
    headers: { "Inference-Header-Content-Length": String(head.length) },
  });
}

const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

describe("limits", () => {
  it("refuses the repro shapes with a 400 naming the input and the limit", async () => {
    const det = await inferBinary("ocr-det", [1, 3, 1, 380_000]);
    expect(det.status).toBe(400);
    expect(await errorOf(det)).toBe(
      "input 'x' has shape [1,3,1,380000]: dimension 3 is 380000, over its limit 2048 (limits.x.max_shape [8,3,2048,2048])",
    );
    const rec = await inferBinary("ocr-rec", [1, 3, 48, 8000]);
    expect(rec.status).toBe(400);
    expect(await errorOf(rec)).toContain(
      "dimension 3 is 8000, over its limit 2048 (limits.x.max_shape [16,3,48,2048])",
    );
  });

  it("serves shapes inside the limits, and shows the limits in /config", async () => {
    const res = await inferBinary("ocr-rec", [1, 3, 48, 2048], true);
    expect(res.status).toBe(200);
    const config = await (await fetch(`${gateway.url}/v2/models/ocr-det/config`)).json();
    expect(config).toMatchObject({
      limits: { x: { max_shape: [8, 3, 2048, 2048] }, max_response_bytes: 67_108_864 },
      // What its limits bound, ORT's arena keeps: the demo detector runs with it (README, "The CPU arena").
      optimization: { enable_mem_arena: true },
    });
  });

  it("caps an input with a free dimension at 4 x the body limit's FP32 elements when config sets no limits", () => {
    // Unit level: through HTTP an FP32 tensor this large is already over the body limit (a UINT8,
    // FP16 or raised MAX_BODY_BYTES one is not).
    const sig = { inputs: [{ name: "x", datatype: "UINT8" as const, shape: [-1, 3, -1] }], outputs: [] };
    const n = DEFAULT_MAX_INPUT_ELEMENTS / 3 + 1;
    const x = (len: number) => ({
      name: "x",
      datatype: "UINT8" as const,
      shape: [1, 3, len],
      data: new Uint8Array(3 * len),
    });
    expect(() => checkInputLimits([x(n)], sig)).toThrow(
      `input 'x' has shape [1,3,${n}], ${3 * n} elements: over the limit of ${DEFAULT_MAX_INPUT_ELEMENTS} for an input without limits.x.max_shape`,
    );
    expect(() => checkInputLimits([x(n - 1)], sig)).not.toThrow();
    // A max_shape replaces the cap.
    expect(() => checkInputLimits([x(n)], sig, { x: { max_shape: [1, 3, n] } })).not.toThrow();
  });

  it("refuses before running an answer whose output shapes exceed max_response_bytes", async () => {
    // ocr-cls answers [32, 2] FP32: at least 128 characters in JSON, over 100.
    const res = await inferBinary("ocr-cls", [32, 3, 48, 192]);
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toBe(
      "the answer would be at least 128 bytes, over the model's limit of 100 (limits.max_response_bytes); " +
        "ask for binary outputs (binary_data_output), fewer outputs or smaller inputs",
    );
  });

  it("answers 413 after the run when only the run tells the answer's size", async () => {
    // [1,1,64,64] in JSON: 4096 numbers, over 5000 bytes even as zeros ("0,").
    const big = await inferBinary("small-det", [1, 3, 64, 64]);
    expect(big.status).toBe(413);
    expect(await errorOf(big)).toMatch(/^the answer is \d+ bytes, over the model's limit of 5000 \(limits/);
    // [1,1,32,32]: 1024 numbers, within it.
    expect((await inferBinary("small-det", [1, 3, 32, 32])).status).toBe(200);
  });

  it("validates limits in config.json, naming the field", () => {
    const r = new FieldReader("m");
    expect(() => parseLimits(r, { x: { max_shape: [1, 0] } })).toThrow(
      "config.json of model 'm': limits.x.max_shape[1] must be a positive integer, received 0",
    );
    expect(() => parseLimits(r, { x: { max_shape: [1], max: 2 } })).toThrow(
      "unknown field 'limits.x.max' (allowed: max_shape)",
    );
    expect(() => parseLimits(r, { max_response_bytes: "1MB" })).toThrow(
      'limits.max_response_bytes must be a positive integer, received "1MB"',
    );
    expect(() => parseLimits(r, [])).toThrow("limits must be an object");
  });

  it("leaves a version whose limits name no input, or have the wrong rank, not ready", async () => {
    await demoWithLimits("typo", { y: { max_shape: [1, 3, 48, 192] } }, "ocr-det");
    await demoWithLimits("rank", { x: { max_shape: [3, 48, 192] } }, "ocr-det");
    const engine = new ModelEngine(openRepository(dir));
    try {
      await expect(engine.load("typo")).rejects.toThrow(
        "model 'typo' version 1 failed to load: config.json limits.y names no input of the model (its inputs: x)",
      );
      await expect(engine.load("rank")).rejects.toThrow(
        "config.json limits.x.max_shape has rank 3, input 'x' has shape [-1,3,-1,-1] (rank 4, batch included)",
      );
    } finally {
      await engine.close();
    }
  });
});
