/**
 * The stored form of a cached result: `"EIC1"`, a u32 LE header length, a JSON header (version,
 * parameters, each output's name, datatype, shape and byte length), then the outputs' raw bytes
 * (the binary tensor extension's layout). Much smaller and faster than JSON numbers.
 */
import { isDatatype } from "../../layers/protocol/datatypes";
import { tensorBytes, tensorFromBytes } from "../../layers/protocol/tensor";
import type { Datatype, Parameters, Tensor } from "../../layers/protocol/types";
import type { CachedResult } from "./types";

const MAGIC = [0x45, 0x49, 0x43, 0x31]; // "EIC1"
const PREFIX = MAGIC.length + 4;

interface HeaderOutput {
  n: string;
  d: Datatype;
  s: number[];
  b: number;
  p?: Parameters;
}
interface Header {
  v: string;
  p?: Parameters;
  o: HeaderOutput[];
}

/** Encodes a result for a cache store. */
export function encodeResult(result: CachedResult): Uint8Array {
  const blobs = result.outputs.map((t) => tensorBytes(t));
  const header: Header = {
    v: result.version,
    ...(result.parameters ? { p: result.parameters } : {}),
    o: result.outputs.map((t, i) => ({
      n: t.name,
      d: t.datatype,
      s: t.shape,
      b: blobs[i]?.byteLength ?? 0,
      ...(t.parameters ? { p: t.parameters } : {}),
    })),
  };
  const head = new TextEncoder().encode(JSON.stringify(header));
  const total = PREFIX + head.byteLength + blobs.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, head.byteLength, true);
  out.set(head, PREFIX);
  let offset = PREFIX + head.byteLength;
  for (const b of blobs) {
    out.set(b, offset);
    offset += b.byteLength;
  }
  return out;
}

function corrupt(why: string): Error {
  return new Error(`corrupt cache entry: ${why}`);
}

function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0);
}

function parseHeader(text: string): Header {
  const h: unknown = JSON.parse(text);
  if (typeof h !== "object" || h === null) throw corrupt("header is not an object");
  const { v, o, p } = h as Record<string, unknown>;
  if (typeof v !== "string") throw corrupt("version is not a string");
  if (!Array.isArray(o)) throw corrupt("outputs is not an array");
  for (const x of o as unknown[]) {
    const e = x as Partial<HeaderOutput> | null;
    if (
      typeof e !== "object" ||
      e === null ||
      typeof e.n !== "string" ||
      !isDatatype(e.d) ||
      !isShape(e.s) ||
      typeof e.b !== "number"
    ) {
      throw corrupt("malformed output entry");
    }
  }
  return { v, o: o as HeaderOutput[], ...(p && typeof p === "object" ? { p: p as Parameters } : {}) };
}

/** Decodes what `encodeResult` produced; throws on a truncated or foreign entry. */
export function decodeResult(bytes: Uint8Array): CachedResult {
  if (bytes.byteLength < PREFIX || MAGIC.some((m, i) => bytes[i] !== m)) throw corrupt("bad magic");
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(
    MAGIC.length,
    true,
  );
  if (PREFIX + headLength > bytes.byteLength) throw corrupt("truncated header");
  const header = parseHeader(new TextDecoder().decode(bytes.subarray(PREFIX, PREFIX + headLength)));
  let offset = PREFIX + headLength;
  const outputs: Tensor[] = [];
  for (const o of header.o) {
    if (offset + o.b > bytes.byteLength) throw corrupt(`truncated data of output "${o.n}"`);
    // A copy, so returned tensors never alias the cached bytes (a Node Buffer's slice() is a view).
    const data = Uint8Array.prototype.slice.call(bytes, offset, offset + o.b);
    offset += o.b;
    const t = tensorFromBytes(o.n, o.d, o.s, data, "output");
    outputs.push(o.p ? { ...t, parameters: o.p } : t);
  }
  if (offset !== bytes.byteLength) throw corrupt("trailing bytes");
  return { version: header.v, outputs, ...(header.p ? { parameters: header.p } : {}) };
}
