/**
 * Issue 14's bench output from given rows: the targets (each PASS or MISS on what it names), the
 * thread-mode table with memory, the README table, and BENCH_QUICK. Nothing here times anything.
 */
import { describe, expect, it } from "vitest";
import { type ColdStart, coldTable, coldTarget } from "./cold-rows";
import { LARGE_SIZE } from "./large-rows";
import { combined, type Mode, modeTable, modeVariant } from "./mode-rows";
import { perfTargets } from "./perf-targets";
import { readmeTable } from "./readme-table";
import { type Row, withRatios } from "./report";
import { readSettings } from "./settings";
import { TAIL_VARIANT } from "./tail-rows";

const row = (over: Partial<Row>): Row => ({
  model: "ocr-cls",
  system: "edge-infer",
  variant: "binary",
  batching: "off",
  concurrency: 1,
  items: 1,
  requests: 100,
  errors: 0,
  rps: 100,
  itemsPerSec: 100,
  p50Ms: 1,
  p99Ms: 2,
  ...over,
});

describe("ratios by input size", () => {
  it("compares a sized row with the raw and hand-written rows of its size only", () => {
    const det = (over: Partial<Row>) => row({ model: "ocr-det", ...over });
    const rows = withRatios([
      det({ system: "raw ORT", variant: "batch 1", batching: "-", p50Ms: 16 }),
      det({ system: "raw ORT", variant: "best batch (1)", batching: "-", itemsPerSec: 60 }),
      det({ system: "hand-written", variant: "binary", batching: "-", itemsPerSec: 50 }),
      det({ system: "raw ORT", variant: `batch 1 ${LARGE_SIZE}`, batching: "-", p50Ms: 150 }),
      det({
        system: "hand-written",
        variant: `binary ${LARGE_SIZE}`,
        batching: "-",
        itemsPerSec: 5,
        p50Ms: 165,
      }),
      det({ variant: `binary ${LARGE_SIZE}`, itemsPerSec: 4, p50Ms: 180 }),
      det({ variant: "binary", itemsPerSec: 45, p50Ms: 18 }),
      det({ variant: TAIL_VARIANT, concurrency: 32, itemsPerSec: 20 }),
      det({ variant: "MISS L1 memory", system: "edge-infer cache", itemsPerSec: 25 }),
    ]);
    expect(rows[5]).toMatchObject({ vsHand: 4 / 5, vsRaw: 180 / 150, deltaP50Ms: 30 });
    expect(rows[6]).toMatchObject({ vsHand: 45 / 50, vsRaw: 18 / 16, deltaP50Ms: 2 });
    // No hand-written JSON server at 224×224, no raw ORT row of that size: no ratio at all.
    expect(rows[7]?.vsHand).toBeUndefined();
    expect(rows[7]?.vsRaw).toBeUndefined();
    expect(rows[8]?.vsHand).toBe(25 / 50);
    expect(rows[4]?.vsRaw).toBe(165 / 150);
    expect(rows[3]?.vsRaw).toBe(1);
  });
});

