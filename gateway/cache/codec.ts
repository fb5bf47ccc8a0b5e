/**
 * The stored form of a cached result is the protocol's own binary infer response (layers/protocol:
 * a JSON header, then every output's raw bytes) behind an 8-byte prefix: `"EIC2"` (so an entry
 * of another format is a miss, not a misread) and the header's length as a u32 LE (what
 * `Inference-Header-Content-Length` carries over HTTP). No framing of the cache's own.
 */
import { decodeInferResponse, encodeInferResponse } from "../../layers/protocol";
import type { CachedResult } from "./types";

const MAGIC = [0x45, 0x49, 0x43, 0x32]; // "EIC2"; "EIC1" entries (a framing of the cache's own) are misses
const PREFIX = MAGIC.length + 4;

/** Encodes a result for a cache store. */
export function encodeResult(result: CachedResult): Uint8Array {
  const { body, headerLength } = encodeInferResponse(
    { model_name: "", model_version: result.version, parameters: result.parameters, outputs: result.outputs },
    "all",
  );
  const out = new Uint8Array(PREFIX + body.byteLength);
  out.set(MAGIC, 0);
  // No outputs: the body is JSON alone, its whole length.
  new DataView(out.buffer).setUint32(MAGIC.length, headerLength ?? body.byteLength, true);
  out.set(body, PREFIX);
  return out;
}

/** Decodes what `encodeResult` produced; throws on a truncated or foreign entry. */
export function decodeResult(bytes: Uint8Array): CachedResult {
  if (bytes.byteLength < PREFIX || MAGIC.some((m, i) => bytes[i] !== m)) throw corrupt("bad magic");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  if (PREFIX + headerLength > bytes.byteLength) throw corrupt("truncated header");
  // A copy, so returned tensors never alias the cached bytes (a Node Buffer's slice() is a view).
  const body = Uint8Array.prototype.slice.call(bytes, PREFIX);
  let res: ReturnType<typeof decodeInferResponse>;
  try {
    res = decodeInferResponse(body, headerLength);
  } catch (e) {
    throw corrupt(e instanceof Error ? e.message : String(e));
  }
  if (res.model_version === undefined) throw corrupt("no version");
  return {
    version: res.model_version,
    outputs: res.outputs,
    ...(res.parameters ? { parameters: res.parameters } : {}),
  };
}

function corrupt(why: string): Error {
  return new Error(`corrupt cache entry: ${why}`);
}
