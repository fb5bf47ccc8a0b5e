/** How requests reach a model: the Backend interface, the in-process engine backend, and the wire format of remote model functions. */
export {
  type Backend,
  type InferResult,
  type Logger,
  type ModelCatalog,
  type ModelDescription,
  silentLogger,
  validateFor,
} from "./backend";
export { EngineBackend, type EngineBackendOptions } from "./engine-backend";
export * from "./event";
export { handleTransportEvent } from "./handler";
export { quote } from "./quote";
export { parseVersion } from "./version";
export * from "./wire";
