/**
 * Faults, each from a real cause, through the assembled gateway on a real node server: a corrupt
 * model file, a repository that cannot be reached, Lambda functions that hang, time out, are
 * throttled or answer garbage (a local Lambda Invoke API), and a cache store that is down. Each gets
 * its status and a body that names no internals, and the gateway keeps serving the other models.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../gateway/app";
import { readGatewayConfig } from "../../gateway/config";
import { type Gateway, gatewayDeps, remoteCatalog } from "../../gateway/deps";
import { createRuntime } from "../../gateway/runtime";
import { type Backend, EngineBackend } from "../../layers/backend";
import { ModelEngine } from "../../layers/engine";
import { openRepository } from "../../layers/repository";
import { type AwsApi, localLambdaClient, startLambdaApi } from "../support/aws-apis";
import { makeTestRepository } from "../support/models";
import { s3rverClientConfig } from "../support/s3rver";
import { type Listening, listen } from "../support/server";
import { engineBackend, writeCachedAdd } from "./helpers";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let local: EngineBackend;
let unreachable: EngineBackend;
let api: AwsApi;
let lambda: LambdaClient;
let gateway: Gateway;
let server: Listening;
let closedPort: number;

/** A port nothing listens on: bound once, then released. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  repo = await makeTestRepository();
  await writeCachedAdd(repo.dir);
  closedPort = await freePort();
  local = engineBackend(repo.dir, ["add", "broken", "cached-add"]);
  await local.load("add");
  const s3 = new S3Client({ ...s3rverClientConfig(`http://127.0.0.1:${closedPort}`), maxAttempts: 1 });
  unreachable = new EngineBackend(
    new ModelEngine(openRepository("s3://edge-infer-models/models", { s3Client: s3 })),
    {
      models: ["far"],
    },
  );
  api = await startLambdaApi([], {
    hang: ["slow"],
    garbage: ["junk"],
    timeout: ["late"],
    throttle: ["busy"],
    oversize: ["huge"],
  });
  const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}:live`;
  const entries = Object.fromEntries(
    ["slow", "junk", "late", "busy", "huge"].map((m) => [m, { backend: "lambda" as const, target: arn(m) }]),
  );
  const config = readGatewayConfig({
    MODEL_CATALOG: JSON.stringify(entries),
    BACKEND_TIMEOUT_MS: "400",
    CACHE_TABLE: "edge-infer-cache",
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${closedPort}`, // the cache store is down from the start
    LOG_LEVEL: "SILENT",
  });
  lambda = localLambdaClient(api);
  const catalog = new Map<string, Backend>([
    ["add", local],
    ["broken", local],
    ["cached-add", local],
    ["far", unreachable],
    ...remoteCatalog(entries, config, { lambda }),
  ]);
  gateway = gatewayDeps(config, catalog);
  server = await listen(createApp(gateway.deps).fetch);
});

afterAll(async () => {
  await server?.close();
  await gateway?.close();
  lambda?.destroy();
  await api?.close();
  await local?.close();
  await unreachable?.close();
  await repo?.cleanup();
});

const addBody = JSON.stringify({
  inputs: [
    { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
    { name: "b", shape: [1, 4], datatype: "FP32", data: [10, 20, 30, 40] },
  ],
});

const infer = (model: string) =>
  fetch(`${server.url}/v2/models/${model}/infer`, { method: "POST", body: addBody });

/** The status, and a body naming what failed with the request id and nothing from below. */
async function expectFault(res: Response, status: number, error: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  // Every 503 says when to come back.
  if (status === 503) expect(res.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
  const text = await res.text();
  const body = JSON.parse(text) as { error: string; request_id: string };
  expect(body.error).toMatch(error);
  expect(body.error).toContain(`(request id ${body.request_id})`);
  expect(body.request_id).toBe(res.headers.get("x-request-id"));
  expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|html|Sandbox|onnx|protobuf|stack|at \//i);
}

/** `add` still answers, and right. */
async function othersServed(): Promise<void> {
  const res = await infer("add");
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({
    model_version: "2",
    outputs: [{ name: "sum", data: [12, 23, 34, 45] }, { name: "diff" }],
  });
}

describe("gateway faults", () => {
  it("503 for a model whose file is corrupt", async () => {
    await expectFault(await infer("broken"), 503, /^model "broken" is not ready \(request id [\w-]+\)$/);
    await othersServed();
  });

  it("503 for a model whose repository cannot be reached when it loads", async () => {
    await expectFault(await infer("far"), 503, /^model "far" is not ready/);
    await othersServed();
  });

  it("503 with Retry-After for a pinned version whose repository is down, and on its ready route", async () => {
    const pinned = await fetch(`${server.url}/v2/models/far/versions/3/infer`, {
      method: "POST",
      body: addBody,
    });
    expect(pinned.headers.get("retry-after")).toBe("5");
    await expectFault(pinned, 503, /^model "far" is not ready/);
    const ready = await fetch(`${server.url}/v2/models/far/versions/3/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get("retry-after")).toBe("5");
  });

  it("504 for a function that never answers, while other models are served meanwhile", async () => {
    const hanging = infer("slow");
    await othersServed(); // not blocked by the call in flight
    await expectFault(await hanging, 504, /^the backend of model "slow" did not answer in time/);
    await othersServed();
  });

  it("504 for a function that runs past its own timeout", async () => {
    await expectFault(await infer("late"), 504, /^the backend of model "late" did not answer in time/);
  });

  it("502 for an Invoke API answering garbage instead of JSON", async () => {
    await expectFault(await infer("junk"), 502, /^the backend of model "junk" failed \(request id [\w-]+\)$/);
    await othersServed();
  });

  it("503 with Retry-After for a throttled function", async () => {
    const res = await infer("busy");
    expect(res.headers.get("retry-after")).toBe("1");
    await expectFault(res, 503, /^model "busy" is overloaded, retry later/);
  });

  it("413 for a function whose answer is over Lambda's payload limit, saying what to ask for", async () => {
    const res = await infer("huge");
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error:
        "the answer of model 'huge' exceeds Lambda's 6 MB payload limit; ask for binary outputs, fewer outputs or a smaller batch",
      request_id: res.headers.get("x-request-id"),
    });
  });

  it("200 from the model while the cache store is down, the failures counted", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await infer("cached-add");
      expect(res.status).toBe(200);
      // L1 still works: only the first request computes.
      expect(res.headers.get("x-cache")).toBe(i === 0 ? "MISS" : "HIT");
      expect(await res.json()).toMatchObject({
        outputs: [{ name: "sum", data: [11, 22, 33, 44] }, { name: "diff" }],
      });
    }
    await gateway.cache.flush();
    const stats = gateway.cache.stats();
    expect(stats.errors + stats.timeouts).toBeGreaterThan(0);
  });

  it("refuses to start in local mode when the repository cannot be listed, saying which", async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    // Credentials in the environment, so the SDK does not look for an instance role first.
    process.env.AWS_ACCESS_KEY_ID = "test";
    process.env.AWS_SECRET_ACCESS_KEY = "test";
    try {
      const config = readGatewayConfig({
        MODEL_REPOSITORY: "s3://edge-infer-models/models",
        S3_ENDPOINT: `http://127.0.0.1:${closedPort}`,
        AWS_REGION: "us-east-1",
        LOG_LEVEL: "SILENT",
      });
      await expect(createRuntime(config)).rejects.toThrow(
        /^MODEL_REPOSITORY s3:\/\/edge-infer-models\/models: model repository cannot be listed/,
      );
    } finally {
      for (const [k, v] of [
        ["AWS_ACCESS_KEY_ID", saved.id],
        ["AWS_SECRET_ACCESS_KEY", saved.secret],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
