import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelEngine } from "../../../layers/engine/engine";
import {
  CONCURRENCY_HOLD_MS,
  HybridModel,
  LOAD_WINDOW_MS,
  STALE_WINDOW_MS,
} from "../../../layers/engine/hybrid-model";
import { placementOf } from "../../../layers/engine/load";
import { LOW_PRIORITY } from "../../../layers/engine/thread-priority";
import { WorkerModel } from "../../../layers/engine/worker-model";
import { inferenceWorkerCount } from "../../../layers/engine/worker-thread";
import { openRepository } from "../../../layers/repository";
import type { ModelConfig } from "../../../layers/repository/types";
import { addConfig, addModel, makeTestRepository, writeModelDir } from "../../support/models";
import { fp32, values } from "../../support/tensors";
import { threadStats } from "../../support/threads";

// inferenceThread "auto": a session here and one in a worker; idle → here, busy → the worker.
let repo: { dir: string; cleanup(): Promise<void> };
let engine: ModelEngine;

beforeAll(async () => {
  repo = await makeTestRepository();
  engine = new ModelEngine(openRepository(repo.dir), { inferenceThread: "auto" });
});
afterAll(async () => {
  await engine.close();
  await repo.cleanup();
});

/** Waits (at most 5 s) until `check` holds: a released worker ends a little after its session. */
async function eventually(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  return check();
}

/** A repository whose "add" has live version 1 and shadow version 2 (10 %). */
async function shadowedRepository(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "edge-infer-shadow-"));
  const shadowed = {
    ...addConfig("add", { version_policy: { latest: { num_versions: 1 } } }),
    live_version: 1,
    shadow: { version: 2, percent: 10 },
  };
  await writeModelDir(dir, "add", shadowed, { 1: addModel(0), 2: addModel(1) });
  return dir;
}

/** This process's threads at the lowest CPU priority. */
const lowPriorityThreads = () => threadStats().filter((t) => t.nice === LOW_PRIORITY).length;

const inputs = (k: number) => [fp32("a", [1, 4], [k, 2, 3, 4]), fp32("b", [1, 4], [10, 20, 30, k])];

