/** Pipelines (`platform: "ensemble"`): processors, the step runner and the backend that serves them. */
export { PipelineBackend, type PipelineBackendOptions } from "./backend";
export { directoryFiles, type PipelineFiles } from "./files";
export type { Processor, ProcessorRegistry, StepContext } from "./processor";
export { BUILTIN_PROCESSORS } from "./processors";
export { repositoryFiles, type S3Location, s3Files } from "./repository-files";
