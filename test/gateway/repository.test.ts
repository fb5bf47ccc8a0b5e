/**
 * Triton's model repository extension against the gateway as `npm start` runs it, over real HTTP:
 * index, load and unload; a version and a model written to the repository after start, served
 * without a restart; a model folder without config.json; and the classification extension.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../gateway/app";
import { readGatewayConfig } from "../../gateway/config";
import { gatewayDeps } from "../../gateway/deps";
import { decodeInferResponse } from "../../layers/protocol";
import {
  ADD_SIGNATURE,
  addModel,
  bytesIdentityModel,
  checksumText,
  modelConfig,
  offsetModel,
  writeModelDir,
} from "../support/models";
import { startGatewayServer, type TestGateway } from "../support/server";
import { engineBackend } from "./helpers";

let dir: string;
let cleanup: () => Promise<void>;
let gateway: TestGateway;

/** Writes `<dir>/<name>/<version>/model.onnx` (and its sum) and no config.json. */
async function writeVersion(name: string, version: number, bytes: Uint8Array): Promise<void> {
  await mkdir(join(dir, name, String(version)), { recursive: true });
  await writeFile(join(dir, name, String(version), "model.onnx"), bytes);
  await writeFile(join(dir, name, String(version), "model.onnx.sha256"), checksumText(bytes));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-infer-repository-"));
  cleanup = () => rm(dir, { recursive: true, force: true });
  await writeModelDir(dir, "grow", modelConfig("grow"), { 1: offsetModel(1) });
  await writeModelDir(dir, "classes", modelConfig("classes"), { 1: offsetModel(0) });
  await writeFile(join(dir, "classes", "1", "labels.txt"), "cat\ndog\nbird\n");
  await writeModelDir(dir, "bytes-identity", modelConfig("bytes-identity"), { 1: bytesIdentityModel() });
  await writeVersion("bare", 1, addModel(0));
  gateway = await startGatewayServer({ MODEL_REPOSITORY: pathToFileURL(dir).href });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await cleanup?.();
});

const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });

const x = (data: number[]) => ({ name: "x", datatype: "FP32", shape: [data.length], data });

async function inferGrow(path: string): Promise<{ version: string; y: number[] }> {
  const res = await post(path, { inputs: [x([0, 10])] });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { model_version: string; outputs: Array<{ data: number[] }> };
  return { version: body.model_version, y: body.outputs[0]?.data ?? [] };
}

async function index(body: unknown = ""): Promise<Array<Record<string, string>>> {
  const res = await post("/v2/repository/index", body);
  expect(res.status).toBe(200);
  return (await res.json()) as Array<Record<string, string>>;
}

