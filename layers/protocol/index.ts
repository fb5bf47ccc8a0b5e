/** The Open Inference Protocol v2 (REST): types, datatypes, and the JSON / binary codec. */
export { tensorBytes, tensorFromBytes } from "./binary";
export {
  type BinaryOutputs,
  binaryOutputsOf,
  decodeInferRequest,
  decodeInferRequestYielding,
  decodeInferResponse,
  encodeInferRequest,
  encodeInferResponse,
  type InferRequestTensors,
  type InferResult,
} from "./codec";
export * from "./datatypes";
export { type EncodedBody, HEADER_LENGTH } from "./framing";
export { tensorFromJSON, tensorToJSONData } from "./json";
export * from "./types";
export type { TensorRole } from "./validate";
