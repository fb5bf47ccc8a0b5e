/**
 * Every error status of the gateway from a real cause, mapped in one place: the body is
 * `{"error", "request_id"}`, every response carries x-request-id, 5xx messages name it too and
 * nothing internal.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../gateway/app";
import type { EngineBackend } from "../../layers/backend";
import { BackendFailure, InferenceError } from "../../layers/errors";
import { makeTestRepository } from "../support/models";
import { CountingBackend, engineBackend, faultyBackend } from "./helpers";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let engine: EngineBackend;

beforeAll(async () => {
  repo = await makeTestRepository();
  engine = engineBackend(repo.dir, ["add", "broken"]);
});

afterAll(async () => {
  await engine?.close();
  await repo?.cleanup();
});

const addBody = (a: unknown[] = [1, 2, 3, 4], shape = [1, 4]) =>
  JSON.stringify({
    inputs: [
      { name: "a", shape, datatype: "FP32", data: a },
      { name: "b", shape: [1, 4], datatype: "FP32", data: [1, 1, 1, 1] },
    ],
  });

async function expectError(res: Response, status: number, error: string | RegExp): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: string; request_id: string };
  // The protocol's {"error"} plus the request id: stock clients read only `error`.
  expect(Object.keys(body)).toEqual(["error", "request_id"]);
  if (typeof error === "string") expect(body.error).toBe(error);
  else expect(body.error).toMatch(error);
  const id = res.headers.get("x-request-id");
  expect(id).toMatch(/^[\w.:-]{1,128}$/);
  expect(body.request_id).toBe(id);
  if (status >= 500) expect(body.error).toContain(`(request id ${id})`);
  return body.error;
}

describe("gateway errors", () => {
  it("404: unknown model, unknown version, unknown route", async () => {
    const app = createApp({ catalog: new Map([["add", engine]]) });
    await expectError(await app.request("/v2/models/nope"), 404, 'unknown model "nope"');
    await expectError(
      await app.request("/v2/models/nope/infer", { method: "POST", body: addBody() }),
      404,
      'unknown model "nope"',
    );
    await expectError(await app.request("/v2/models/add/versions/7"), 404, "model 'add' has no version 7");
    await expectError(await app.request("/v1/models"), 404, 'no route for GET "/v1/models"');
  });

  it("400: a bad tensor is refused against the cached signature, without calling the backend", async () => {
    const counted = new CountingBackend(engine);
    const app = createApp({ catalog: new Map([["add", counted]]) });
    const infer = (body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
      app.request("/v2/models/add/infer", { method: "POST", body, headers });
    expect((await infer(addBody())).status).toBe(200);
    expect(counted.calls).toEqual({ describe: 1, ready: 0, infer: 1 });

    await expectError(
      await infer(addBody([1, 2, 3], [1, 3])),
      400,
      /^input 'a' has shape \[1,3\]: dimension 1 is 3, expected 4/,
    );
    await expectError(
      await infer(addBody([1, 2, 3])),
      400,
      /^input 'a': expected 4 elements for shape \[1,4\], received 3/,
    );
    await expectError(await infer("{not json"), 400, /JSON/);
    await expectError(
      await infer(
        JSON.stringify({ inputs: [{ name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] }),
      ),
      400,
      "missing input 'b': the model's inputs are a, b",
    );
    await expectError(
      await infer(addBody(), { "Inference-Header-Content-Length": "-1" }),
      400,
      'Inference-Header-Content-Length must be a non-negative integer, received "-1"',
    );
    // A stale header on an all-JSON body is KServe's client: served (test/gateway/stock-clients.test.ts);
    // with binary_data_size in the body the header is needed, and its error names it.
    const framed = addBody().replace('"shape"', '"parameters":{"binary_data_size":16},"shape"');
    await expectError(
      await infer(framed, { "Inference-Header-Content-Length": "99999" }),
      400,
      /^Inference-Header-Content-Length 99999 does not frame the JSON part/,
    );
    await expectError(
      await app.request("/v2/models/add/versions/0x1/infer", { method: "POST", body: addBody() }),
      400,
      'model version must be a positive integer, received "0x1"',
    );
    expect(counted.calls).toEqual({ describe: 1, ready: 0, infer: 1 });
  });

  it("503: a model whose file is corrupt is not ready, and the gateway says only that", async () => {
    const app = createApp({
      catalog: new Map([
        ["add", engine],
        ["broken", engine],
      ]),
    });
    const msg = await expectError(
      await app.request("/v2/models/broken/infer", { method: "POST", body: addBody() }),
      503,
      /^model "broken" is not ready \(request id [\w-]+\)$/,
    );
    expect(msg).not.toMatch(/onnx|protobuf|\//i);
    await expectError(
      await app.request("/v2/health/ready"),
      503,
      /^not ready: broken \(request id [\w-]+\)$/,
    );
    expect((await app.request("/v2/models/add/infer", { method: "POST", body: addBody() })).status).toBe(200);
  });

  it("504: a backend that never answers is cut off at the deadline and its call aborted", async () => {
    const hanging = faultyBackend(engine, "hang");
    const app = createApp({ catalog: new Map([["add", hanging]]), backendTimeoutMs: 50 });
    await expectError(
      await app.request("/v2/models/add/infer", { method: "POST", body: addBody() }),
      504,
      /^the backend of model "add" did not answer in time \(request id [\w-]+\)$/,
    );
    expect(hanging.aborted).toHaveLength(1);
    expect(hanging.aborted[0]).toBeInstanceOf(InferenceError);
  });

  it("502 and 500: backend failures and bugs carry the request id and none of their message", async () => {
    const secret = "connect ECONNREFUSED 10.1.2.3:443 at /var/task/index.mjs:1:2";
    const failing = createApp({
      catalog: new Map([["add", faultyBackend(engine, { throws: new BackendFailure(secret) })]]),
    });
    const res = await failing.request("/v2/models/add/infer", {
      method: "POST",
      body: addBody(),
      headers: { "x-request-id": "req-123" },
    });
    expect(res.headers.get("x-request-id")).toBe("req-123");
    expect(
      await expectError(res, 502, 'the backend of model "add" failed (request id req-123)'),
    ).not.toContain("10.1.2.3");

    const buggy = createApp({
      catalog: new Map([["add", faultyBackend(engine, { throws: new TypeError(secret) })]]),
    });
    const bug = await expectError(
      await buggy.request("/v2/models/add/infer", { method: "POST", body: addBody() }),
      500,
      /^internal error \(request id [\w-]+\)$/,
    );
    expect(bug).not.toContain("ECONNREFUSED");
  });

  it("replaces an unreasonable incoming request id with a fresh one", async () => {
    const app = createApp({ catalog: new Map([["add", engine]]) });
    const res = await app.request("/v2/models/nope", {
      headers: { "x-request-id": "<script>alert(1)</script>" },
    });
    expect(res.headers.get("x-request-id")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it("maps errors thrown by added middleware (auth, limits) with their status and Retry-After", async () => {
    const app = createApp({
      catalog: new Map([["add", engine]]),
      middleware: [
        async (c, next) => {
          if (c.req.header("x-test") === "401") throw new InferenceError("unauthorized", "missing API key");
          if (c.req.header("x-test") === "429")
            throw new InferenceError("rate_limited", "slow down", { retryAfter: 2.5 });
          if (c.req.header("x-test") === "413")
            throw new InferenceError("payload_too_large", "body too large");
          await next();
        },
      ],
    });
    await expectError(await app.request("/v2", { headers: { "x-test": "401" } }), 401, "missing API key");
    await expectError(await app.request("/v2", { headers: { "x-test": "413" } }), 413, "body too large");
    const limited = await app.request("/v2", { headers: { "x-test": "429" } });
    expect(limited.headers.get("retry-after")).toBe("3");
    await expectError(limited, 429, "slow down");
  });
});
