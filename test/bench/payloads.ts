/**
 * What the bench sends: one deterministic image-like input per model, as a binary-extension or a
 * JSON protocol request, and the check that a response carries the right outputs.
 */
import { decodeInferResponse, encodeInferRequest, HEADER_LENGTH } from "../../layers/protocol";
import type { Tensor } from "../../layers/protocol/types";
import { postRequest, type RawResponse } from "./client";

/** A model the bench runs, and the input shape it sends (batch 1). */
export interface BenchModel {
  name: string;
  /** Input shape without the batch dimension. */
  item: number[];
  /** Batch sizes tried for raw ORT's best batched throughput (within the model's max_batch_size). */
  batches: number[];
}

/** `ocr-cls` (small) and `ocr-det` (heavy, at a modest 320×320). */
export const MODELS: Record<string, BenchModel> = {
  "ocr-cls": { name: "ocr-cls", item: [3, 48, 192], batches: [1, 4, 8, 16, 32] },
  "ocr-det": { name: "ocr-det", item: [3, 320, 320], batches: [1, 2, 4] },
};

/** Elements of one item. */
export const itemSize = (m: BenchModel): number => m.item.reduce((a, b) => a * b, 1);

/**
 * `rows` items of a smooth pattern in [-1, 1] (an image the models give non-trivial outputs for)
 * plus a little deterministic noise, so that every value is a full-precision float: JSON carries
 * them with up to 17 significant digits, as stock clients (numpy's tolist, tritonclient) send them.
 */
export function inputData(m: BenchModel, rows: number): Float32Array {
  const per = itemSize(m);
  const width = m.item[m.item.length - 1] ?? 1;
  const data = new Float32Array(per * rows);
  for (let i = 0; i < data.length; i++) {
    const x = i % width;
    const y = Math.floor(i / width) % 97;
    const noise = (((i * 2654435761) >>> 0) / 2 ** 32 - 0.5) * 0.02;
    data[i] = Math.sin(x * 0.07 + y * 0.13) * 0.8 + noise;
  }
  return data;
}

/** The protocol input tensor `x` of `rows` items. */
export function inputTensor(m: BenchModel, rows = 1): Tensor {
  return { name: "x", datatype: "FP32", shape: [rows, ...m.item], data: inputData(m, rows) };
}

/** The infer path of a model on the protocol's REST API. */
export const inferPath = (model: string): string => `/v2/models/${model}/infer`;

/** A prebuilt request, and where its last input float sits (to make each request unique). */
export interface BenchRequest {
  bytes: Buffer;
  /** Byte offset of the last float of `x` in `bytes` (binary requests only). */
  lastFloatAt: number | undefined;
}

/** A binary-extension request for `x`, asking for every output as binary. */
export function binaryRequest(model: string, x: Tensor, headers: Record<string, string> = {}): BenchRequest {
  const encoded = encodeInferRequest(
    { inputs: [x], parameters: { binary_data_output: true } },
    { binary: true },
  );
  const bytes = postRequest(inferPath(model), encoded.body, {
    "Content-Type": encoded.contentType,
    [HEADER_LENGTH]: String(encoded.headerLength ?? 0),
    ...headers,
  });
  return { bytes, lastFloatAt: bytes.length - 4 };
}

/** The JSON body of a request for `x`. */
export function jsonBody(x: Tensor): Uint8Array {
  return encodeInferRequest({ inputs: [x] }, { binary: false }).body;
}

/** A JSON request for `x` (JSON outputs back). */
export function jsonRequest(model: string, x: Tensor, headers: Record<string, string> = {}): BenchRequest {
  const bytes = postRequest(inferPath(model), jsonBody(x), {
    "Content-Type": "application/json",
    ...headers,
  });
  return { bytes, lastFloatAt: undefined };
}

/** Makes a binary request unique (a cache miss): its last input float encodes `seq`. In place. */
export function stamp(req: BenchRequest, seq: number): Buffer {
  if (req.lastFloatAt === undefined) throw new Error("only binary requests can be stamped");
  req.bytes.writeFloatLE(1 + seq * 1e-3, req.lastFloatAt);
  return req.bytes;
}

/** Throws unless the response is a 200; cheap enough to run on every response. */
export function checkStatus(r: RawResponse): void {
  if (r.status !== 200) {
    const text = r.body.toString("utf8", 0, Math.min(r.body.length, 300));
    throw new Error(`HTTP ${r.status}: ${text}`);
  }
}

/**
 * Decodes a response fully and compares its outputs with `expected` (raw ORT's, same input), within
 * `tolerance`; returns the largest difference. Throws when names, shapes or values disagree.
 */
export function checkOutputs(r: RawResponse, expected: readonly Tensor[], tolerance = 1e-4): number {
  checkStatus(r);
  const hl = r.headers.get(HEADER_LENGTH.toLowerCase());
  const body = new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.byteLength);
  const decoded = decodeInferResponse(body, hl === undefined ? undefined : Number(hl));
  let worst = 0;
  for (const want of expected) {
    const got = decoded.outputs.find((o) => o.name === want.name);
    if (got === undefined) throw new Error(`response lacks output "${want.name}"`);
    if (got.shape.join(",") !== want.shape.join(",")) {
      throw new Error(`output "${want.name}" has shape [${got.shape}], expected [${want.shape}]`);
    }
    const a = got.data as ArrayLike<number>;
    const b = want.data as ArrayLike<number>;
    for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs((a[i] ?? Number.NaN) - (b[i] ?? 0)));
    if (!(worst <= tolerance)) {
      throw new Error(`output "${want.name}" differs from raw ORT by ${worst} (tolerance ${tolerance})`);
    }
  }
  return worst;
}
