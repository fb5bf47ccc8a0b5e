/** Small tools shared by the batching tests: tensors, a real arithmetic run function, a gate. */
import type { RunBatch } from "../../../layers/batching";
import type { Tensor } from "../../../layers/protocol/types";

/** An FP32 tensor of `rows` rows of `width` values, row r holding base + r*width + column. */
export function fp32(name: string, rows: number, width: number, base: number): Tensor {
  const data = new Float32Array(rows * width);
  for (let i = 0; i < data.length; i++) data[i] = base + i;
  return { name, datatype: "FP32", shape: [rows, width], data };
}

/** Records every call; output "y" = input "x" * 2, row by row (shape and datatype kept, FP32/FP64). */
export function doubler(): { run: RunBatch; calls: Tensor[][] } {
  const calls: Tensor[][] = [];
  const run: RunBatch = async (inputs) => {
    calls.push(inputs);
    const x = inputs.find((t) => t.name === "x");
    if (x?.data instanceof Float32Array) {
      return [{ name: "y", datatype: "FP32", shape: [...x.shape], data: x.data.map((v) => v * 2) }];
    }
    if (x?.data instanceof Float64Array) {
      return [{ name: "y", datatype: "FP64", shape: [...x.shape], data: x.data.map((v) => v * 2) }];
    }
    throw new Error("doubler needs an FP32 or FP64 input x");
  };
  return { run, calls };
}

/**
 * Wraps a run function so that its first `held` calls (default 1) wait for `open()`: requests pile
 * up meanwhile.
 */
export function gated(inner: RunBatch, held = 1): { run: RunBatch; open: () => void } {
  const g = gate();
  let left = held;
  const run: RunBatch = async (inputs, outputs) => {
    if (left > 0) {
      left--;
      await g.wait;
    }
    return inner(inputs, outputs);
  };
  return { run, open: g.open };
}

/** A promise that a test opens by hand: lets a batch "run" until the test says so. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** Lets queued microtasks and one turn of the event loop run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Settles a promise into a plain record, so that pending/rejected states can be asserted. */
export function track<T>(p: Promise<T>): {
  state: "pending" | "fulfilled" | "rejected";
  value?: T;
  error?: unknown;
} {
  const r: { state: "pending" | "fulfilled" | "rejected"; value?: T; error?: unknown } = { state: "pending" };
  p.then(
    (value) => {
      r.state = "fulfilled";
      r.value = value;
    },
    (error: unknown) => {
      r.state = "rejected";
      r.error = error;
    },
  );
  return r;
}