describe("issue 14 targets", () => {
  it("judges the lone request's tail, c=32 against the hand-written server and the large-JSON tail", () => {
    const rows = [
      row({ p50Ms: 1, p99Ms: 3.5 }),
      row({ system: "hand-written", batching: "-", concurrency: 32, itemsPerSec: 200 }),
      row({ concurrency: 32, itemsPerSec: 210 }),
      row({ concurrency: 32, batching: "on", itemsPerSec: 190 }),
      row({ model: "ocr-det", variant: TAIL_VARIANT, concurrency: 32, p50Ms: 100, p99Ms: 250 }),
    ];
    const byName = new Map(perfTargets(rows).map((t) => [t.name, t]));
    expect(byName.get("ocr-cls c=1 binary: p99 ≤ 3× p50 (batching off)")).toMatchObject({
      pass: false,
      measured: "p99 3.50 ms, p50 1.00 ms (3.50×)",
    });
    expect(
      byName.get("ocr-cls c=32 binary, batching off: throughput ≥ 1.0× the hand-written server")?.pass,
    ).toBe(true);
    expect(
      byName.get("ocr-cls c=32 binary, batching on: throughput ≥ 1.0× the hand-written server")?.pass,
    ).toBe(false);
    expect(byName.get("ocr-det 1×3×224×224 JSON c=32: p99 ≤ 3× p50, every answer 2xx")?.pass).toBe(true);
    expect(byName.get("every edge-infer row: only 2xx answers (no load shed)")?.pass).toBe(true);
  });

  it("judges c=32 on the batching a model ships with, naming the other setting's ratio", () => {
    const rows = [
      row({ system: "hand-written", batching: "-", concurrency: 32, itemsPerSec: 200 }),
      row({ concurrency: 32, itemsPerSec: 150 }),
      row({ concurrency: 32, batching: "on", itemsPerSec: 220 }),
    ];
    const c32 = (shipped: Record<string, string>) =>
      perfTargets(rows, shipped).filter((t) => t.name.includes("c=32"));
    expect(c32({ "ocr-cls": "on" })).toEqual([
      {
        name: "ocr-cls c=32 binary, batching on (as shipped): throughput ≥ 1.0× the hand-written server",
        measured: "220.00 vs 200.00 items/s (1.10×; batching off: 0.75×)",
        wanted: "≥ 1.00×",
        pass: true,
      },
    ]);
    expect(c32({ "ocr-cls": "off" }).map((t) => t.pass)).toEqual([false]);
    expect(c32({}).map((t) => t.pass)).toEqual([false, true]);
  });

  it("fails the no-error target on a row with errors or none answered, and names it", () => {
    const rows = [row({ errors: 3 }), row({ concurrency: 8, requests: 0 })];
    const t = perfTargets(rows).find((x) => x.name.startsWith("every edge-infer row"));
    expect(t).toMatchObject({
      pass: false,
      measured: "ocr-cls binary off c=1: 3/100; ocr-cls binary off c=8: 0/0",
    });
  });

  it("compares the default thread mode with the better of main and worker at each concurrency", () => {
    const mode = (m: Mode, c: number, itemsPerSec: number) =>
      row({ variant: modeVariant(m), concurrency: c, itemsPerSec });
    const rows = [
      mode("default", 1, 100),
      mode("main", 1, 99),
      mode("worker", 1, 80),
      mode("default", 8, 120),
      mode("main", 8, 100),
      mode("worker", 8, 130),
      // Two workers are a config.json setting (instance_group), not a thread mode: shown, not judged.
      mode("worker-2", 8, 200),
    ];
    const goals = perfTargets(rows).filter((t) => t.name.includes("thread mode"));
    expect(goals.map((g) => [g.pass, g.measured])).toEqual([
      [true, "100.00 vs 99.00 items/s (main; 1.01×)"],
      [false, "120.00 vs 130.00 items/s (worker; 0.92×)"],
    ]);
    const table = modeTable(rows, [
      { mode: "default", rssMiB: 250.4 },
      { mode: "main", rssMiB: 200 },
      { mode: "worker", rssMiB: Number.NaN },
      { mode: "worker-2", rssMiB: 300 },
    ]);
    expect(table.split("\n")).toEqual([
      "| ocr-cls binary, batching off | c=1 items/s (p50 / p99 ms) | c=8 items/s (p50 / p99 ms) | RSS MiB |",
      "| --- | --- | --- | --- |",
      "| binary, thread default | 100.0 (1.00 / 2.00) | 120.0 (1.00 / 2.00) | 250 |",
      "| binary, INFERENCE_THREAD=main | 99.0 (1.00 / 2.00) | 100.0 (1.00 / 2.00) | 200 |",
      "| binary, INFERENCE_THREAD=worker | 80.0 (1.00 / 2.00) | 130.0 (1.00 / 2.00) |  |",
      "| binary, INFERENCE_THREAD=worker, instance_group 2 |  | 200.0 (1.00 / 2.00) | 300 |",
    ]);
  });
});

describe("thread-mode rounds", () => {
  it("combines a mode's rounds: counts summed, rate over the summed time, median percentiles", () => {
    const part = (requests: number, seconds: number, p50Ms: number) => ({
      requests,
      errors: 0,
      firstError: undefined,
      seconds,
      rps: requests / seconds,
      p50Ms,
      p99Ms: 2 * p50Ms,
      meanMs: p50Ms,
      tags: { BYPASS: requests },
    });
    expect(combined([part(10, 1, 5), part(30, 1, 1), part(20, 2, 3)])).toMatchObject({
      requests: 60,
      seconds: 4,
      rps: 15,
      p50Ms: 3,
      p99Ms: 6,
      tags: { BYPASS: 60 },
    });
  });
});

describe("cold start", () => {
  it("sums the split, and judges spawn → first answer against the limit plus 150 ms", () => {
    const limit = { nodeMs: 40, downloadMs: 60, createMs: 100, totalMs: 200 };
    const c: ColdStart = {
      importMs: 90,
      fetchMs: 70,
      sessionMs: 110,
      warmupMs: 20,
      firstRunMs: 30,
      totalMs: 320,
      limit,
    };
    expect(coldTarget(c)).toMatchObject({ pass: true, measured: "320 ms vs limit 200 ms (+120 ms)" });
    expect(coldTarget({ ...c, totalMs: 351 }).pass).toBe(false);
    expect(coldTable(c).split("\n")[2]).toBe("| edge-infer, ms | 90 | 70 | 110 | 20 | 30 | 320 |");
  });
});

describe("README table and quick mode", () => {
  it("joins a row group's concurrency levels as the README shows them", () => {
    const rows = [
      row({ concurrency: 1, itemsPerSec: 612.4, p50Ms: 1.52, p99Ms: 2.9, vsHand: 0.97 }),
      row({ concurrency: 8, itemsPerSec: 55.55, p50Ms: 140.2, p99Ms: 13.25, vsHand: 1.1 }),
    ];
    // No raw ORT rows here: the "vs raw" cells stay empty.
    expect(readmeTable(rows).split("\n")[2]).toBe(
      "| ocr-cls | edge-infer | binary | off | 1 / 8 | 612 / 55.5 | 1.52 / 140 | 2.90 / 13.3 |  /  | 0.97 / 1.10 |",
    );
  });

  it("BENCH_QUICK shortens the rows and skips the cache rows; explicit settings still win", () => {
    expect(readSettings({ BENCH_QUICK: "1" }, [])).toMatchObject({
      quick: true,
      seconds: 0.5,
      warmupSeconds: 0.2,
      cache: false,
      modes: true,
      tail: true,
    });
    expect(readSettings({ BENCH_QUICK: "1", BENCH_SECONDS: "2" }, ["--cache=on"])).toMatchObject({
      seconds: 2,
      cache: true,
    });
  });
});