describe("repository extension (local mode)", () => {
  it("is listed in GET /v2 with classification", async () => {
    const server = (await (await fetch(`${gateway.url}/v2`)).json()) as { extensions: string[] };
    expect(server.extensions).toEqual(expect.arrayContaining(["model_repository", "classification"]));
  });

  it("indexes every model and version with its state, in Triton's shape; ready: true keeps the ready ones", async () => {
    const rows = await index();
    expect(rows).toContainEqual({ name: "grow", version: "1", state: "READY", reason: "" });
    expect(rows.map((r) => r.name).sort()).toEqual(["bare", "bytes-identity", "classes", "grow"]);
    expect(await index({ ready: true })).toEqual(rows.filter((r) => r.state === "READY"));
    const bad = await post("/v2/repository/index", { ready: "yes" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe(
      '"ready" must be true or false, received "yes"',
    );
    const wrong = await fetch(`${gateway.url}/v2/repository/index`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
  });

  it("serves a version added after start on its first pinned request; unpinned requests move only on load", async () => {
    expect(await inferGrow("/v2/models/grow/infer")).toEqual({ version: "1", y: [1, 11] });
    expect((await post("/v2/models/grow/versions/2/infer", { inputs: [x([0])] })).status).toBe(404);
    await writeVersion("grow", 2, offsetModel(2));
    // The miss above was remembered for a moment (a flood of misses costs one listing): wait it out.
    await new Promise((r) => setTimeout(r, 2100));
    expect(await inferGrow("/v2/models/grow/versions/2/infer")).toEqual({ version: "2", y: [2, 12] });
    expect(await inferGrow("/v2/models/grow/infer")).toEqual({ version: "1", y: [1, 11] });
    // tritonclient's load_model() sends json.dumps({}); get_model_repository_index() an empty body.
    const load = await post("/v2/repository/models/grow/load", {});
    expect(load.status).toBe(200);
    expect(await load.json()).toEqual({});
    expect(await inferGrow("/v2/models/grow/infer")).toEqual({ version: "2", y: [2, 12] });
    expect(await index()).toContainEqual({ name: "grow", version: "2", state: "READY", reason: "" });
  });

  it("unloads a model (404 until it is loaded again) and loads it back", async () => {
    const unload = await post("/v2/repository/models/grow/unload", {
      parameters: { unload_dependents: false },
    });
    expect(unload.status).toBe(200);
    expect(await unload.json()).toEqual({});
    expect((await post("/v2/models/grow/infer", { inputs: [x([0])] })).status).toBe(404);
    expect(await index()).toContainEqual({ name: "grow", state: "UNAVAILABLE", reason: "unloaded" });
    expect((await post("/v2/repository/models/grow/load", {})).status).toBe(200);
    expect(await inferGrow("/v2/models/grow/infer")).toEqual({ version: "2", y: [2, 12] });
  });

  it("refuses load parameters it cannot honour and unknown models, naming them", async () => {
    const config = await post("/v2/repository/models/grow/load", { parameters: { config: "{}" } });
    expect(config.status).toBe(400);
    expect(((await config.json()) as { error: string }).error).toMatch(
      /^parameters\.config is not supported on load/,
    );
    expect((await post("/v2/repository/models/nothing-here/load")).status).toBe(404);
    expect((await post("/v2/repository/models/nothing-here/unload")).status).toBe(404);
  });

  it("finds a model written to the repository after start on its first request", async () => {
    await writeModelDir(dir, "late", modelConfig("late"), { 1: offsetModel(5) });
    expect(await inferGrow("/v2/models/late/infer")).toEqual({ version: "1", y: [5, 15] });
  });
});

describe("a model folder without config.json", () => {
  it("is served with its inputs and outputs read from the ONNX file, and its config completed", async () => {
    const meta = (await (await fetch(`${gateway.url}/v2/models/bare`)).json()) as Record<string, unknown>;
    expect(meta).toEqual({
      name: "bare",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      ...ADD_SIGNATURE,
    });
    const config = (await (await fetch(`${gateway.url}/v2/models/bare/config`)).json()) as Record<
      string,
      unknown
    >;
    expect(config).toMatchObject({
      name: "bare",
      max_batch_size: 0,
      inputs: meta.inputs,
      outputs: meta.outputs,
    });
    const t = (name: string, data: number[]) => ({ name, datatype: "FP32", shape: [1, 4], data });
    const res = await post("/v2/models/bare/infer", { inputs: [t("a", [1, 2, 3, 4]), t("b", [1, 1, 1, 1])] });
    const body = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
    expect(body.outputs.find((o) => o.name === "sum")?.data).toEqual([2, 3, 4, 5]);
  });
});

describe("classification extension", () => {
  const classify = (parameters: Record<string, unknown>, data = [0.1, 0.9, 0.5, 0.7]) =>
    post("/v2/models/classes/infer", { inputs: [x(data)], outputs: [{ name: "y", parameters }] });

  it("answers the top K as score:index:label strings, labels from labels.txt (JSON)", async () => {
    const res = await classify({ classification: 3 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: unknown[] };
    // Index 3 has no line in labels.txt: score:index only, as Triton answers it.
    expect(body.outputs).toEqual([
      { name: "y", datatype: "BYTES", shape: [3], data: ["0.900000:1:dog", "0.700000:3", "0.500000:2:bird"] },
    ]);
  });

  it("answers them as binary BYTES when asked, and K past the elements gives them all", async () => {
    // tritonclient's InferRequestedOutput(name, class_count=K): {"classification": K, "binary_data": true}.
    const res = await classify({ classification: 10, binary_data: true }, [2, 1]);
    expect(res.status).toBe(200);
    const decoded = decodeInferResponse(
      new Uint8Array(await res.arrayBuffer()),
      Number(res.headers.get("inference-header-content-length")),
    );
    const y = decoded.outputs[0];
    expect(y?.shape).toEqual([2]);
    expect(((y?.data ?? []) as Uint8Array[]).map((b) => new TextDecoder().decode(b))).toEqual([
      "2.000000:0:cat",
      "1.000000:1:dog",
    ]);
  });

  it("refuses a K that is not an integer from 1 to 1000, and a non-numeric output", async () => {
    for (const k of [0, 1001, 2.5, "3"]) {
      const res = await classify({ classification: k });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(
        /^output 'y': parameters\.classification must be an integer from 1 to 1000/,
      );
    }
    const bytes = await post("/v2/models/bytes-identity/infer", {
      inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["a"] }],
      outputs: [{ name: "same", parameters: { classification: 1 } }],
    });
    expect(bytes.status).toBe(400);
    expect(((await bytes.json()) as { error: string }).error).toBe(
      "output 'same' has datatype BYTES: classification needs a numeric output",
    );
  });
});

describe("repository extension on a deployed catalog (the AWS gateway)", () => {
  it("indexes the catalog and refuses load and unload, saying deployments go through cdk deploy", async () => {
    const engine = engineBackend(dir, ["classes"]);
    await engine.load("classes");
    const deployed = gatewayDeps(readGatewayConfig({ LOG_LEVEL: "SILENT" }), new Map([["classes", engine]]));
    const app = createApp(deployed.deps);
    try {
      const index = await app.request("/v2/repository/index", { method: "POST" });
      expect(await index.json()).toEqual([{ name: "classes", state: "READY", reason: "" }]);
      for (const action of ["load", "unload"]) {
        const res = await app.request(`/v2/repository/models/classes/${action}`, { method: "POST" });
        expect(res.status).toBe(403);
        expect(((await res.json()) as { error: string }).error).toBe(
          "this gateway does not load or unload models: deployments go through `cdk deploy` (the model catalog)",
        );
      }
    } finally {
      await deployed.close();
      await engine.close();
    }
  });
});
