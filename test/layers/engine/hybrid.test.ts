import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelEngine } from "../../../layers/engine/engine";
import { CONCURRENCY_HOLD_MS, HybridModel } from "../../../layers/engine/hybrid-model";
import { inferenceWorkerCount } from "../../../layers/engine/worker-thread";
import { openRepository } from "../../../layers/repository";
import { makeTestRepository } from "../../support/models";
import { fp32, values } from "../../support/tensors";

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

  it("ends its worker with the engine", async () => {
    const other = new ModelEngine(openRepository(repo.dir), { inferenceThread: "auto" });
    await other.load("add", 1);
    const count = inferenceWorkerCount();
    await other.close();
    expect(inferenceWorkerCount()).toBe(count - 1);
  });
});
