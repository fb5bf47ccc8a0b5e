/**
 * What one request costs the gateway's process besides its own work, on the server `npm start`
 * runs (gateway/serve.ts over the test repository): one router match, no AbortSignal of its own
 * (Node 20's are costly to the garbage collector: layers/http/abort-pool.ts), and no `Headers`
 * object for its answer (layers/http/answer.ts).
 */
import { getEventListeners } from "node:events";
import { Agent, type IncomingMessage, request } from "node:http";
import { pathToFileURL } from "node:url";
import type { SmartRouter } from "hono/router/smart-router";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../gateway/app";
import { ConcurrencyLimiter } from "../../gateway/limits/concurrency";
import type { Backend } from "../../layers/backend";
import { outgoingHeader } from "../../layers/http/answer";
import { makeTestRepository } from "../support/models";
import { startGatewayServer, type TestGateway } from "../support/server";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let gateway: TestGateway;

beforeAll(async () => {
  repo = await makeTestRepository();
  gateway = await startGatewayServer({ MODEL_REPOSITORY: pathToFileURL(repo.dir).href });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await repo?.cleanup();
});

const body = JSON.stringify({
  inputs: ["a", "b"].map((name) => ({ name, datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] })),
});

/** POSTs `data` over `agent`, the cache bypassed; resolves with the status once the answer was read. */
const post = async (agent: Agent, path: string, data: string) =>
  (await postFor(agent, path, data)).statusCode;

/** `post`, resolving with the whole response once it was read. */
const postFor = (agent: Agent, path: string, data: string) =>
  new Promise<IncomingMessage>((resolve, reject) => {
    request(
      `${gateway.url}${path}`,
      {
        agent,
        method: "POST",
        headers: { "Cache-Control": "no-cache, no-store", "Content-Type": "application/json" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res));
      },
    )
      .on("error", reject)
      .end(data);
  });

describe("the request path", () => {
  it("is routed by Hono's RegExpRouter, with every route of the local gateway", async () => {
    // The gateway's own app (serve.ts builds it so), with the statistics, repository, console,
    // metrics and shadow routes. A fixed segment beside a parameter (`/v2/models/stats` beside
    // `/v2/models/:model`) would send SmartRouter to the TrieRouter: a tree walk per request.
    const app = createApp(gateway.runtime.deps);
    expect((await app.request("/v2/models/stats")).status).toBe(200);
    expect((await app.request("/v2/models/add")).status).toBe(200);
    expect((app.router as SmartRouter<unknown>).activeRouter.name).toBe("RegExpRouter");
  });

  it("answers statistics at /v2/models/stats and model metadata beside it", async () => {
    const stats = (await (await fetch(`${gateway.url}/v2/models/stats`)).json()) as {
      model_stats: Array<{ name: string }>;
    };
    expect(stats.model_stats.map((s) => s.name)).toContain("add");
    const add = (await (await fetch(`${gateway.url}/v2/models/add`)).json()) as { name: string };
    expect(add.name).toBe("add");
  });

  it("hands sequential infer calls one signal, not a new AbortSignal each", async () => {
    const backend = gateway.runtime.deps.catalog.get("add") as Backend;
    const infer = vi.spyOn(backend, "infer");
    // The client's signal as the infer middleware get it (the cache is bypassed: no single flight).
    const acquire = vi.spyOn(ConcurrencyLimiter.prototype, "acquire");
    try {
      // One keep-alive connection, as a client's pool keeps it.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 5; i++) expect(await post(agent, "/v2/models/add/infer", body)).toBe(200);
      agent.destroy();
      const signals = new Set(infer.mock.calls.map((call) => call[3]));
      expect(infer).toHaveBeenCalledTimes(5);
      expect(signals.size).toBe(1);
      expect([...signals][0]?.aborted).toBe(false);
      // One connection, one client signal; every request took its listeners off it again, so a
      // keep-alive connection's thousands of requests leave nothing behind on it.
      const clients = new Set(acquire.mock.calls.map((call) => call[1]));
      const client = [...clients][0];
      expect(clients.size).toBe(1);
      expect(client).toBeInstanceOf(AbortSignal);
      expect(getEventListeners(client as AbortSignal, "abort")).toHaveLength(0);
    } finally {
      infer.mockRestore();
      acquire.mockRestore();
    }
  });

  it("answers infer without a Headers object, with every header the path adds", async () => {
    // Hono's c.header(), a read of c.res.headers and the node adapter's copy for writeHead each
    // build or fill an undici Headers; the infer answer's headers are one plain object instead.
    // (Its methods, spied on: the node adapter's request headers are its own class, never these.)
    const used = (["append", "get", "has", "set"] as const).map((m) => vi.spyOn(Headers.prototype, m));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await postFor(agent, "/v2/models/add/infer", body));
      for (const method of used) expect(method).not.toHaveBeenCalled();
      for (const res of answers) {
        expect(res.statusCode).toBe(200);
        expect(res.headers["content-type"]).toMatch(/^application\/json/);
        expect(Number(res.headers["content-length"])).toBeGreaterThan(0);
        expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
        expect(res.headers["x-cache"]).toBe("BYPASS");
        expect(res.headers["server-timing"]).toMatch(/decode;dur=[\d.]+, .*total;dur=[\d.]+$/);
        // One of each: a header added on the way out replaces, never doubles.
        const names = res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
        expect(new Set(names).size).toBe(names.length);
      }
      expect(new Set(answers.map((r) => r.headers["x-request-id"])).size).toBe(3);
    } finally {
      agent.destroy();
      for (const method of used) method.mockRestore();
    }
    // A caller's own request id comes back as sent.
    const res = await fetch(`${gateway.url}/v2/models/add/infer`, {
      method: "POST",
      headers: { "x-request-id": "trace-42", "Content-Type": "application/json" },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("trace-42");
    expect(res.headers.get("server-timing")).toContain("total;dur=");
  });

  it("leaves the outer middleware nothing to add to an infer answer: the route wrote their headers", async () => {
    // Added afterwards, each header would make a new answer per request, which kept the first one
    // alive long enough to be promoted (answer.ts). Seen from just inside the gateway's middleware:
    const seen: Array<Record<string, string | undefined>> = [];
    const deps = gateway.runtime.deps;
    const app = createApp({
      ...deps,
      middleware: [
        ...(deps.middleware ?? []),
        async (c, next) => {
          await next();
          const names = ["x-request-id", "server-timing", "x-cache", "content-type"];
          seen.push(Object.fromEntries(names.map((n) => [n, outgoingHeader(c, n)])));
        },
      ],
    });
    const res = await app.request("/v2/models/add/infer", {
      method: "POST",
      headers: { "Cache-Control": "no-cache, no-store", "x-request-id": "trace-43" },
      body,
    });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.["x-request-id"]).toBe("trace-43");
    expect(seen[0]?.["server-timing"]).toMatch(/infer;dur=[\d.]+.*, total;dur=[\d.]+$/);
    expect(seen[0]?.["x-cache"]).toBe("BYPASS");
    expect(seen[0]?.["content-type"]).toMatch(/^application\/json/);
  });
});
