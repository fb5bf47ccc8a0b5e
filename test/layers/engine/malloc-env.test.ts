/**
 * glibc's malloc under `npm start`'s environment (package.json's start script, as the bench and the
 * README run it). ORT runs with its CPU arena off, so a run's large tensors are malloc'd and freed
 * every run; blocks over glibc's mmap ceiling (32 MiB) are mapped afresh each time, and every 4 KiB
 * page of them faults and is zeroed. `glibc.malloc.hugetlb=1` maps them with transparent huge pages:
 * one fault per 2 MiB. Real ORT on a model whose output is 64 MiB, in child processes with and
 * without the tunable.
 *
 * A worker thread (INFERENCE_THREAD=auto under load, and worker) mallocs from an arena of its own,
 * made of 64 MiB heaps, and glibc unmaps a heap of such an arena as soon as it is empty, whatever the
 * trim threshold: a run whose tensors spill into a fresh heap faults it in again on every run. That
 * was the bench's c=32 collapse (ocr-cls at 350 instead of 1250 items/s, the worker spending a third
 * of its time in page faults). `MALLOC_TOP_PAD_` of a heap's size keeps every heap mapped.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startCommand } from "../../bench/children";
import { buildModel } from "../../support/models";

/** Floats per run: a 64 MiB output, twice glibc's largest mmap threshold. */
const FLOATS = 16 * 1024 * 1024;
/** Floats per run in the worker: a 4 MiB output (1024 pages), served from the arena's heaps. */
const WORKER_FLOATS = 1024 * 1024;
/** MiB kept alive in the worker's arena before its runs: where its heaps end differs with each. */
const FILLS = [0, 16, 32, 48, 56, 62];

/** This host's glibc version ("2.36"), if its C library is glibc. */
const glibcVersion = (): string | undefined =>
  (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;

/** True when this host's glibc reads the tunable (2.35 on) and its kernel offers huge pages on request. */
function hugePagesOnRequest(): boolean {
  const [major = 0, minor = 0] = (glibcVersion() ?? "0.0").split(".").map(Number);
  if (major < 2 || (major === 2 && minor < 35)) return false;
  try {
    return !readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8").includes("[never]");
  } catch {
    return false;
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-infer-malloc-"));
  const io = (name: string) => ({ name, datatype: "FP32" as const, dims: ["n"] });
  const model = buildModel({
    inputs: [io("x")],
    outputs: [io("y")],
    nodes: [{ op: "Add", inputs: ["x", "x"], outputs: ["y"] }],
  });
  await writeFile(join(dir, "double.onnx"), model);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * Minor page faults per run of `y = x + x` over `floats` in a child under `env`
 * (test/support/run-faults.ts): on its main thread, or with `fills` in a worker thread per fill.
 */
async function faultsPerRun(
  env: Record<string, string | undefined>,
  floats: number,
  fills?: readonly number[],
): Promise<number[]> {
  const args = [join(ROOT, "test/support/run-faults.ts"), join(dir, "double.onnx"), String(floats)];
  if (fills !== undefined) args.push(fills.join(","));
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", ...args], {
    env,
    cwd: ROOT,
  });
  const lines = stdout.trim().split("\n");
  expect(lines).toHaveLength(fills?.length ?? 1);
  return lines.map((l) => (JSON.parse(l) as { faultsPerRun: number }).faultsPerRun);
}

describe("npm start's malloc environment", () => {
  it("keeps a worker thread's heaps mapped between runs", async () => {
    const { env } = await startCommand();
    expect(env.MALLOC_TOP_PAD_).toBe("67108864");
    const { MALLOC_TOP_PAD_: _, ...inherited } = process.env;
    const { MALLOC_TOP_PAD_: __, ...withoutPad } = env;
    const plain = await faultsPerRun({ ...inherited, ...withoutPad }, WORKER_FLOATS, FILLS);
    const padded = await faultsPerRun({ ...inherited, ...env }, WORKER_FLOATS, FILLS);
    // Without the pad, at some fill the 4 MiB output lands in a heap that is unmapped after each run.
    if (glibcVersion() !== undefined) expect(Math.max(...plain)).toBeGreaterThan(WORKER_FLOATS / 1024 / 4);
    // With it, no fill faults in more than a sixteenth of the output per run.
    expect(Math.max(...padded)).toBeLessThan(WORKER_FLOATS / 1024 / 16);
  }, 60_000);

  it("maps a run's large tensors with huge pages where glibc and the kernel allow it", async () => {
    const { env } = await startCommand();
    expect(env.GLIBC_TUNABLES).toBe("glibc.malloc.hugetlb=1");
    const { GLIBC_TUNABLES: _, ...inherited } = process.env;
    const { GLIBC_TUNABLES: __, ...withoutTunable } = env;
    const [plain = 0] = await faultsPerRun({ ...inherited, ...withoutTunable }, FLOATS);
    const [tuned = 0] = await faultsPerRun({ ...inherited, ...env }, FLOATS);
    // Without it, every 4 KiB page of the 64 MiB output (and ORT's copy out of it) faults each run.
    expect(plain).toBeGreaterThan(FLOATS / 1024 / 2);
    if (hugePagesOnRequest()) expect(tuned * 20).toBeLessThan(plain);
    // An older glibc ignores the tunable, a kernel without huge pages ignores the advice: no worse.
    else expect(tuned).toBeLessThan(plain * 1.5);
  }, 60_000);
});
