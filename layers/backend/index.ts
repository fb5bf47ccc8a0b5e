/** What runs a model: the Backend contract, and the in-process backend over an ONNX Runtime engine. */
export {
  type Backend,
  type InferResult,
  type ModelCatalog,
  type ModelDescription,
  validateFor,
} from "./contract";
export { EngineBackend, type EngineBackendOptions } from "./engine-backend";
