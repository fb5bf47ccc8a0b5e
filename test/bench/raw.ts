/**
 * The limit: onnxruntime-node in this process, no HTTP, no protocol, the session options the served
 * models get (graph optimisation "all", the bench's intra-op threads, CPU).
 */
import * as ort from "onnxruntime-node";
import type { Tensor } from "../../layers/protocol/types";
import { type Measurement, type MeasureOptions, measure } from "./measure";
import { type BenchModel, inputData } from "./payloads";

/** The session options every system of the bench runs with. */
export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: "all",
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  };
}

/** Raw ORT figures of one model: batch 1, and each batch size tried. */
export interface RawResult {
  batch1: Measurement;
  /** Per batch size; `rps` counts runs, so items/s = rps × batch. */
  byBatch: Array<{ batch: number; m: Measurement }>;
  /** The batch size with the best items/s. */
  best: { batch: number; m: Measurement };
  /** The model's outputs for the bench's batch-1 input: what served responses are checked against. */
  expected: Tensor[];
}

/** Runs `model` at batch 1 and at each of its batch sizes, sequentially, as a user's loop would. */
export async function measureRaw(
  path: string,
  model: BenchModel,
  threads: number,
  timing: Pick<MeasureOptions, "durationMs" | "warmupMs" | "maxRequests">,
): Promise<RawResult> {
  const session = await ort.InferenceSession.create(path, sessionOptions(threads));
  try {
    const run = async (rows: number, data: Float32Array) => {
      const result = await session.run({ x: new ort.Tensor("float32", data, [rows, ...model.item]) });
      for (const v of Object.values(result)) v.dispose();
    };
    const one = inputData(model, 1);
    const expected = await outputsOf(session, model, one);
    const batch1 = await measure({ concurrency: 1, ...timing }, () => run(1, one).then(() => undefined));
    const byBatch: RawResult["byBatch"] = [];
    for (const batch of model.batches) {
      const data = batch === 1 ? one : inputData(model, batch);
      // Shorter windows for the sweep: only its best throughput is reported.
      const m = await measure({ concurrency: 1, ...timing, durationMs: timing.durationMs / 2 }, () =>
        run(batch, data).then(() => undefined),
      );
      byBatch.push({ batch, m });
    }
    const best = byBatch.reduce((a, b) => (b.m.rps * b.batch > a.m.rps * a.batch ? b : a), {
      batch: 1,
      m: batch1,
    });
    return { batch1, byBatch, best, expected };
  } finally {
    await session.release();
  }
}

/** The model's outputs for `data` (batch 1), copied out of ORT. */
export async function outputsOf(
  session: ort.InferenceSession,
  model: BenchModel,
  data: Float32Array,
): Promise<Tensor[]> {
  const result = await session.run({ x: new ort.Tensor("float32", data, [1, ...model.item]) });
  return Object.entries(result).map(([name, t]) => ({
    name,
    datatype: "FP32",
    shape: [...t.dims],
    data: Float32Array.from(t.data as Float32Array),
  }));
}
