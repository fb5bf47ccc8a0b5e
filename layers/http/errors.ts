/**
 * The one place where errors become HTTP responses, for the gateway and the container server
 * alike: the kind of a domain error picks the status, the body is the protocol's `{"error"}`.
 * 4xx bodies say what was wrong with the request; 5xx bodies say only what failed, with the
 * request id, never a message from deeper down (stack, ORT, AWS).
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_TABLE, type ErrorKind, InferenceError } from "../errors";
import { quote } from "../protocol/quote";
import type { LogSink } from "../telemetry/logger";
import { allowedMethods, type RouteMethods } from "./allowed";
import type { ProtocolEnv } from "./types";

/** HTTP status of each error kind (from ERROR_TABLE). */
export const STATUS_OF = Object.fromEntries(
  Object.entries(ERROR_TABLE).map(([kind, info]) => [kind, info.status]),
) as Readonly<Record<ErrorKind, ContentfulStatusCode>>;

/** `WWW-Authenticate` of every 401 (RFC 6750). */
export const BEARER_CHALLENGE = 'Bearer realm="edge-infer"';

/**
 * `Retry-After` of a 503 whose error names no wait of its own (a version not ready, a store down):
 * every 503 tells clients when to come back, instead of leaving them to retry at once.
 */
export const RETRY_AFTER_503_SECONDS = 5;

/** Status, body text and extra headers of any thrown value. */
export function describeError(
  err: unknown,
  requestId: string,
  model: string | undefined,
): { status: ContentfulStatusCode; message: string; kind: ErrorKind; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  let status: ContentfulStatusCode = 500;
  let kind: ErrorKind = "internal";
  let message = "";
  if (err instanceof InferenceError) {
    kind = err.kind;
    status = STATUS_OF[kind] ?? 500;
    message = err.message;
    if (err.retryAfter !== undefined) headers["Retry-After"] = String(Math.max(1, Math.ceil(err.retryAfter)));
    if (kind === "unauthorized") headers["WWW-Authenticate"] = BEARER_CHALLENGE;
  } else if (err instanceof HTTPException && err.status >= 400) {
    status = err.status as ContentfulStatusCode;
    kind = status >= 500 ? "internal" : "invalid_input";
    message = err.message || "bad request";
  }
  if (status === 503) headers["Retry-After"] ??= String(RETRY_AFTER_503_SECONDS);
  if (status >= 500) {
    const m = model === undefined ? "" : quote(model);
    message = `${ERROR_TABLE[kind].public?.(m) ?? "internal error"} (request id ${requestId})`;
  }
  return { status, message, kind, headers };
}

/** How error bodies are written. */
export interface ErrorBodyOptions {
  /** Add `request_id` to every error body, beside `error`. @default false */
  requestIdField?: boolean;
}

/** Hono `onError`: maps the error, logs 5xx with their cause (never shown to the client). */
export function errorHandler(logger: LogSink, options: ErrorBodyOptions = {}): ErrorHandler<ProtocolEnv> {
  return (err, c) => {
    const requestId = c.get("requestId") ?? "-";
    const { status, message, kind, headers } = describeError(err, requestId, c.get("model"));
    const attributes = {
      requestId,
      status,
      kind,
      method: c.req.method,
      path: c.req.path,
      error: err.message,
      cause: causeOf(err),
    };
    if (status >= 500) logger.error("request failed", { ...attributes, stack: err.stack });
    // A refusal with a cause (ONNX Runtime's text for a run it refused) keeps it in the log only.
    else if (attributes.cause !== undefined) logger.info("request refused", attributes);
    else logger.debug("request refused", attributes);
    for (const [k, v] of Object.entries(headers)) c.header(k, v);
    return errorResponse(c, status, message, options);
  };
}

/**
 * A Hono `notFound` handler: a 404 in the protocol's shape, or a 405 with `Allow` when `routes`
 * has the path under other methods.
 */
export function notFoundHandlerWith(
  options: ErrorBodyOptions = {},
  routes: readonly RouteMethods[] = [],
): NotFoundHandler<ProtocolEnv> {
  return (c) => {
    const allow = allowedMethods(c.req.path, routes);
    if (allow !== undefined) {
      c.header("Allow", allow);
      const message = `method ${c.req.method} is not allowed on ${quote(c.req.path)}; allowed: ${allow}`;
      return errorResponse(c, 405, message, options);
    }
    return errorResponse(c, 404, `no route for ${c.req.method} ${quote(c.req.path)}`, options);
  };
}

/** Hono `notFound`: a 404 in the protocol's shape. */
export const notFoundHandler: NotFoundHandler<ProtocolEnv> = notFoundHandlerWith();

/**
 * The protocol's error response: `{"error": message}` (plus `request_id` when asked) with
 * `x-request-id`. Every error body is built here, so they all have the same shape.
 */
export function errorResponse(
  c: Context<ProtocolEnv>,
  status: ContentfulStatusCode,
  error: string,
  options: ErrorBodyOptions = {},
): Response {
  const requestId = c.get("requestId") ?? "-";
  c.header("x-request-id", requestId);
  return c.json(options.requestIdField === true ? { error, request_id: requestId } : { error }, status);
}

function causeOf(err: Error): string | undefined {
  const { cause } = err;
  if (cause === undefined) return undefined;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