describe("inferenceThread 'auto'", () => {
  it("runs a lone request on this thread and concurrent ones in the worker, with the same answers", async () => {
    const model = await engine.load("add", 1);
    expect(model).toBeInstanceOf(HybridModel);
    const hybrid = model as HybridModel;
    const before = { ...hybrid.runs };
    // One at a time: never the worker.
    for (let k = 0; k < 3; k++) {
      const [sum] = await hybrid.run(inputs(k));
      expect(values(sum)).toEqual([k + 10, 22, 33, 4 + k]);
    }
    expect(hybrid.runs.main - before.main).toBe(3);
    expect(hybrid.runs.worker).toBe(before.worker);
    // Eight at once: the first runs here, the others arrive while it is in flight.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, k) => hybrid.run(inputs(k))));
    answers.forEach(([sum], k) => {
      expect(values(sum)).toEqual([k + 10, 22, 33, 4 + k]);
    });
    expect(hybrid.runs.main - before.main).toBe(4);
    expect(hybrid.runs.worker - before.worker).toBe(7);
    expect(inferenceWorkerCount()).toBeGreaterThan(0);
    // Right after concurrency, a lone run still goes to the worker; once it has been quiet, here.
    await hybrid.run(inputs(1));
    expect(hybrid.runs.worker - before.worker).toBe(8);
    await new Promise((r) => setTimeout(r, CONCURRENCY_HOLD_MS + 20));
    await hybrid.run(inputs(1));
    expect(hybrid.runs.main - before.main).toBe(5);
  });

  it("under load, runs here when this version's worker is busy and this thread is free: both sessions compute", async () => {
    const hybrid = (await engine.load("add", 1)) as HybridModel;
    // Past the hold, and past the last load window: this load starts with room on this thread.
    await new Promise((r) => setTimeout(r, STALE_WINDOW_MS + 20));
    const before = { ...hybrid.runs };
    const since = () => ({
      main: hybrid.runs.main - before.main,
      worker: hybrid.runs.worker - before.worker,
    });
    // Requests held by the batcher (as the backend counts them) make this version busy: no run is idle.
    hybrid.waiting = 2;
    try {
      // Each call picks its side before it awaits anything. The first finds the worker idle...
      const first = hybrid.run(inputs(1));
      expect(since()).toEqual({ main: 0, worker: 1 });
      // ...the second finds it computing and this thread free...
      const second = hybrid.run(inputs(2));
      expect(since()).toEqual({ main: 1, worker: 1 });
      // ...the third finds both taken: the worker queues it.
      const third = hybrid.run(inputs(3));
      expect(since()).toEqual({ main: 1, worker: 2 });
      const answers = await Promise.all([first, second, third]);
      answers.forEach(([sum], i) => {
        expect(values(sum)).toEqual([i + 1 + 10, 22, 33, 4 + i + 1]);
      });
    } finally {
      hybrid.waiting = 0;
    }
  });

  it("under load, leaves a run in the busy worker when this thread's own work took over half of the last window", async () => {
    const hybrid = (await engine.load("add", 1)) as HybridModel;
    await new Promise((r) => setTimeout(r, STALE_WINDOW_MS + 20));
    const before = { ...hybrid.runs };
    hybrid.waiting = 2;
    try {
      const first = hybrid.run(inputs(1));
      // This thread busy with its own work (as decoding large JSON bodies keeps it) for a window.
      const until = performance.now() + LOAD_WINDOW_MS * 1.5;
      while (performance.now() < until) {
        // spin
      }
      const second = hybrid.run(inputs(2));
      expect(hybrid.runs.main - before.main).toBe(0);
      expect(hybrid.runs.worker - before.worker).toBe(2);
      await Promise.all([first, second]);
      // The next window, idle, gives the room back: once the window has passed, a run is taken here.
      await new Promise((r) => setTimeout(r, LOAD_WINDOW_MS * 1.5));
      const third = hybrid.run(inputs(3));
      const fourth = hybrid.run(inputs(4));
      expect(hybrid.runs.main - before.main).toBe(1);
      await Promise.all([third, fourth]);
    } finally {
      hybrid.waiting = 0;
    }
  });

  it("under load, leaves this thread free while another version has runs in flight: it parses for both", async () => {
    const one = (await engine.load("add", 1)) as HybridModel;
    const two = (await engine.load("add", 2)) as HybridModel;
    await new Promise((r) => setTimeout(r, CONCURRENCY_HOLD_MS + 20));
    const before = { ...two.runs };
    one.waiting = 2;
    try {
      // Version 1 busy in its worker; version 2's first run goes to its own idle worker, and its
      // second, which finds that worker computing, stays there too: version 1's runs are in flight.
      const runs = [one.run(inputs(1)), two.run(inputs(2)), two.run(inputs(3))];
      expect(two.runs.main - before.main).toBe(0);
      expect(two.runs.worker - before.worker).toBe(2);
      const answers = await Promise.all(runs);
      expect(values(answers[2]?.[0])).toEqual([3 + 10 + 1, 22 + 1, 33 + 1, 4 + 3 + 1]);
    } finally {
      one.waiting = 0;
    }
  });

  it("sends a run to the worker while another version's run is in flight: the main thread is the process's", async () => {
    // "add" 1 and 2 stand for two models served together: each has an idle worker, but the main
    // thread is shared.
    const one = (await engine.load("add", 1)) as HybridModel;
    const two = (await engine.load("add", 2)) as HybridModel;
    expect(two).toBeInstanceOf(HybridModel);
    await new Promise((r) => setTimeout(r, CONCURRENCY_HOLD_MS + 20));
    const before = { one: { ...one.runs }, two: { ...two.runs } };
    // Two runs of version 1 at once (the first here, the second in its worker), then one of
    // version 2 while they are in flight: version 2 has nothing in flight, the process has.
    const answers = await Promise.all([one.run(inputs(1)), one.run(inputs(2)), two.run(inputs(3))]);
    expect(values(answers[2]?.[0])).toEqual([3 + 10 + 1, 22 + 1, 33 + 1, 4 + 3 + 1]);
    expect(one.runs.main - before.one.main).toBe(1);
    expect(one.runs.worker - before.one.worker).toBe(1);
    expect(two.runs.worker - before.two.worker).toBe(1);
    expect(two.runs.main).toBe(before.two.main);
    // The hold is the process's too: right after, a lone run of version 2 still goes to the worker...
    await two.run(inputs(4));
    expect(two.runs.worker - before.two.worker).toBe(2);
    // ...and once it has been quiet, here.
    await new Promise((r) => setTimeout(r, CONCURRENCY_HOLD_MS + 20));
    await two.run(inputs(5));
    expect(two.runs.main - before.two.main).toBe(1);
  });

  it("opens a shadow version in its worker only: its mirror runs never take the live version's thread", async () => {
    const dir = await shadowedRepository();
    const local = new ModelEngine(openRepository(dir), { inferenceThread: "auto" });
    try {
      const live = (await local.load("add", 1)) as HybridModel;
      const shadow = await local.load("add", 2);
      expect(live).toBeInstanceOf(HybridModel);
      expect(shadow).toBeInstanceOf(WorkerModel);
      await new Promise((r) => setTimeout(r, CONCURRENCY_HOLD_MS + 20));
      const before = { ...live.runs };
      // A mirror in flight in the shadow's worker leaves the main thread to the live version.
      const [mirrored, [sum]] = await Promise.all([shadow.run(inputs(3)), live.run(inputs(1))]);
      expect(values(mirrored[0])).toEqual([3 + 10 + 1, 22 + 1, 33 + 1, 4 + 3 + 1]);
      expect(values(sum)).toEqual([11, 22, 33, 5]);
      expect(live.runs.main - before.main).toBe(1);
      expect(live.runs.worker).toBe(before.worker);
    } finally {
      await local.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("runs a shadow version's worker at the lowest CPU priority, the live version's at normal", async () => {
    for (const inferenceThread of ["auto", "worker"] as const) {
      const dir = await shadowedRepository();
      const local = new ModelEngine(openRepository(dir), { inferenceThread });
      try {
        await local.load("add", 1);
        // The live version's worker (and its session's threads) keep their priority.
        expect(lowPriorityThreads()).toBe(0);
        const shadow = await local.load("add", 2);
        expect(lowPriorityThreads()).toBeGreaterThan(0);
        // It still answers, at whatever pace the idle CPU gives it.
        const [mirrored] = await shadow.run(inputs(3));
        expect(values(mirrored)).toEqual([3 + 10 + 1, 22 + 1, 33 + 1, 4 + 3 + 1]);
      } finally {
        await local.close();
        await rm(dir, { recursive: true, force: true });
      }
      // Released with its version: no thread of this process is left behind at that priority.
      expect(await eventually(() => lowPriorityThreads() === 0)).toBe(true);
    }
  });

  it("opens a shadow version again where live versions run once a reload makes it live", async () => {
    const dir = await shadowedRepository();
    const local = new ModelEngine(openRepository(dir), { inferenceThread: "auto" });
    try {
      await local.load("add", 1);
      const shadow = await local.load("add", 2);
      expect(shadow).toBeInstanceOf(WorkerModel);
      // Its reopening fails (the file is damaged): the version keeps being served as it was.
      await writeFile(join(dir, "add", "2", "model.onnx"), "not a model");
      await writeFile(
        join(dir, "add", "config.json"),
        JSON.stringify({ ...addConfig("add", { version_policy: { all: {} } }), live_version: 2 }),
      );
      await expect(local.reload("add")).rejects.toThrow(/version 2 failed to load/);
      expect(await local.load("add", 2)).toBe(shadow);
      const workers = inferenceWorkerCount();
      // Reopened on both threads; the old session released (its worker ends).
      await writeModelDir(
        dir,
        "add",
        { ...addConfig("add", { version_policy: { all: {} } }), live_version: 2 },
        { 2: addModel(1) },
      );
      const live = await local.reload("add");
      expect(live).toBeInstanceOf(HybridModel);
      expect(await local.load("add")).toBe(live);
      const [sum] = await live.run(inputs(3));
      expect(values(sum)).toEqual([3 + 10 + 1, 22 + 1, 33 + 1, 4 + 3 + 1]);
      expect(await eventually(() => inferenceWorkerCount() === workers)).toBe(true);
      // Live now: opened again at normal priority, and the mirror-only worker is gone.
      expect(lowPriorityThreads()).toBe(0);
    } finally {
      await local.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("opens the former live version again as a shadow once a reload swaps the two (the release guide's order)", async () => {
    for (const inferenceThread of ["auto", "worker"] as const) {
      const dir = await shadowedRepository();
      const logs: string[] = [];
      const local = new ModelEngine(openRepository(dir), {
        inferenceThread,
        logger: (_, msg) => logs.push(msg),
      });
      try {
        const wasLive = await local.load("add", 1);
        await local.load("add", 2);
        const lowBefore = lowPriorityThreads();
        const lowTids = new Set(
          threadStats()
            .filter((t) => t.nice === LOW_PRIORITY)
            .map((t) => t.tid),
        );
        // Version 2 is released: live 2, and version 1 is its shadow.
        await writeFile(
          join(dir, "add", "config.json"),
          JSON.stringify({
            ...addConfig("add", { version_policy: { latest: { num_versions: 1 } } }),
            live_version: 2,
            shadow: { version: 1, percent: 10 },
          }),
        );
        const live = await local.reload("add");
        const shadow = await local.load("add", 1);
        // Each reopening says where and why.
        const reopenings = logs.filter((m) => m.startsWith("reopening"));
        expect(reopenings).toEqual([
          `reopening model 'add' version 2 on thread '${inferenceThread}' (1 worker): it is live now`,
          "reopening model 'add' version 1 on thread 'worker' (1 worker, at the lowest CPU priority): it only answers mirrors now",
        ]);
        // Opened again: in auto mode in its worker only, in worker mode in a new worker.
        expect(shadow).not.toBe(wasLive);
        expect(shadow).toBeInstanceOf(WorkerModel);
        if (inferenceThread === "auto") expect(live).toBeInstanceOf(HybridModel);
        const [mirrored] = await shadow.run(inputs(3));
        expect(values(mirrored)).toEqual([3 + 10, 22, 33, 4 + 3]);
        // Once the old sessions are released, the low-priority threads are the new shadow's only.
        expect(
          await eventually(() => threadStats().every((t) => t.nice !== LOW_PRIORITY || !lowTids.has(t.tid))),
        ).toBe(true);
        expect(lowPriorityThreads()).toBe(lowBefore);
        const [sum] = await live.run(inputs(3));
        expect(values(sum)).toEqual([3 + 10 + 1, 22 + 1, 33 + 1, 4 + 3 + 1]);
      } finally {
        await local.close();
        await rm(dir, { recursive: true, force: true });
      }
    }
  });

  it("places versions by mode and role", () => {
    const config = { shadow: { version: 2, percent: 10, argmax: [] } } as unknown as ModelConfig;
    // The engine's view of the model: its config and its live (default) version.
    const info = (defaultVersion = 1) => ({ config, defaultVersion });
    const normal = (thread: string, workers = 1) => ({ thread, workers, lowPriority: false });
    const shadow = { thread: "worker", workers: 1, lowPriority: true };
    expect(placementOf("auto", info(), 1)).toEqual(normal("auto"));
    expect(placementOf("auto", info(), 2)).toEqual(shadow);
    // On the main thread there is nothing to lower, and no worker.
    expect(placementOf("main", info(), 2)).toEqual(normal("main", 0));
    expect(placementOf("worker", info(), 2)).toEqual(shadow);
    expect(placementOf("worker", info(), 1)).toEqual(normal("worker"));
    // A shadow that is also the live version serves clients: both threads, normal priority.
    expect(placementOf("auto", info(2), 2)).toEqual(normal("auto"));
    // instance_group's count: the workers of a version that serves clients; a shadow keeps one.
    const pooled = {
      config: { ...config, instance_group: [{ count: 3, kind: "KIND_CPU" }] } as unknown as ModelConfig,
      defaultVersion: 1,
    };
    expect(placementOf("auto", pooled, 1)).toEqual(normal("auto", 3));
    expect(placementOf("worker", pooled, 1)).toEqual(normal("worker", 3));
    expect(placementOf("main", pooled, 1)).toEqual(normal("main", 0));
    expect(placementOf("auto", pooled, 2)).toEqual(shadow);
  });

  it("keeps a shadow that is the policy's default version on both threads: it serves clients", async () => {
    // No live_version: the latest version (2) is the default, and the shadow names it too.
    const dir = await mkdtemp(join(tmpdir(), "edge-infer-shadow-"));
    const config = {
      ...addConfig("add", { version_policy: { latest: { num_versions: 1 } } }),
      shadow: { version: 2, percent: 10 },
    };
    await writeModelDir(dir, "add", config, { 1: addModel(0), 2: addModel(1) });
    const local = new ModelEngine(openRepository(dir), { inferenceThread: "auto" });
    try {
      expect(await local.load("add", 2)).toBeInstanceOf(HybridModel);
    } finally {
      await local.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("ends its worker with the engine", async () => {
    const other = new ModelEngine(openRepository(repo.dir), { inferenceThread: "auto" });
    await other.load("add", 1);
    const count = inferenceWorkerCount();
    await other.close();
    expect(inferenceWorkerCount()).toBe(count - 1);
  });
});
