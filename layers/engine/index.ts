/** The ONNX Runtime engine: model versions loaded on demand, warmed up, validated and run. */
export { ModelEngine } from "./engine";
export type { EngineLogger, EngineOptions, InferenceThread, LoadedModel, ModelState } from "./types";
