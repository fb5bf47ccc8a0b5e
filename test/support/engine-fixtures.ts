/** Model and tensor fixtures shared by the engine tests (main thread and inference worker alike). */
import { toHalf } from "../../layers/protocol/datatypes";
import type { Tensor } from "../../layers/protocol/types";
import { addModel, buildModel, type IDENTITY_DATATYPES, modelConfig, writeModelDir } from "./models";

/** Two extreme values of every fixed-size datatype, for identityAllModel's round trip. */
export const IDENTITY_SAMPLES: Record<(typeof IDENTITY_DATATYPES)[number], Tensor["data"]> = {
  BOOL: Uint8Array.from([1, 0]),
  UINT8: Uint8Array.from([0, 255]),
  INT8: Int8Array.from([-128, 127]),
  UINT16: Uint16Array.from([0, 65535]),
  INT16: Int16Array.from([-32768, 32767]),
  UINT32: Uint32Array.from([0, 4294967295]),
  INT32: Int32Array.from([-2147483648, 2147483647]),
  UINT64: BigUint64Array.from([0n, 2n ** 64n - 1n]),
  INT64: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]),
  FP16: Uint16Array.from([toHalf(-0.25), 0x7c00]),
  FP32: Float32Array.from([1.5, -3.25e30]),
  FP64: Float64Array.from([Math.PI, -1e300]),
};

/** x FP32 [n] reshaped to [2, 2]: runs for n = 4; ORT refuses other sizes (the warm-up's n = 1 among them). */
export function reshapeModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: "x", datatype: "FP32", dims: ["n"] }],
    outputs: [{ name: "y", datatype: "FP32", dims: [2, 2] }],
    nodes: [{ op: "Reshape", inputs: ["x", "shape"], outputs: ["y"] }],
    initializers: [
      {
        name: "shape",
        datatype: "INT64",
        dims: [2],
        raw: new Uint8Array(BigInt64Array.from([2n, 2n]).buffer),
      },
    ],
  });
}

/**
 * Writes the models whose load goes its own way into `dir`: `reshape` (reshapeModel: the warm-up
 * fails, later runs of 4 elements work), `gpu-add` (CUDA, else CPU by allow_cpu_fallback) and
 * `gpu-only` (CUDA or not ready), the last two addModel(0) batching up to 8.
 */
export async function writeLoadEdgeModels(dir: string): Promise<void> {
  await writeModelDir(dir, "reshape", modelConfig("reshape"), { 1: reshapeModel() });
  const cuda = { max_batch_size: 8, execution_providers: ["cuda" as const, "cpu" as const] };
  await writeModelDir(dir, "gpu-add", modelConfig("gpu-add", { ...cuda, allow_cpu_fallback: true }), {
    1: addModel(0),
  });
  await writeModelDir(dir, "gpu-only", modelConfig("gpu-only", cuda), { 1: addModel(0) });
}
