/**
 * Triton's statistics extension over real HTTP, as perf_analyzer and tritonclient's
 * get_inference_statistics() call it: counts after a known sequence of requests, in Triton's shape.
 * And the one reserved model name, `stats`, which the repository refuses with its reason.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileRepository } from "../../layers/repository";
import type { TritonModelStats } from "../../layers/telemetry/model-stats";
import { addModel, makeTestRepository, modelConfig, writeModelDir } from "../support/models";
import { startGatewayServer, type TestGateway } from "../support/server";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let gateway: TestGateway;

beforeAll(async () => {
  repo = await makeTestRepository();
  await writeModelDir(repo.dir, "stats", modelConfig("stats"), { 1: addModel(0) });
  await mkdir(join(repo.dir, "notes"));
  gateway = await startGatewayServer({ MODEL_REPOSITORY: pathToFileURL(repo.dir).href });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await repo?.cleanup();
});

const infer = (batch: number, path = "/v2/models/add/infer") =>
  fetch(`${gateway.url}${path}`, {
    method: "POST",
    body: JSON.stringify({
      inputs: ["a", "b"].map((name) => ({
        name,
        datatype: "FP32",
        shape: [batch, 4],
        data: new Array(batch * 4).fill(1),
      })),
    }),
  });

async function stats(path: string): Promise<TritonModelStats[]> {
  const res = await fetch(`${gateway.url}${path}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { model_stats: TritonModelStats[]; counters?: string };
  expect(body.counters).toBeUndefined(); // local mode: these are the whole server's numbers
  return body.model_stats;
}

describe("statistics extension", () => {
  it("is listed in GET /v2", async () => {
    const server = (await (await fetch(`${gateway.url}/v2`)).json()) as { extensions: string[] };
    expect(server.extensions).toContain("statistics");
  });

  it("counts a known sequence of requests in Triton's shape", async () => {
    const before = await stats("/v2/models/add/stats");
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ name: "add", version: "", inference_count: 0, execution_count: 0 });
    for (const batch of [1, 1, 3]) expect((await infer(batch)).status).toBe(200);
    expect((await infer(1, "/v2/models/add/versions/1/infer")).status).toBe(200);
    expect((await infer(9)).status).toBe(400); // past max_batch_size 8

    const all = await stats("/v2/models/stats");
    expect(all.map((s) => s.name)).toEqual(expect.arrayContaining(["add", "int64-ops", "pinned"]));
    const live = all.find((s) => s.name === "add" && s.version === "2");
    expect(live).toMatchObject({ inference_count: 5, execution_count: 3 });
    const i = live?.inference_stats;
    expect(i?.success.count).toBe(3);
    for (const phase of ["compute_input", "compute_infer", "compute_output"] as const) {
      expect(i?.[phase].count).toBe(3);
      expect(i?.[phase].ns).toBeGreaterThan(0);
    }
    expect(i?.success.ns).toBeGreaterThanOrEqual((i?.compute_infer.ns ?? 0) + (i?.compute_input.ns ?? 0));
    expect(live?.batch_stats.map((b) => [b.batch_size, b.compute_infer.count])).toEqual([
      [1, 2],
      [3, 1],
    ]);
    expect(live?.last_inference).toBeGreaterThan(Date.now() - 60_000);
    // The refused request named no version that answered; it counts as a failure of the model.
    const failed = all.filter((s) => s.name === "add").reduce((n, s) => n + s.inference_stats.fail.count, 0);
    expect(failed).toBe(1);

    const pinned = await stats("/v2/models/add/versions/1/stats");
    expect(pinned).toHaveLength(1);
    expect(pinned[0]).toMatchObject({ name: "add", version: "1", execution_count: 1 });
  });

  it("answers 404 for an unknown model and 405 for a POST", async () => {
    const res = await fetch(`${gateway.url}/v2/models/nope/stats`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe('unknown model "nope"');
    const post = await fetch(`${gateway.url}/v2/models/stats`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  it("refuses a model named stats, and names a folder that is no model, saying why", async () => {
    const logged: Array<[string, unknown]> = [];
    const models = await new FileRepository(repo.dir, repo.dir, (msg, fields) =>
      logged.push([msg, fields]),
    ).listModels();
    expect(models).not.toContain("stats");
    expect(logged).toContainEqual([
      "model folder skipped",
      {
        model: "stats",
        reason: 'a model may not be named "stats": GET /v2/models/stats is the statistics of every model',
      },
    ]);
  });
});
