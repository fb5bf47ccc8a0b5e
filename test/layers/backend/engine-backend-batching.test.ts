/** EngineBackend with `dynamic_batching` enabled in config.json, on generated models and ORT. */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EngineBackend, type InferResult } from "../../../layers/backend";
import { ModelEngine } from "../../../layers/engine";
import { InvalidInput, ModelNotReady } from "../../../layers/errors";
import type { Tensor } from "../../../layers/protocol/types";
import { openRepository } from "../../../layers/repository";
import { inferOn, unchecked } from "../../support/infer";
import { addConfig, addModel, buildModel, modelConfig, writeModelDir } from "../../support/models";

/** `gather`: y[i] = table[idx[i]] with table = [10, 20, 30, 40]; an index past 3 makes ORT fail. */
function gatherModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: "idx", datatype: "INT64", dims: ["batch", 1] }],
    outputs: [{ name: "y", datatype: "FP32", dims: ["batch", 1] }],
    nodes: [{ op: "Gather", inputs: ["table", "idx"], outputs: ["y"] }],
    initializers: [
      {
        name: "table",
        datatype: "FP32",
        dims: [4],
        raw: new Uint8Array(new Float32Array([10, 20, 30, 40]).buffer),
      },
    ],
  });
}

/** Resolves once `slow` (version 1) holds `n` queued requests: its load and enqueue are awaited, not guessed. */
const queuedOnSlow = (n: number) =>
  vi.waitFor(() => expect(batched.batcherStats("slow", 1)?.queued).toBe(n), { timeout: 10_000, interval: 2 });

const batching = (over: Record<string, unknown>) => ({ enabled: true, ...over });

let dir: string;
let batched: EngineBackend;
let plain: EngineBackend;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-infer-batching-"));
  const add = addConfig("add");
  // A long delay: concurrent requests always find each other, whatever the machine's load.
  const addDelay = { max_queue_delay_microseconds: 200_000, preferred_batch_size: [8] };
  await writeModelDir(dir, "add", { ...add, dynamic_batching: batching(addDelay) }, { 1: addModel(0) });
  const gather = modelConfig("gather", { max_batch_size: 4 });
  const gatherDelay = { max_queue_delay_microseconds: 200_000, preferred_batch_size: [4] };
  await writeModelDir(
    dir,
    "gather",
    { ...gather, dynamic_batching: batching(gatherDelay) },
    { 1: gatherModel() },
  );
  // Waits 30 s for company: only close/unload or an abort ends its wait within a test.
  const slow = { ...add, name: "slow", dynamic_batching: batching({ max_queue_delay_microseconds: 30e6 }) };
  await writeModelDir(dir, "slow", slow, { 1: addModel(0) });
  const uri = pathToFileURL(dir).href;
  batched = new EngineBackend(new ModelEngine(openRepository(uri)));
  plain = new EngineBackend(new ModelEngine(openRepository(uri)), { batching: false });
});

