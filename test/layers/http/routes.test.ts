/**
 * The protocol app's hooks for the edge: the JSON limits count exactly the JSON part of a body,
 * phases land in a timer the middleware set, the backend's own queue/infer timing is used when it
 * reports one, and error bodies carry the request id only when asked.
 */
import type { MiddlewareHandler } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, EngineBackend } from "../../../layers/backend";
import { createProtocolApp, type ProtocolEnv } from "../../../layers/http";
import { takeBodyBuffer } from "../../../layers/http/body-pool";
import { encodeInferRequest } from "../../../layers/protocol";
import { PhaseTimer } from "../../../layers/telemetry";
import { engineBackend } from "../../gateway/helpers";
import { makeTestRepository } from "../../support/models";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let engine: EngineBackend;

beforeAll(async () => {
  repo = await makeTestRepository();
  engine = engineBackend(repo.dir, ["add"]);
});

afterAll(async () => {
  await engine?.close();
  await repo?.cleanup();
});

const tensors = {
  inputs: [
    { name: "a", datatype: "FP32" as const, shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) },
    { name: "b", datatype: "FP32" as const, shape: [1, 4], data: new Float32Array([1, 1, 1, 1]) },
  ],
};

describe("protocol app hooks", () => {
  it("counts jsonLimits over the JSON part only and maps a refusal to 400 / 413", async () => {
    const app = createProtocolApp({
      catalog: new Map([["add", engine]]),
      jsonLimits: { maxDepth: 4, maxElements: 16 },
    });
    // The binary part is 32 floats' worth of bytes: counted as JSON, they would be refused.
    const binary = encodeInferRequest(tensors, { binary: true });
    const ok = await app.request("/v2/models/add/infer", {
      method: "POST",
      body: binary.body as Uint8Array<ArrayBuffer>,
      headers: { "Inference-Header-Content-Length": String(binary.headerLength) },
    });
    expect(ok.status).toBe(200);
    const deep = await app.request("/v2/models/add/infer", { method: "POST", body: '{"a": [[[[1]]]]' });
    expect(deep.status).toBe(400);
    // The container's bodies stay exactly the protocol's {"error"}; the limit is met before the syntax error.
    expect(await deep.json()).toEqual({ error: "JSON nesting is deeper than the limit of 4 levels" });
    const json = encodeInferRequest(
      { inputs: [{ name: "a", datatype: "FP32", shape: [1, 20], data: new Float32Array(20) }] },
      { binary: false },
    );
    const wide = await app.request("/v2/models/add/infer", {
      method: "POST",
      body: json.body as Uint8Array<ArrayBuffer>,
    });
    expect(wide.status).toBe(413);
  });

  it("adds request_id to every error body when asked, 404s and route-level 503s included", async () => {
    const app = createProtocolApp({ catalog: new Map([["add", engine]]), requestIdInErrors: true });
    const headers = { "x-request-id": "rid-1" };
    const cases = [
      await app.request("/v2/models/add/infer", { method: "POST", body: "{", headers }),
      await app.request("/v2/nothing", { headers }),
      await app.request("/v2/models/add/versions/1/ready", { headers }),
    ];
    expect(cases.map((r) => r.status)).toEqual([400, 404, 503]);
    for (const res of cases) {
      expect(res.headers.get("x-request-id")).toBe("rid-1");
      expect(await res.json()).toEqual({ error: expect.any(String), request_id: "rid-1" });
    }
  });

  it("records decode, infer and encode in the timer a middleware set, and the backend's own queue/infer", async () => {
    const timers: PhaseTimer[] = [];
    const setTimer: MiddlewareHandler<ProtocolEnv> = async (c, next) => {
      const timer = new PhaseTimer();
      timers.push(timer);
      c.set("timer", timer);
      await next();
    };
    const reporting: Backend = {
      describe: (m, v) => engine.describe(m, v),
      ready: (m, v) => engine.ready(m, v),
      infer: async (m, v, r) => ({
        ...(await engine.infer(m, v, r)),
        timing: { queueMs: 1234, inferMs: 5678 },
      }),
    };
    const body = JSON.stringify({
      inputs: tensors.inputs.map((t) => ({ ...t, data: Array.from(t.data) })),
    });
    for (const backend of [engine, reporting]) {
      const app = createProtocolApp({
        catalog: new Map([["add", backend]]),
        middleware: [setTimer as MiddlewareHandler],
      });
      expect((await app.request("/v2/models/add/infer", { method: "POST", body })).status).toBe(200);
    }
    const [measured, reported] = timers.map((t) => t.phases());
    expect(Object.keys(measured ?? {})).toEqual(["decode", "infer", "encode"]);
    expect(reported).toMatchObject({ queue: 1234, infer: 5678 });
  });

  it("hands an all-JSON body's buffer back to the pool once decoded, never a binary one's", async () => {
    const json = encodeInferRequest(tensors, { binary: false });
    const binary = encodeInferRequest(tensors, { binary: true });
    const served: Uint8Array[] = [];
    const pooledBody: MiddlewareHandler<ProtocolEnv> = async (c, next) => {
      const bytes = c.req.header("Inference-Header-Content-Length") === undefined ? json.body : binary.body;
      const body = takeBodyBuffer(bytes.byteLength);
      body.set(bytes);
      served.push(body);
      c.set("body", body);
      await next();
    };
    const app = createProtocolApp({
      catalog: new Map([["add", engine]]),
      middleware: [pooledBody as MiddlewareHandler],
    });
    const post = (headers: Record<string, string>) =>
      app.request("/v2/models/add/infer", { method: "POST", body: "(read by the middleware)", headers });
    expect((await post({})).status).toBe(200);
    expect(takeBodyBuffer(json.body.byteLength).buffer).toBe(served[0]?.buffer);
    const res = await post({ "Inference-Header-Content-Length": String(binary.headerLength) });
    expect(res.status).toBe(200);
    expect(takeBodyBuffer(binary.body.byteLength).buffer).not.toBe(served[1]?.buffer);
  });
});
