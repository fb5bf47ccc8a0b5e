/**
 * What one request costs the gateway's process besides its own work, on the server `npm start`
 * runs (gateway/serve.ts over the test repository): one router match, and no AbortSignal of its own
 * (Node 20's are costly to the garbage collector: layers/http/abort-pool.ts).
 */
import { getEventListeners } from "node:events";
import { Agent, request } from "node:http";
import { pathToFileURL } from "node:url";
import type { SmartRouter } from "hono/router/smart-router";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../gateway/app";
import { ConcurrencyLimiter } from "../../gateway/limits/concurrency";
import type { Backend } from "../../layers/backend";
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
const post = (agent: Agent, path: string, data: string) =>
  new Promise<number | undefined>((resolve, reject) => {
    request(
      `${gateway.url}${path}`,
      {
        agent,
        method: "POST",
        headers: { "Cache-Control": "no-cache, no-store", "Content-Type": "application/json" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
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
});
