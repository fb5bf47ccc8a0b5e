/**
 * A child process for the malloc test (test/layers/engine/malloc-env.test.ts): runs the model at
 * argv[2] (`y = x + x` over FP32 [n]) with the engine's session options on argv[3] floats, and
 * prints the minor page faults per run, after one unmeasured run, as JSON on stdout.
 */
import * as ort from "onnxruntime-node";
import { ortOptions } from "../../layers/engine/session";

const [path, count] = process.argv.slice(2);
const n = Number(count);
const session = await ort.InferenceSession.create(
  path ?? "",
  ortOptions({ graph_optimization_level: "all", execution_providers: [], allow_cpu_fallback: false }, [
    "cpu",
  ]),
);
const x = new ort.Tensor("float32", new Float32Array(n).fill(1), [n]);
await session.run({ x });
const runs = 5;
const before = process.resourceUsage().minorPageFault;
for (let i = 0; i < runs; i++) {
  const { y } = await session.run({ x });
  if (y?.dims[0] !== n) throw new Error("unexpected output");
  y.dispose();
}
const faultsPerRun = (process.resourceUsage().minorPageFault - before) / runs;
await session.release();
process.stdout.write(JSON.stringify({ faultsPerRun }));
