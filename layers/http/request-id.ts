/** Every request gets an id: the caller's `x-request-id` when it is sane, else a fresh UUID. */
import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { ProtocolEnv } from "./types";

const SANE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id to use for a request carrying `incoming` (a header value or null). */
export function requestIdOf(incoming: string | null | undefined): string {
  return incoming !== null && incoming !== undefined && SANE.test(incoming) ? incoming : randomUUID();
}

/** Sets `requestId` and the `x-request-id` response header, errors included. */
export function requestIdMiddleware(): MiddlewareHandler<ProtocolEnv> {
  return async (c, next) => {
    const id = requestIdOf(c.req.header("x-request-id"));
    c.set("requestId", id);
    c.header("x-request-id", id);
    await next();
    // A middleware may have replaced c.res with a Response built elsewhere.
    if (!c.res.headers.has("x-request-id")) c.res.headers.set("x-request-id", id);
  };
}
