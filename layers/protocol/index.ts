/** The Open Inference Protocol v2 (REST): types, datatypes, and the JSON / binary codec. */
export { tensorBytes, tensorFromBytes } from "./binary";
export type { TensorRole } from "./checks";
export {
  type BinaryOutputs,
  binaryOutputsOf,
  type DecodedInferResponse,
  decodeInferRequest,
  decodeInferRequestYielding,
  decodeInferResponse,
  encodeInferRequest,
  encodeInferResponse,
} from "./codec";
export * from "./datatypes";
export { type EncodedBody, HEADER_LENGTH, headerLengthValue } from "./framing";
export { tensorFromJSON, tensorToJSONData } from "./json";
export * from "./types";
