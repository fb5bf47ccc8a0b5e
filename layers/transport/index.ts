/** The private wire to remote model functions: events, results, and the function's handler. */
export * from "./event";
export { handleTransportEvent } from "./handler";
export * from "./wire";
