/**
 * Messages between the engine and an inference worker (one ORT session per worker thread), and
 * the copies that make tensors safe to post: inputs are copied into buffers the message owns.
 */
import type { InferenceSession } from "onnxruntime-node";
import { TYPED_ARRAY } from "../protocol/datatypes";
import type { Tensor } from "../protocol/types";
import type { SessionOptions } from "../repository/types";
import type { EngineLogger } from "./types";

/** What a worker is started with (its workerData). */
export interface WorkerInit {
  path: string;
  optimization: SessionOptions;
  /** Every input's shape is fixed (fixedInputShapes): ORT's memory pattern without a bound. */
  fixedShapes?: boolean;
  model: string;
  version: number;
  /**
   * The version only answers mirrors (a shadow): its thread runs at the lowest CPU priority, so that
   * on a machine whose cores are busy with client requests its runs take only what they leave.
   */
  lowPriority?: boolean;
}

/** Engine → worker. */
export type ToWorker =
  | { type: "run"; id: number; inputs: Tensor[]; outputs: string[] }
  /** Release the session, answer "released". */
  | { type: "release" };

/** Why a run failed: bad input (refused before ORT), ORT's own refusal, or anything else. */
export type RunFailure = "input" | "ort" | "internal";

/** One input/output of the session, as ORT describes it (a cloneable copy). */
export type ValueMeta = InferenceSession.ValueMetadata;

/** Worker → engine. */
export type FromWorker =
  | { type: "ready"; inputMetadata: ValueMeta[]; outputMetadata: ValueMeta[] }
  /** `reason`: a public reason for the failure, when there is one (an unavailable provider). */
  | { type: "load-failed"; error: string; reason?: string }
  | { type: "log"; level: Parameters<EngineLogger>[0]; msg: string; fields?: Record<string, unknown> }
  | { type: "result"; id: number; outputs: Tensor[] }
  | { type: "run-failed"; id: number; failure: RunFailure; error: string }
  | { type: "released" };

/** A plain copy of ORT's metadata (its objects may carry more than structured clone keeps). */
export function copyMeta(m: ValueMeta): ValueMeta {
  if (!m.isTensor) return { name: m.name, isTensor: false };
  return { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] };
}

/**
 * Copies of the inputs in buffers of their own, and those buffers. The caller's arrays may be
 * views into a larger request body that others still read: they are never transferred, and
 * cloning a view would copy its whole underlying buffer.
 */
export function packInputs(inputs: readonly Tensor[]): { tensors: Tensor[]; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const tensors = inputs.map((t): Tensor => {
    if (t.datatype === "BYTES") {
      const items = t.data as Uint8Array[];
      let total = 0;
      for (const b of items) total += b.byteLength;
      const all = new Uint8Array(total);
      let at = 0;
      // Views into one buffer: structured clone keeps them sharing it.
      const data = items.map((b) => {
        all.set(b, at);
        at += b.byteLength;
        return all.subarray(at - b.byteLength, at);
      });
      transfer.push(all.buffer);
      return { name: t.name, datatype: t.datatype, shape: [...t.shape], data };
    }
    const src = t.data as Exclude<Tensor["data"], Uint8Array[]>;
    const copy = new TYPED_ARRAY[t.datatype](src.length);
    (copy as { set(a: ArrayLike<number | bigint>): void }).set(src);
    transfer.push(copy.buffer as ArrayBuffer);
    return { name: t.name, datatype: t.datatype, shape: [...t.shape], data: copy };
  });
  return { tensors, transfer };
}

/** The distinct transferable buffers under `tensors`' data (shared memory excluded). */
export function buffersOf(tensors: readonly Tensor[]): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  const add = (v: ArrayBufferView) => {
    if (v.buffer instanceof ArrayBuffer) seen.add(v.buffer);
  };
  for (const t of tensors) {
    if (Array.isArray(t.data)) for (const b of t.data) add(b);
    else add(t.data as ArrayBufferView);
  }
  return [...seen];
}
