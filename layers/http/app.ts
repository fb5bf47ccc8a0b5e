/**
 * The Open Inference Protocol as a Hono app over a model catalog. It knows no runtime: the gateway
 * serves it behind Lambda or node, the model container serves it next to SageMaker's routes.
 */
import { Hono } from "hono";
import { silentLogger } from "../telemetry/logger";
import { PROTOCOL_ROUTES } from "./allowed";
import { errorHandler, notFoundHandlerWith } from "./errors";
import { requestIdMiddleware } from "./request-id";
import { protocolRoutes } from "./routes";
import type { ProtocolAppOptions, ProtocolEnv } from "./types";

/** Request id → `options.middleware` → protocol routes, with errors mapped in one place. */
export function createProtocolApp(options: ProtocolAppOptions): Hono<ProtocolEnv> {
  const app = new Hono<ProtocolEnv>();
  app.use(requestIdMiddleware());
  for (const mw of options.middleware ?? []) app.use(mw);
  app.route("/", protocolRoutes(options));
  const body = { requestIdField: options.requestIdInErrors === true };
  app.onError(errorHandler(options.logger ?? silentLogger, body));
  app.notFound(notFoundHandlerWith(body, [...PROTOCOL_ROUTES, ...(options.routes ?? [])]));
  return app;
}
