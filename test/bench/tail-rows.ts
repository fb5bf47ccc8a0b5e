/**
 * The tail under large JSON bodies (issue 14): ocr-det at 1×3×224×224 (a JSON body of about 3 MB
 * of full-precision floats, under the default body limit) at the highest concurrency of the run,
 * against the gateway's defaults. Its p99 ÷ p50 and its non-2xx count are what the issue judges.
 */
import * as ort from "onnxruntime-node";
import { benchRepository, modelPath, profiled, startGateway } from "./children";
import { measureHttp } from "./http-rows";
import type { MeasureOptions } from "./measure";
import { type BenchModel, inputData, inputTensor, jsonRequest } from "./payloads";
import { outputsOf, sessionOptions } from "./raw";
import { type Row, rowOf } from "./report";
import type { BenchSettings } from "./settings";

/** ocr-det at the size the tail target names. */
export const DET_224: BenchModel = { name: "ocr-det", item: [3, 224, 224], batches: [1] };
/** Answers each connection of the tail row has had before its window opens. */
export const TAIL_WARMUP_CALLS = 3;
/** The variant of the tail row in the table. */
export const TAIL_VARIANT = "json 224×224";

/** Measures the tail row; its outputs are checked against raw ORT's for the same input. */
export async function measureTailRow(
  s: BenchSettings,
  timing: Pick<MeasureOptions, "durationMs" | "warmupMs" | "maxRequests">,
): Promise<Row> {
  const session = await ort.InferenceSession.create(await modelPath(DET_224.name), sessionOptions(s.threads));
  const expected = await outputsOf(session, DET_224, inputData(DET_224, 1)).finally(() => session.release());
  const repo = await benchRepository([DET_224.name], { batching: false, cache: false, threads: s.threads });
  // The default body limit (the bench's other gateways raise it for ocr-det's 6 MB 320×320 body).
  const gateway = await startGateway(repo.uri, { ...profiled(s, "tail"), env: { MAX_BODY_BYTES: "" } });
  const c = Math.max(...s.concurrency);
  try {
    const m = await measureHttp(
      gateway.port,
      jsonRequest(DET_224.name, inputTensor(DET_224)),
      // Each request takes tens of ms alone, c of them queue: a window long enough for a p99, after
      // every connection had TAIL_WARMUP_CALLS answers (the tail under load, not the first seconds
      // of a fresh gateway; README, "The 224×224 tail").
      {
        concurrency: c,
        ...timing,
        durationMs: Math.max(timing.durationMs, 2000),
        warmupCalls: TAIL_WARMUP_CALLS,
      },
      { expected, tolerance: 1e-3, every: 8 },
    );
    const head = { model: DET_224.name, system: "edge-infer", batching: "off", items: 1 } as const;
    return rowOf({ ...head, variant: TAIL_VARIANT, concurrency: c }, m);
  } finally {
    await gateway.stop();
    await repo.cleanup();
  }
}