afterAll(async () => {
  await batched?.close();
  await plain?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Request k of the add model: a = k*10 + [0..3], b = [1, 2, 3, 4] * k. */
function addRequest(k: number): Tensor[] {
  const a = new Float32Array(4).map((_, i) => k * 10 + i);
  const b = new Float32Array(4).map((_, i) => (i + 1) * k);
  return [
    { name: "a", datatype: "FP32", shape: [1, 4], data: a },
    { name: "b", datatype: "FP32", shape: [1, 4], data: b },
  ];
}

const outputsOf = (r: InferResult) =>
  r.outputs.map((t) => [t.name, t.shape, Array.from(t.data as Float32Array)]);

const idx = (i: number): Tensor => ({
  name: "idx",
  datatype: "INT64",
  shape: [1, 1],
  data: new BigInt64Array([BigInt(i)]),
});

describe("EngineBackend with dynamic batching", () => {
  it("answers concurrent requests exactly as unbatched runs do, in fewer runs", async () => {
    const n = 12;
    const expected = [];
    for (let k = 0; k < n; k++)
      expected.push(outputsOf(await plain.infer("add", undefined, unchecked({ inputs: addRequest(k) }))));
    const results = await Promise.all(
      Array.from({ length: n }, (_, k) =>
        batched.infer("add", undefined, unchecked({ inputs: addRequest(k) })),
      ),
    );
    expect(results.map(outputsOf)).toEqual(expected);
    expect(results.every((r) => r.version === "1")).toBe(true);
    const stats = batched.batcherStats("add", 1);
    expect(stats?.requests).toBe(n);
    expect(stats?.batches).toBeLessThan(n);
    // Spot-check the arithmetic itself: request 3 is a = [30..33], b = [3, 6, 9, 12].
    expect(expected[3]).toEqual([
      ["sum", [1, 4], [33, 37, 41, 45]],
      ["diff", [1, 4], [27, 25, 23, 21]],
    ]);
  });

  it("reports queue and run time of batched requests, and run time only of unbatched ones", async () => {
    const [r] = await Promise.all([batched.infer("add", undefined, unchecked({ inputs: addRequest(1) }))]);
    const queueMs = r?.timing?.queueMs;
    const inferMs = r?.timing?.inferMs;
    expect(typeof queueMs === "number" && Number.isFinite(queueMs) && queueMs >= 0).toBe(true);
    expect(typeof inferMs === "number" && Number.isFinite(inferMs) && inferMs >= 0).toBe(true);
    const u = await plain.infer("add", undefined, unchecked({ inputs: addRequest(1) }));
    expect(u.timing?.queueMs).toBeUndefined();
    expect(typeof u.timing?.inferMs).toBe("number");
    expect(plain.batcherStats("add", 1)).toBeUndefined();
  });

  it("fails only the batch holding a request ORT rejects, with the real error", async () => {
    // max_batch_size 4, preferred 4: requests 0-3 form the first batch, 4-7 the second.
    const indices = [0, 9, 2, 3, 3, 2, 1, 0];
    const settled = await Promise.allSettled(
      indices.map((i) => batched.infer("gather", 1, unchecked({ inputs: [idx(i)] }))),
    );
    for (const s of settled.slice(0, 4)) {
      expect(s.status).toBe("rejected");
      const reason = s.status === "rejected" ? s.reason : undefined;
      expect(reason).toBeInstanceOf(InvalidInput);
      expect((reason as Error).message).toMatch(
        /^model 'gather' version 1 cannot run on input '\w+' \(shape \[[\d,]+\]\): the model rejects these sizes or values$/,
      );
      expect(String((reason as Error).cause)).toMatch(/out of/);
    }
    const values = settled
      .slice(4)
      .map((s) =>
        s.status === "fulfilled" ? Array.from(s.value.outputs[0]?.data as Float32Array) : s.reason,
      );
    expect(values).toEqual([[40], [30], [20], [10]]);
    expect(batched.batcherStats("gather", 1)).toMatchObject({ batches: 2, requests: 8 });
  });

  it("is validated once, before queueing: an invalid request never reaches the batcher", async () => {
    const bad: Tensor[] = [
      { name: "a", datatype: "FP32", shape: [1, 3], data: new Float32Array(3) },
      { name: "b", datatype: "FP32", shape: [1, 4], data: new Float32Array(4) },
    ];
    const before = batched.batcherStats("add", 1)?.requests ?? 0;
    await expect(inferOn(batched, "add", undefined, bad)).rejects.toThrow(
      new InvalidInput("input 'a' has shape [1,3]: dimension 1 is 3, expected 4 (shape [-1,4])"),
    );
    expect(batched.batcherStats("add", 1)?.requests ?? 0).toBe(before);
  });

  it("takes an aborted request out of the queue with the signal's reason", async () => {
    const controller = new AbortController();
    const pending = batched.infer("slow", undefined, unchecked({ inputs: addRequest(1) }), controller.signal);
    await queuedOnSlow(1);
    controller.abort(new Error("client went away"));
    await expect(pending).rejects.toThrow("client went away");
    expect(batched.batcherStats("slow", 1)).toMatchObject({ queued: 0, batches: 0 });
  });

  it("refuses queued requests with ModelNotReady when the version is unloaded", async () => {
    const pending = batched.infer("slow", undefined, unchecked({ inputs: addRequest(2) }));
    await queuedOnSlow(1);
    await batched.unload("slow", 1);
    await expect(pending).rejects.toThrow(
      new ModelNotReady("model is shutting down: the request was not run"),
    );
    expect(batched.batcherStats("slow", 1)).toBeUndefined();
    // Loaded again on demand, with a new batcher.
    expect(await batched.ready("slow", undefined)).toBe(false);
    await batched.load("slow");
    expect(batched.batcherStats("slow", 1)).toBeUndefined();
  });
});
