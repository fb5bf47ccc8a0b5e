/**
 * Raw tensor bytes as the binary tensor data extension lays them out: little-endian, row-major, no
 * padding; BOOL one byte 0/1; BYTES each element a 4-byte little-endian length then its bytes.
 * Typed-array views are shared, not copied, which relies on a little-endian host (checked at load).
 */
import { InvalidInput } from "../errors";
import {
  checkDatatype,
  checkShape,
  checkTensorData,
  internalError,
  label,
  shapeText,
  type TensorRole,
} from "./checks";
import { elementCount, elementSize, TYPED_ARRAY } from "./datatypes";
import type { Datatype, Tensor, TensorData } from "./types";

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("edge-infer's binary tensor codec needs a little-endian host");
}

/** The wire bytes of a tensor: a zero-copy view for fixed-size types, a fresh buffer for BYTES. */
export function tensorBytes(t: Tensor): Uint8Array {
  checkTensorData(t, internalError);
  const d = t.data;
  if (!Array.isArray(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  let total = 0;
  for (const e of d) total += 4 + e.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const e of d) {
    view.setUint32(off, e.byteLength, true);
    out.set(e, off + 4);
    off += 4 + e.byteLength;
  }
  return out;
}

/**
 * Decodes a tensor's wire bytes. Fixed-size types become a view on `bytes` when its offset is
 * aligned for the element type (a copy otherwise); BYTES elements are views on `bytes`.
 * Throws InvalidInput naming the tensor when the size, the BYTES framing or a BOOL byte is wrong.
 */
export function tensorFromBytes(
  name: string,
  datatype: Datatype,
  shape: number[],
  bytes: Uint8Array,
  role: TensorRole = "input",
): Tensor {
  const who = label(role, String(name));
  const dt = checkDatatype(who, datatype);
  const dims = checkShape(who, shape);
  const count = elementCount(dims);
  const size = elementSize(dt);
  let data: TensorData;
  if (size === undefined) {
    data = splitBytes(who, dims, count, bytes);
  } else {
    const want = count * size;
    if (bytes.byteLength !== want) {
      throw new InvalidInput(
        `${who}: expected ${want} bytes for ${dt} shape ${shapeText(dims)}, received ${bytes.byteLength}`,
      );
    }
    if (dt === "BOOL") checkBool(who, bytes);
    const Ctor = TYPED_ARRAY[dt as Exclude<Datatype, "BYTES">];
    // A typed array view needs an offset that is a multiple of the element size; copy otherwise.
    // (Not bytes.slice(): on a Node Buffer that returns a view, not a copy.)
    // The cast admits a SharedArrayBuffer, which typed arrays accept just as well.
    if (bytes.byteOffset % size === 0) data = new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
    else {
      const copy = new Uint8Array(want);
      copy.set(bytes);
      data = new Ctor(copy.buffer, 0, count);
    }
  }
  return { name, datatype: dt, shape: dims, data };
}

function checkBool(who: string, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0 && b !== 1) {
      throw new InvalidInput(`${who}: BOOL element ${i} must be the byte 0 or 1, received ${b}`);
    }
  }
}

/** Splits length-prefixed BYTES elements; they must fill `bytes` exactly and number `count`. */
function splitBytes(who: string, dims: number[], count: number, bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const end = bytes.byteLength;
  let off = 0;
  while (off < end) {
    if (out.length >= count) {
      throw new InvalidInput(
        `${who}: expected ${count} BYTES elements for shape ${shapeText(dims)}, received more (${end - off} bytes left over)`,
      );
    }
    if (end - off < 4) {
      throw new InvalidInput(`${who}: BYTES element ${out.length} has a truncated 4-byte length prefix`);
    }
    const len =
      ((bytes[off] ?? 0) |
        ((bytes[off + 1] ?? 0) << 8) |
        ((bytes[off + 2] ?? 0) << 16) |
        ((bytes[off + 3] ?? 0) << 24)) >>>
      0;
    off += 4;
    if (len > end - off) {
      throw new InvalidInput(
        `${who}: BYTES element ${out.length} declares ${len} bytes but only ${end - off} remain`,
      );
    }
    out.push(bytes.subarray(off, off + len));
    off += len;
  }
  if (out.length !== count) {
    throw new InvalidInput(
      `${who}: expected ${count} BYTES elements for shape ${shapeText(dims)}, received ${out.length}`,
    );
  }
  return out;
}
