/** The Open Inference Protocol's HTTP binding (Hono), shared by the gateway and the model container. */
export { createProtocolApp } from "./app";
export { withDeadline } from "./deadline";
export { DescribeCache } from "./describe-cache";
export {
  BEARER_CHALLENGE,
  describeError,
  type ErrorBodyOptions,
  errorHandler,
  errorResponse,
  notFoundHandler,
  notFoundHandlerWith,
  STATUS_OF,
} from "./errors";
export { requestIdMiddleware, requestIdOf } from "./request-id";
export { EXTENSIONS, protocolRoutes } from "./routes";
export type { InferContext, InferMiddleware, ProtocolAppOptions, ProtocolEnv } from "./types";
