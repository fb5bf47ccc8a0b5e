import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ModelEngine } from "../../../layers/engine/engine";
import { CONCURRENCY_HOLD_MS, HybridModel, STALE_WINDOW_MS } from "../../../layers/engine/hybrid-model";
import type { EngineOptions } from "../../../layers/engine/types";
import { WorkerModel } from "../../../layers/engine/worker-model";
import { WorkerPool } from "../../../layers/engine/worker-pool";
import { inferenceWorkerCount } from "../../../layers/engine/worker-thread";
import { ModelNotReady } from "../../../layers/errors";
import { openRepository } from "../../../layers/repository";
import { addConfig, addModel, writeModelDir } from "../../support/models";
import { fp32, values } from "../../support/tensors";

// config.json's instance_group: `count` worker threads per version (worker and auto modes).
const dirs: string[] = [];
const engines: ModelEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** "add" (sum = a + b) with instance_group count `count`, and extra config fields. */
async function engineOf(count: number, options: EngineOptions, extra: Record<string, unknown> = {}) {
  const dir = await mkdtemp(join(tmpdir(), "edge-infer-pool-"));
  dirs.push(dir);
  const config = {
    ...addConfig("add", { version_policy: { all: {} } }),
    instance_group: [{ count, kind: "KIND_CPU" }],
    ...extra,
  };
  await writeModelDir(dir, "add", config, { 1: addModel(0), 2: addModel(1) });
  const engine = new ModelEngine(openRepository(dir), options);
  engines.push(engine);
  return engine;
}

const inputs = (k: number) => [fp32("a", [1, 4], [k, 2, 3, 4]), fp32("b", [1, 4], [10, 20, 30, k])];
const sumOf = (k: number) => [k + 10, 22, 33, 4 + k];

