/**
 * Test harness: a stand-in for the gateway's error mapper (gateway/errors.ts) so these middlewares
 * are tested through real Hono responses: kind -> status, `{"error"}` body, Retry-After.
 */
import type { Context } from "hono";
import { type ErrorKind, isInferenceError } from "../../../layers/errors";

const STATUS: Record<ErrorKind, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  model_not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  backend_failure: 502,
  model_not_ready: 503,
  overloaded: 503,
  backend_timeout: 504,
};

/** Maps errors the way the gateway does; foreign errors become a bare 500. */
export function onError(err: Error, c: Context): Response {
  if (isInferenceError(err)) {
    if (err.retryAfter !== undefined) c.header("Retry-After", String(err.retryAfter));
    return c.json(err.toJSON(), STATUS[err.kind] as 400);
  }
  return c.json({ error: "internal error" }, 500);
}
