/**
 * The model container's server over a real socket: a client that closes its connection takes its
 * request out of the model's batching queue (on the protocol's infer route and on /invocations),
 * and the request is counted as 499 client_closed.
 */
import { request as httpRequest } from "node:http";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readFunctionConfig } from "../../../functions/model/config";
import { createServerApp } from "../../../functions/model/server";
import { createModelService, type ModelService } from "../../../functions/model/service";
import { inferEvent } from "../../../layers/transport";
import { addConfig, addModel, makeTestRepository, writeModelDir } from "../../support/models";
import { type Listening, listen } from "../../support/server";
import { fp32 } from "../../support/tensors";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let service: ModelService;
let server: Listening;

beforeAll(async () => {
  repo = await makeTestRepository();
  // A lone request waits 30 s for company in the batcher: only its client leaving ends that wait here.
  const slow = {
    ...addConfig("slow"),
    dynamic_batching: { enabled: true, max_queue_delay_microseconds: 30e6 },
  };
  await writeModelDir(repo.dir, "slow", slow, { 1: addModel(0) });
  const config = readFunctionConfig({
    MODEL_NAME: "slow",
    MODEL_REPOSITORY: pathToFileURL(repo.dir).href,
    LOG_LEVEL: "SILENT",
  });
  service = createModelService(config, undefined, { batching: true });
  await service.warm();
  server = await listen(createServerApp(service).fetch);
});

afterAll(async () => {
  await server?.close();
  await service?.close();
  await repo?.cleanup();
});

const queued = () => service.backend.batcherStats("slow", 1)?.queued ?? 0;
const waitForQueued = (n: number) =>
  vi.waitFor(() => expect(queued()).toBe(n), { timeout: 10_000, interval: 5 });

/** Posts `body` over a fresh socket, waits until the batcher holds it, then closes the socket. */
async function sendAndLeave(path: string, body: unknown): Promise<void> {
  const req = httpRequest(`${server.url}${path}`, { method: "POST", agent: false });
  const closed = new Promise((resolve) => req.on("close", resolve));
  req.on("error", () => {}); // the socket is closed on purpose
  req.end(JSON.stringify(body));
  await waitForQueued(1);
  req.destroy();
  await closed;
}

const json = {
  inputs: [
    { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
    { name: "b", shape: [1, 4], datatype: "FP32", data: [1, 1, 1, 1] },
  ],
};

describe("model container, a client that disconnects", () => {
  it("leaves the batching queue of the protocol's infer route, counted as 499 client_closed", async () => {
    await sendAndLeave("/v2/models/slow/infer", json);
    await waitForQueued(0);
    expect(service.backend.batcherStats("slow", 1)).toMatchObject({ batches: 0 });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/nv_inference_request_failure\{model="slow",[^}]*reason="client_closed"\} 1\n/);
  });

  it("leaves the batching queue of /invocations", async () => {
    await sendAndLeave(
      "/invocations",
      inferEvent("slow", undefined, {
        inputs: [fp32("a", [1, 4], [1, 2, 3, 4]), fp32("b", [1, 4], [1, 1, 1, 1])],
      }),
    );
    await waitForQueued(0);
    expect(service.backend.batcherStats("slow", 1)).toMatchObject({ batches: 0 });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/nv_inference_request_failure\{model="slow",[^}]*reason="client_closed"\} 2\n/);
  });
});
