/** Tensor ↔ ort.Tensor, sharing the typed arrays where ONNX Runtime allows it. */
import type * as ort from "onnxruntime-node";
import { InvalidInput } from "../errors";
import type { Datatype, Tensor, TensorData } from "../protocol/types";
import { loadedOrt } from "./ort";

type OrtType = ort.Tensor.Type;

const ORT_TYPE: Record<Datatype, OrtType> = {
  BOOL: "bool",
  UINT8: "uint8",
  INT8: "int8",
  UINT16: "uint16",
  INT16: "int16",
  UINT32: "uint32",
  INT32: "int32",
  UINT64: "uint64",
  INT64: "int64",
  FP16: "float16",
  FP32: "float32",
  FP64: "float64",
  BYTES: "string",
};

const DATATYPE = new Map<string, Datatype>(Object.entries(ORT_TYPE).map(([d, o]) => [o, d as Datatype]));

/** The protocol datatype of an ORT element type, or undefined when the protocol has none (int4, ...). */
export function datatypeOfOrt(type: string): Datatype | undefined {
  return DATATYPE.get(type);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** An ort.Tensor over the tensor's memory (BYTES are decoded: ONNX strings are text). */
export function toOrt(t: Tensor): ort.Tensor {
  const { Tensor } = loadedOrt();
  const dims = t.shape;
  if (t.datatype === "BYTES") {
    const items = t.data as Uint8Array[];
    const strings = items.map((bytes, i) => {
      try {
        return utf8.decode(bytes);
      } catch {
        throw new InvalidInput(
          `input '${t.name}' element ${i} is not UTF-8 text, which ONNX string tensors require`,
        );
      }
    });
    return new Tensor("string", strings, dims);
  }
  // FP16 travels as Uint16Array bits: ORT accepts that and wraps it in a Float16Array where one exists.
  return new Tensor(ORT_TYPE[t.datatype] as "float32", t.data as Float32Array, dims);
}

/** A Tensor over an ORT output's data; the ORT tensor is disposed. */
export function fromOrt(name: string, value: ort.OnnxValue): Tensor {
  const t = value as ort.Tensor;
  const datatype = datatypeOfOrt(t.type);
  if (datatype === undefined)
    throw new Error(`output '${name}' has element type ${t.type}, which is not served`);
  const shape = [...t.dims];
  const raw = t.data;
  let data: TensorData;
  if (datatype === "BYTES") data = (raw as string[]).map((s) => encoder.encode(s));
  else if (datatype === "FP16" && !(raw instanceof Uint16Array)) {
    // A runtime with Float16Array hands halves as numbers: reinterpret the same bytes as bits.
    const view = raw as unknown as ArrayBufferView & { length: number };
    data = new Uint16Array(view.buffer, view.byteOffset, view.length);
  } else data = raw as Exclude<TensorData, Uint8Array[]>;
  t.dispose();
  return { name, datatype, shape, data };
}
