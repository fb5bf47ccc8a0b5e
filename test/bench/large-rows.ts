/**
 * A large input (issue 14, "close to raw ONNX Runtime"): ocr-det at 1×3×960×960 binary, one request
 * at a time, the size PaddleOCR's detector resizes a page to (`limit_side_len` 960, the pipeline's
 * default). Its tensors are past glibc's mmap ceiling: this row shows what the gateway pays for them
 * (README, "glibc's malloc", "The CPU arena": the demo's ocr-det runs with ORT's arena on since its
 * config says so) against raw ORT and the hand-written server (arena on).
 * The two servers take turns in windows, as the thread modes do.
 */
import { benchRepository, modelPath, profiled, startGateway, startHandwritten } from "./children";
import { measureHttp } from "./http-rows";
import { type Measurement, type MeasureOptions, turnOrder } from "./measure";
import { combined } from "./mode-rows";
import { type BenchModel, binaryRequest, inputTensor } from "./payloads";
import { measureRaw } from "./raw";
import { type Row, rowOf } from "./report";
import type { BenchSettings } from "./settings";

/** ocr-det at the detector's default page size. */
export const DET_960: BenchModel = { name: "ocr-det", item: [3, 960, 960], batches: [1] };
/** The size the large rows' variants name (report.ts matches rows of one size). */
export const LARGE_SIZE = "960×960";
/** Windows per server (1 when quick). */
const ROUNDS = 2;
/** 11 MB of binary FP32: over the bench gateways' 8 MiB body limit. */
const BODY_LIMIT = String(16 * 1024 * 1024);

/** Raw ORT, the hand-written server and the gateway (as `npm start` runs it) on DET_960 at c=1. */
export async function measureLargeRows(
  s: BenchSettings,
  timing: Pick<MeasureOptions, "durationMs" | "warmupMs" | "maxRequests">,
): Promise<Row[]> {
  const raw = await measureRaw(await modelPath(DET_960.name), DET_960, s.threads, timing);
  const head = { model: DET_960.name, concurrency: 1, items: 1 } as const;
  const rows = [
    rowOf({ ...head, system: "raw ORT", variant: `batch 1 ${LARGE_SIZE}`, batching: "-" }, raw.batch1),
  ];
  const repo = await benchRepository([DET_960.name], { batching: false, cache: false, threads: s.threads });
  const servers = [
    await startHandwritten([DET_960.name], s.threads),
    await startGateway(repo.uri, { ...profiled(s, "large"), env: { MAX_BODY_BYTES: BODY_LIMIT } }),
  ];
  try {
    const request = binaryRequest(DET_960.name, inputTensor(DET_960));
    const check = { expected: raw.expected, tolerance: 1e-3 };
    const rounds = s.quick ? 1 : ROUNDS;
    // Each request takes hundreds of ms: a window of the row's whole time per round, opened once the
    // connection has had 2 answers.
    const window = { ...timing, warmupCalls: 2 };
    const parts: Measurement[][] = servers.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const i of turnOrder(servers.length, r)) {
        const port = (servers[i] as (typeof servers)[number]).port;
        parts[i]?.push(await measureHttp(port, request, { concurrency: 1, ...window }, check));
      }
    }
    const variant = `binary ${LARGE_SIZE}`;
    rows.push(rowOf({ ...head, system: "hand-written", variant, batching: "-" }, combined(parts[0] ?? [])));
    rows.push(rowOf({ ...head, system: "edge-infer", variant, batching: "off" }, combined(parts[1] ?? [])));
    return rows;
  } finally {
    for (const server of servers) await server.stop();
    await repo.cleanup();
  }
}
