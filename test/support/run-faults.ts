/**
 * A child process for the malloc test (test/layers/engine/malloc-env.test.ts): runs the model at
 * argv[2] (`y = x + x` over FP32 [n]) with the engine's session options on argv[3] floats, and
 * prints the minor page faults per run, after one unmeasured run, as a JSON line on stdout.
 *
 * With argv[4], a comma-separated list of fills in MiB, it runs in a worker thread instead (which
 * mallocs from an arena of its own, not the main thread's), a fresh one per fill, each first keeping
 * that many 1 MiB blocks alive in its arena: one line per fill.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { ortOptions } from "../../layers/engine/session";
import { typeScriptWorker } from "../../layers/engine/worker-thread";
import { cpuOptions } from "./session-options";

interface Job {
  path: string;
  n: number;
  /** MiB allocated on this thread and kept alive over the runs. */
  fill: number;
  runs: number;
}

async function faultsPerRun({ path, n, fill, runs }: Job): Promise<{ fill: number; faultsPerRun: number }> {
  const kept = Array.from({ length: fill }, () => Buffer.allocUnsafeSlow(1024 * 1024).fill(1));
  const session = await ort.InferenceSession.create(path, ortOptions(cpuOptions(), ["cpu"]));
  const x = new ort.Tensor("float32", new Float32Array(n).fill(1), [n]);
  (await session.run({ x })).y?.dispose();
  const before = process.resourceUsage().minorPageFault;
  for (let i = 0; i < runs; i++) {
    const { y } = await session.run({ x });
    if (y?.dims[0] !== n) throw new Error("unexpected output");
    y.dispose();
  }
  const faults = (process.resourceUsage().minorPageFault - before) / runs;
  await session.release();
  if (kept.length !== fill) throw new Error("fill lost");
  return { fill, faultsPerRun: faults };
}

const print = (result: object) => process.stdout.write(`${JSON.stringify(result)}\n`);

if (!isMainThread) {
  parentPort?.postMessage(await faultsPerRun(workerData as Job));
} else {
  const [path = "", count = "0", fills] = process.argv.slice(2);
  const n = Number(count);
  if (fills === undefined) print(await faultsPerRun({ path, n, fill: 0, runs: 5 }));
  else {
    for (const fill of fills.split(",").map(Number)) {
      const worker = typeScriptWorker(import.meta.url, { path, n, fill, runs: 20 } satisfies Job);
      print(
        await new Promise<object>((resolve, reject) => {
          worker.once("message", resolve);
          worker.once("error", reject);
        }),
      );
      await worker.terminate();
    }
  }
}