describe("instance_group", () => {
  it("opens `count` workers in worker mode, spreads runs in flight over them, ends them with the version", async () => {
    const before = inferenceWorkerCount();
    const engine = await engineOf(2, { inferenceThread: "worker" });
    const model = await engine.load("add", 1);
    expect(model).toBeInstanceOf(WorkerPool);
    expect(model.concurrency).toBe(2);
    const pool = model as WorkerPool;
    expect(inferenceWorkerCount()).toBe(before + 2);
    // Two threads, each with its own session.
    const threads = new Set(pool.members.map((m) => m.thread.worker.threadId));
    expect(threads.size).toBe(2);
    // Six at once: each goes to the member with the fewest in flight, so three each.
    const answers = await Promise.all(Array.from({ length: 6 }, (_, k) => model.run(inputs(k))));
    answers.forEach(([sum], k) => {
      expect(values(sum)).toEqual(sumOf(k));
    });
    expect(pool.runs).toEqual([3, 3]);
    // One at a time: the first member each time (the fewest in flight, first on a tie).
    for (let k = 0; k < 3; k++) await model.run(inputs(k));
    expect(pool.runs).toEqual([6, 3]);
    await engine.unload("add", 1);
    expect(inferenceWorkerCount()).toBe(before);
  });

  it("in auto mode keeps the main-thread session beside the workers: a lone run here, concurrent ones spread", async () => {
    const engine = await engineOf(2, { inferenceThread: "auto" });
    const hybrid = (await engine.load("add", 1)) as HybridModel;
    expect(hybrid).toBeInstanceOf(HybridModel);
    expect(hybrid.concurrency).toBe(3);
    await new Promise((r) => setTimeout(r, CONCURRENCY_HOLD_MS + 20));
    const [lone] = await hybrid.run(inputs(1));
    expect(values(lone)).toEqual(sumOf(1));
    expect(hybrid.runs).toEqual({ main: 1, worker: 0 });
    // Eight at once: the first finds the process idle (here), the others go to the workers, both of them.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, k) => hybrid.run(inputs(k))));
    answers.forEach(([sum], k) => {
      expect(values(sum)).toEqual(sumOf(k));
    });
    expect(hybrid.runs).toEqual({ main: 2, worker: 7 });
    const pool = (hybrid as unknown as { worker: WorkerPool }).worker;
    expect(pool).toBeInstanceOf(WorkerPool);
    expect(pool.runs).toEqual([4, 3]);
  });

  it("in auto mode under load, runs on the main thread only once every worker computes", async () => {
    const engine = await engineOf(2, { inferenceThread: "auto" });
    const hybrid = (await engine.load("add", 1)) as HybridModel;
    // Past the last load window: this load starts with room on the main thread.
    await new Promise((r) => setTimeout(r, STALE_WINDOW_MS + 20));
    // Requests held by the batcher (as the backend counts them) make this version busy.
    hybrid.waiting = 2;
    try {
      const runs = [hybrid.run(inputs(1))];
      expect(hybrid.runs).toEqual({ main: 0, worker: 1 });
      // One worker computing, the other idle: the idle worker, not the main thread.
      runs.push(hybrid.run(inputs(2)));
      expect(hybrid.runs).toEqual({ main: 0, worker: 2 });
      // Both computing, the main thread free: here.
      runs.push(hybrid.run(inputs(3)));
      expect(hybrid.runs).toEqual({ main: 1, worker: 2 });
      const answers = await Promise.all(runs);
      answers.forEach(([sum], i) => {
        expect(values(sum)).toEqual(sumOf(i + 1));
      });
    } finally {
      hybrid.waiting = 0;
    }
  });

  it("opens a version again with the new count when a load reads an edited instance_group", async () => {
    const logs: string[] = [];
    const engine = await engineOf(1, { inferenceThread: "worker", logger: (_, msg) => logs.push(msg) });
    const before = await engine.load("add", 2);
    expect(before).toBeInstanceOf(WorkerModel);
    const dir = dirs.at(-1) as string;
    const config = {
      ...addConfig("add", { version_policy: { all: {} } }),
      instance_group: [{ count: 2, kind: "KIND_CPU" }],
    };
    await writeModelDir(dir, "add", config, {});
    const after = await engine.reload("add");
    expect(after).toBeInstanceOf(WorkerPool);
    expect(after.concurrency).toBe(2);
    expect(values((await after.run(inputs(1)))[0])).toEqual([1 + 10 + 1, 22 + 1, 33 + 1, 4 + 1 + 1]);
    expect(logs).toContain(
      "reopening model 'add' version 2 on thread 'worker' (2 workers): its config.json changed",
    );
  });

  it("opens a shadow version with one worker whatever the count", async () => {
    const engine = await engineOf(
      3,
      { inferenceThread: "auto" },
      { live_version: 1, shadow: { version: 2, percent: 10 } },
    );
    expect(await engine.load("add", 1)).toBeInstanceOf(HybridModel);
    const shadow = await engine.load("add", 2);
    expect(shadow).toBeInstanceOf(WorkerModel);
    expect(shadow.concurrency ?? 1).toBe(1);
    const [sum] = await shadow.run(inputs(3));
    expect(values(sum)).toEqual([3 + 10 + 1, 22 + 1, 33 + 1, 4 + 3 + 1]);
  });

  it("runs one session on the main thread in main mode, whatever the count", async () => {
    const before = inferenceWorkerCount();
    const engine = await engineOf(4, { inferenceThread: "main" });
    const model = await engine.load("add", 1);
    expect(model.concurrency ?? 1).toBe(1);
    expect(inferenceWorkerCount()).toBe(before);
    expect(values((await model.run(inputs(2)))[0])).toEqual(sumOf(2));
  });

  it("fails the version when one member's worker dies, and loads it again with all its workers", async () => {
    const engine = await engineOf(2, { inferenceThread: "worker", retryFailedAfterMs: 0 });
    const pool = (await engine.load("add", 1)) as WorkerPool;
    // Killed while idle (a thread terminated inside a native ORT run would abort the process).
    await pool.members[1]?.thread.worker.terminate();
    await expect.poll(() => engine.state("add", 1)).toBe("FAILED");
    // The surviving member is released with the failed version: nothing half-served.
    await expect(pool.members[0]?.run(inputs(1))).rejects.toBeInstanceOf(ModelNotReady);
    const again = (await engine.load("add", 1)) as WorkerPool;
    expect(again).not.toBe(pool);
    expect(again.concurrency).toBe(2);
    expect(values((await again.run(inputs(5)))[0])).toEqual(sumOf(5));
  });
});
