/** Small tensor builders shared by the engine tests. */
import type { Tensor } from "../../layers/protocol/types";

/** An FP32 tensor. */
export const fp32 = (name: string, shape: number[], values: ArrayLike<number>): Tensor => ({
  name,
  datatype: "FP32",
  shape,
  data: Float32Array.from(values),
});

/** UTF-8 bytes of a string (a BYTES element). */
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The elements of an FP32 tensor as numbers ([] when absent). */
export const values = (t: Tensor | undefined): number[] => [...((t?.data ?? []) as Float32Array)];
