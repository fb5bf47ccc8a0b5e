/**
 * The gateway's backends: one per model in the catalog. The Backend interface itself lives in
 * layers/transport (the model container serves the same routes over it).
 */
export type { Backend, InferResult, ModelCatalog, ModelDescription } from "../../layers/backend";
export { EngineBackend } from "../../layers/backend";
export { type InProcessModels, inProcessModels } from "./in-process";
export { LambdaBackend } from "./lambda";
export { RemoteBackend } from "./remote";
export { SageMakerBackend } from "./sagemaker";
