/**
 * Types of the Open Inference Protocol v2 (KServe v2 / Triton HTTP), REST flavour, and the
 * in-memory tensor that every layer passes around.
 */

/** Every datatype of the protocol. */
export const DATATYPES = [
  "BOOL",
  "UINT8",
  "UINT16",
  "UINT32",
  "UINT64",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "FP16",
  "FP32",
  "FP64",
  "BYTES",
] as const;
export type Datatype = (typeof DATATYPES)[number];

/** A parameter value as the protocol allows it. */
export type Parameter = string | number | boolean;
export type Parameters = Record<string, Parameter>;

/**
 * Tensor contents in memory, row-major. Element types:
 * BOOL→Uint8Array (0/1), UINT8→Uint8Array, INT8→Int8Array, UINT16→Uint16Array, INT16→Int16Array,
 * UINT32→Uint32Array, INT32→Int32Array, UINT64→BigUint64Array, INT64→BigInt64Array,
 * FP16→Uint16Array (IEEE 754 half bits), FP32→Float32Array, FP64→Float64Array,
 * BYTES→Uint8Array[] (one byte string per element).
 */
export type TensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | Uint8Array[];

/** A named tensor, decoded: what validation, the engine, the cache and the codecs exchange. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
  parameters?: Parameters;
}

/** Signature entry of a model input or output; -1 marks a free dimension. */
export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  shape: number[];
}

/** `GET /v2` */
export interface ServerMetadataResponse {
  name: string;
  version: string;
  extensions: string[];
}

/** `GET /v2/models/{m}[/versions/{v}]` */
export interface ModelMetadataResponse {
  name: string;
  versions?: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** One input of a JSON infer request; `data` is absent when the tensor travels as binary. */
export interface RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Parameters;
  data?: unknown;
}

/** One requested output. `parameters.binary_data` asks for it in binary form. */
export interface RequestOutput {
  name: string;
  parameters?: Parameters;
}

/** `POST .../infer` body (the JSON part, when the binary extension is used). */
export interface InferRequest {
  id?: string;
  parameters?: Parameters;
  inputs: RequestInput[];
  outputs?: RequestOutput[];
}

/** One output of an infer response; `data` is absent when it travels as binary. */
export interface ResponseOutput {
  name: string;
  shape: number[];
  datatype: Datatype;
  parameters?: Parameters;
  data?: Array<number | string | boolean>;
}

/** `POST .../infer` response (the JSON part, when the binary extension is used). */
export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: ResponseOutput[];
}

/** The protocol's error body. */
export interface ErrorResponse {
  error: string;
}

/**
 * A decoded infer request: tensors in memory plus what the client asked for.
 * `outputs` empty/undefined means "all outputs"; `binaryOutputs` lists outputs to send as binary.
 */
export interface DecodedInferRequest {
  id?: string;
  parameters?: Parameters;
  inputs: Tensor[];
  outputs?: RequestOutput[];
  /** True when the request asked for binary_data_output (all outputs binary). */
  binaryDataOutput?: boolean;
}
