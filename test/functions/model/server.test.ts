/**
 * The model container: its app over loopback (SageMaker's /ping and /invocations, the protocol's
 * routes), and its esbuild bundle as a process that shuts down gracefully on SIGTERM.
 */
import { request as httpRequest } from "node:http";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFunctionConfig } from "../../../functions/model/config";
import { createServerApp } from "../../../functions/model/server";
import { createModelService, type ModelService } from "../../../functions/model/service";
import type { Tensor } from "../../../layers/protocol/types";
import { inferEvent, inferResultOf, parseTransportResult } from "../../../layers/transport";
import { prometheusValues } from "../../support/metrics";
import { makeTestRepository } from "../../support/models";
import { type Listening, listen, startModelServer } from "../../support/server";
import { buildBundles } from "./fixtures";

const fp32 = (name: string, values: number[]): Tensor => ({
  name,
  datatype: "FP32",
  shape: [1, 4],
  data: new Float32Array(values),
});

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let service: ModelService;
let server: Listening;

beforeAll(async () => {
  repo = await makeTestRepository();
  const config = readFunctionConfig({
    MODEL_NAME: "add",
    MODEL_VERSION: "2",
    MODEL_REPOSITORY: pathToFileURL(repo.dir).href,
    LOG_LEVEL: "SILENT",
  });
  service = createModelService(config);
  server = await listen(createServerApp(service).fetch);
});

afterAll(async () => {
  await server?.close();
  await service?.close();
  await repo?.cleanup();
});

const invocations = (body: unknown) =>
  fetch(`${server.url}/invocations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("model container app", () => {
  it("answers /ping 503 until the live version is warm, then 200", async () => {
    const before = await fetch(`${server.url}/ping`);
    expect(before.status).toBe(503);
    expect(before.headers.get("retry-after")).toBe("5");
    expect(await before.json()).toEqual({ error: "model is loading" });
    await service.warm();
    const after = await fetch(`${server.url}/ping`);
    expect(after.status).toBe(200);
  });

  it("runs a transport event posted to /invocations on the configured live version", async () => {
    const res = await invocations(
      inferEvent("add", undefined, { inputs: [fp32("a", [1, 2, 3, 4]), fp32("b", [1, 1, 1, 1])] }),
    );
    expect(res.status).toBe(200);
    const { version, outputs } = inferResultOf(parseTransportResult(await res.json(), "add"), "add");
    expect(version).toBe("2");
    // Version 2 of `add` adds 1.
    expect(Array.from(outputs.find((o) => o.name === "sum")?.data as Float32Array)).toEqual([3, 4, 5, 6]);
  });

  it("answers a failed event with the error's status and the transport failure as body", async () => {
    const unknown = await invocations({ action: "ready", model: "nope" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      ok: false,
      kind: "model_not_found",
      error: 'unknown model "nope"',
    });

    const bad = await invocations(inferEvent("add", undefined, { inputs: [fp32("a", [1, 2, 3, 4])] }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      ok: false,
      kind: "invalid_input",
      error: expect.stringContaining("'b'"),
    });

    const notJson = await invocations("{oops");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({
      ok: false,
      kind: "invalid_input",
      error: "body must be a JSON transport event",
    });
  });

  it("serves the protocol's routes for its model, and only that one", async () => {
    const meta = await fetch(`${server.url}/v2/models/add`);
    expect(await meta.json()).toMatchObject({
      name: "add",
      versions: ["1", "2"],
      platform: "onnxruntime_onnx",
    });
    const res = await fetch(`${server.url}/v2/models/add/versions/1/infer`, {
      method: "POST",
      body: JSON.stringify({
        inputs: [
          { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
          { name: "b", shape: [1, 4], datatype: "FP32", data: [4, 3, 2, 1] },
        ],
        outputs: [{ name: "sum" }],
      }),
    });
    expect(res.status).toBe(200);
    // The same plain answer as the gateway's: request id and Server-Timing written by the route.
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("server-timing")).toMatch(
      /^decode;dur=[\d.]+, .*infer;dur=[\d.]+.*, total;dur=[\d.]+$/,
    );
    expect(await res.json()).toEqual({
      model_name: "add",
      model_version: "1",
      outputs: [{ name: "sum", datatype: "FP32", shape: [1, 4], data: [5, 5, 5, 5] }],
    });
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    const other = await fetch(`${server.url}/v2/models/pinned`);
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: 'unknown model "pinned"' });
  });

  it("counts the infer requests above at GET /metrics, with Triton's names", async () => {
    const value = await prometheusValues(await fetch(`${server.url}/metrics`));
    // /invocations: one infer on the live version 2 and one invalid; the ready event is not an inference.
    expect(value('nv_inference_request_success{model="add",version="2"}')).toBe(1);
    expect(value('nv_inference_request_failure{model="add",version="",reason="invalid_input"}')).toBe(1);
    expect(value('edgeinfer_http_responses{model="add",code="404"}')).toBeUndefined();
    // The protocol route, pinned to version 1, with its phases.
    expect(value('nv_inference_request_success{model="add",version="1"}')).toBe(1);
    expect(value('nv_inference_compute_infer_duration_us{model="add",version="1"}')).toBeGreaterThan(0);
    expect(value('nv_inference_request_duration_ms_count{model="add"}')).toBe(3);
  });
});

describe("model container bundle", () => {
  it("serves on PORT, then on SIGTERM finishes the request in flight and exits 0", async () => {
    const bundles = await buildBundles(["model-server"]);
    const proc = await startModelServer([bundles.files["model-server"]], repo.dir);
    try {
      const port = Number(proc.match[1]);
      let ping = 0;
      for (let i = 0; i < 200 && ping !== 200; i++) {
        ping = (await fetch(`http://127.0.0.1:${port}/ping`)).status;
        if (ping !== 200) await new Promise((r) => setTimeout(r, 50));
      }
      expect(ping).toBe(200);

      // `Expect: 100-continue` proves the server holds the request before SIGTERM is sent;
      // the body follows the signal, so the request is in flight while the server stops.
      const body = JSON.stringify({
        inputs: [
          { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
          { name: "b", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
        ],
      });
      const req = httpRequest({
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v2/models/add/infer",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          expect: "100-continue",
        },
      });
      const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.on("response", (res) => {
          let text = "";
          res.on("data", (c: Buffer) => {
            text += c.toString();
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on("error", reject);
      });
      const continued = new Promise((resolve) => req.on("continue", resolve));
      req.flushHeaders();
      await continued;
      proc.child.kill("SIGTERM");
      req.end(body);
      const r = await response;
      expect(r.status).toBe(200);
      const answer = JSON.parse(r.text) as {
        model_version: string;
        outputs: Array<{ name: string; data: number[] }>;
      };
      expect(answer.model_version).toBe("2");
      expect(answer.outputs.find((o) => o.name === "sum")?.data).toEqual([3, 5, 7, 9]);
      expect(await proc.exited).toBe(0);
      await expect(fetch(`http://127.0.0.1:${port}/ping`)).rejects.toThrow();
    } finally {
      proc.kill();
      await bundles.cleanup();
    }
  });
});
