/** Dynamic batching: stack concurrent requests of a model along dim 0, run once, split back. */
export { DynamicBatcher } from "./batcher";
export { batcherOptionsOf, batchingEnabled } from "./config";
export { prepareRequest, splitOutputs, stackInputs } from "./tensors";
export type * from "./types";
