/**
 * A client that goes away, against the gateway on a real Node server on loopback: its queued or
 * running backend work is aborted only once no other request shares it (single flight), and the
 * request is logged and counted as 499.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../gateway/app";
import { readGatewayConfig } from "../../gateway/config";
import { type Gateway, gatewayDeps } from "../../gateway/deps";
import { ConcurrencyLimiter } from "../../gateway/limits/concurrency";
import type { Backend, EngineBackend, InferResult } from "../../layers/backend";
import { nodeClientSignal } from "../../layers/http/node-client";
import { createLogger } from "../../layers/telemetry";
import { PrometheusMetrics } from "../../layers/telemetry/prometheus";
import { makeTestRepository } from "../support/models";
import { type Listening, listen } from "../support/server";
import { CountingBackend, engineBackend, writeCachedAdd } from "./helpers";

/** The real engine behind a gate: each infer call waits for `open()`, and its signal is kept. */
class GatedBackend extends CountingBackend {
  signals: Array<AbortSignal | undefined> = [];
  #open: () => void = () => {};
  #gate: Promise<void> = Promise.resolve();
  /** Closes the gate for the calls to come. */
  reset(): void {
    this.#gate = new Promise((r) => {
      this.#open = r;
    });
  }
  open(): void {
    this.#open();
  }
  override async infer(...[model, version, req, signal]: Parameters<Backend["infer"]>): Promise<InferResult> {
    this.calls.infer++;
    this.signals.push(signal);
    // As a remote call does: the wait ends when the signal aborts.
    const gate = this.#gate;
    await new Promise<void>((resolve, reject) => {
      gate.then(resolve);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    return this.inner.infer(model, version, req, signal);
  }
}

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let engine: EngineBackend;
let backend: GatedBackend;
const prometheus = new PrometheusMetrics();
let gateway: Gateway;
let server: Listening;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  repo = await makeTestRepository();
  await writeCachedAdd(repo.dir);
  engine = engineBackend(repo.dir, ["cached-add"]);
  backend = new GatedBackend(engine);
  backend.reset();
  // One request runs per model; the next one queues.
  const config = readGatewayConfig({ MODEL_MAX_CONCURRENCY: "1", LOG_LEVEL: "INFO" });
  const logger = createLogger({ service: "test", sink: (line) => lines.push(JSON.parse(line)) });
  gateway = gatewayDeps(config, new Map<string, Backend>([["cached-add", backend]]), {
    logger,
    clientSignal: nodeClientSignal,
    prometheus,
  });
  server = await listen(createApp(gateway.deps).fetch);
});

afterAll(async () => {
  await server?.close();
  await gateway?.close();
  await engine?.close();
  await repo?.cleanup();
});

beforeEach(() => {
  backend.calls.infer = 0;
  backend.signals = [];
  backend.reset();
  lines.length = 0;
});

afterEach(() => {
  vi.restoreAllMocks();
});

const body = (first: number) =>
  JSON.stringify({
    inputs: [
      { name: "a", shape: [1, 4], datatype: "FP32", data: [first, 2, 3, 4] },
      { name: "b", shape: [1, 4], datatype: "FP32", data: [10, 20, 30, 40] },
    ],
  });

const infer = (data: string, options: { signal?: AbortSignal; noCache?: boolean } = {}) =>
  fetch(`${server.url}/v2/models/cached-add/infer`, {
    method: "POST",
    body: data,
    signal: options.signal,
    headers: options.noCache === true ? { "Cache-Control": "no-cache, no-store" } : {},
  });

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

/** The request lines logged with `status`. */
const logged = (status: number) => lines.filter((l) => l.message === "request" && l.status === status);

describe("a client that disconnects", () => {
  it("does not fail an identical request sharing its flight; the shared call goes on", async () => {
    // A spy that calls through: ResultCache.run joins an existing flight before it returns.
    const runs = vi.spyOn(gateway.cache, "run");
    const leaving = new AbortController();
    const first = infer(body(1), { signal: leaving.signal });
    await until(() => backend.calls.infer === 1);
    const second = infer(body(1));
    await until(() => runs.mock.calls.length === 2); // the second request joined the flight
    expect(gateway.cache.inFlight).toBe(1);
    expect(lines).toEqual([]);
    leaving.abort();
    await expect(first).rejects.toThrow();
    await until(() => logged(499).length === 1);
    expect(backend.signals[0]?.aborted).toBe(false);
    backend.open();
    const res = await second;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-cache")).toBe("MISS");
    expect(((await res.json()) as { outputs: Array<{ data: number[] }> }).outputs[0]?.data).toEqual([
      11, 22, 33, 44,
    ]);
    expect(backend.calls.infer).toBe(1);
    expect(logged(499)[0]?.reason).toBe("client_closed");
  });

  it("aborts the running call of a lone request, and drops its queued work", async () => {
    // The first request holds the model's one slot; the second waits in its queue. A spy that
    // calls through: acquire() puts a waiter in the queue before it returns.
    const acquired = vi.spyOn(ConcurrencyLimiter.prototype, "acquire");
    const running = new AbortController();
    const queued = new AbortController();
    const first = infer(body(2), { signal: running.signal, noCache: true });
    await until(() => backend.calls.infer === 1);
    const second = infer(body(3), { signal: queued.signal, noCache: true });
    await until(() => acquired.mock.calls.length === 2);
    queued.abort();
    await expect(second).rejects.toThrow();
    await until(() => logged(499).length === 1);
    running.abort();
    await expect(first).rejects.toThrow();
    await until(() => backend.signals[0]?.aborted === true && logged(499).length === 2);
    backend.open();
    // The queued request never reached the backend; the slot is free for the next one.
    const next = await infer(body(4), { noCache: true });
    expect(next.status).toBe(200);
    expect(backend.calls.infer).toBe(2);
    const failures = await prometheus.renderPrometheus();
    expect(failures).toMatch(
      /nv_inference_request_failure\{model="cached-add",version="?[^,]*"?,?reason="client_closed"\} 3/,
    );
  });
});
