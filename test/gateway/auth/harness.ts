/**
 * Test harness: the real error mapper (layers/http/errors.ts), so these middlewares are tested through
 * the responses clients get: kind -> status, `{"error"}` body, Retry-After, WWW-Authenticate.
 */
import type { ErrorHandler } from "hono";
import { errorHandler } from "../../../layers/http";
import { silentLogger } from "../../../layers/telemetry";

/** Maps errors the way the gateway does; foreign errors become a 500 that leaks nothing. */
// biome-ignore lint/suspicious/noExplicitAny: the middlewares under test run on apps of several Env types
export const onError = errorHandler(silentLogger) as ErrorHandler<any>;
