/**
 * A child process for the malloc test (test/layers/engine/malloc-env.test.ts): in a worker thread
 * (which mallocs from an arena of its own, not the main thread's), keeps `fill` MiB of 1 MiB blocks
 * alive, then runs the model at argv[2] (`y = x + x` over FP32 [n]) on argv[3] floats with the
 * engine's session options, and prints the minor page faults and milliseconds per run, after one
 * unmeasured run, as JSON on stdout. argv[4] lists the fills to try, comma-separated; one line each.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { ortOptions } from "../../layers/engine/session";

interface Job {
  path: string;
  n: number;
  fill: number;
}

async function measure({
  path,
  n,
  fill,
}: Job): Promise<{ fill: number; faultsPerRun: number; msPerRun: number }> {
  // Allocated here, so from this thread's arena; kept alive until the runs are done.
  const kept = Array.from({ length: fill }, () => Buffer.allocUnsafeSlow(1024 * 1024).fill(1));
  const session = await ort.InferenceSession.create(
    path,
    ortOptions({ graph_optimization_level: "all", execution_providers: [], allow_cpu_fallback: false }, [
      "cpu",
    ]),
  );
  const x = new ort.Tensor("float32", new Float32Array(n).fill(1), [n]);
  (await session.run({ x })).y?.dispose();
  const runs = 20;
  const before = process.resourceUsage().minorPageFault;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const { y } = await session.run({ x });
    if (y?.dims[0] !== n) throw new Error("unexpected output");
    y.dispose();
  }
  const msPerRun = (performance.now() - t0) / runs;
  const faultsPerRun = (process.resourceUsage().minorPageFault - before) / runs;
  await session.release();
  if (kept.length !== fill) throw new Error("fill lost");
  return { fill, faultsPerRun, msPerRun };
}

if (isMainThread) {
  const [path = "", count = "0", fills = "0"] = process.argv.slice(2);
  for (const fill of fills.split(",").map(Number)) {
    // A fresh thread per fill: each gets an arena of its own to fill.
    // Under tsx on Node 20 a worker has no TypeScript loader of its own: register tsx first.
    const tsxDir = dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
    const tsx = pathToFileURL(join(tsxDir, "dist/esm/api/index.mjs")).href;
    const code = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); });`;
    const worker = new Worker(code, { eval: true, workerData: { path, n: Number(count), fill } });
    const result = await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
} else {
  parentPort?.postMessage(await measure(workerData as Job));
}
