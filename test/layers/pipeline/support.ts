/** Images built in tests: a PNG whose header promises far more pixels than its few bytes hold. */
import { deflateSync } from "node:zlib";

/** CRC-32 of PNG chunks (zlib.crc32 needs Node 20.15; package.json allows any Node 20). */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A complete, valid 1-bit greyscale PNG of `size`×`size` white pixels (about 150 KB for 30000). */
export function bombPng(size: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, filter 0, no interlace
  const row = Buffer.alloc(1 + Math.ceil(size / 8), 0xff);
  row[0] = 0; // filter: none
  const raw = Buffer.alloc(row.length * size);
  for (let y = 0; y < size; y++) row.copy(raw, y * row.length);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EngineBackend } from "../../../layers/backend";
import { ModelEngine } from "../../../layers/engine";
import { directoryFiles, PipelineBackend } from "../../../layers/pipeline";
import { decodeInferResponse, encodeInferRequest } from "../../../layers/protocol";
import type { Tensor } from "../../../layers/protocol/types";
import { FileRepository } from "../../../layers/repository";

/** The demo model repository and the OCR fixture folder. */
/** The demo ocr pipeline's steps, in order (config.json), as Server-Timing and `timing.steps` name them. */
export const OCR_STEPS = [
  "decode_image",
  "det_preprocess",
  "ocr-det",
  "db_postprocess",
  "crop_regions",
  "classify_angle",
  "recognize_text",
];

export const DEMO = fileURLToPath(new URL("../../../functions/models", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("../../fixtures/ocr/", import.meta.url));
/** Fixture name → its lines of text. */
export const EXPECTED: Record<string, string[]> = JSON.parse(
  readFileSync(`${FIXTURES}expected.json`, "utf8"),
);

/** A PipelineBackend over `root` whose steps run on a real engine of the same repository. */
export function pipelineOver(root: string, pipelines: string[]) {
  const repo = new FileRepository(root);
  const engine = new EngineBackend(new ModelEngine(repo));
  const pipeline = new PipelineBackend({
    models: pipelines,
    readConfig: (m) => repo.readConfig(m),
    files: directoryFiles(root),
    stepBackend: (m) => (pipelines.includes(m) ? undefined : engine),
  });
  return { pipeline, engine, close: () => engine.close() };
}

/** The image input of the ocr pipeline. */
export const imageInput = (bytes: Uint8Array): Tensor => ({
  name: "image",
  datatype: "BYTES",
  shape: [1],
  data: [bytes],
});

/** A BYTES tensor's elements as strings. */
export const strings = (t: Tensor | undefined): string[] =>
  ((t?.data ?? []) as Uint8Array[]).map((b) => new TextDecoder().decode(b));

/** POST init of an ocr infer request carrying `bytes` as a binary BYTES tensor (fetch or app.request). */
export function ocrRequest(bytes: Uint8Array, headers: Record<string, string> = {}): RequestInit {
  const encoded = encodeInferRequest({ inputs: [imageInput(bytes)] }, { binary: true });
  return {
    method: "POST",
    body: encoded.body as Uint8Array<ArrayBuffer>,
    headers: { "Inference-Header-Content-Length": String(encoded.headerLength), ...headers },
  };
}

/** The `text` output of an infer response (binary or JSON), and its decoded body (the error's when not 200). */
export async function ocrAnswer(res: Response): Promise<{ text: string[]; body: unknown }> {
  if (res.status !== 200) return { text: [], body: await res.json() };
  const out = decodeInferResponse(
    new Uint8Array(await res.arrayBuffer()),
    Number(res.headers.get("inference-header-content-length")) || undefined,
  );
  return { text: strings(out.outputs.find((o) => o.name === "text")), body: out };
}

/** Fixtures @gutenye/ocr-node is not compared on: it has no angle classifier (it reads "u umop apisdn"). */
export const REFERENCE_SKIPS: readonly string[] = ["rotated.png"];

/**
 * A reading's characters: lines joined by a space, whitespace dropped. The pipeline and the
 * reference differ in spaces between words, not in characters (see test/fixtures/ocr/README.md).
 */
export function characters(lines: readonly string[]): string {
  return lines.join(" ").replace(/\s+/g, "");
}
