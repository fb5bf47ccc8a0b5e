/** Every request gets an id: the caller's `x-request-id` when it is sane, else a fresh UUID. */
import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { outgoingHeader, setOutgoingHeader } from "./answer";
import type { ProtocolEnv } from "./types";

/** The response header carrying the request id. */
export const REQUEST_ID_HEADER = "x-request-id";

const SANE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id to use for a request carrying `incoming` (a header value or null). */
export function requestIdOf(incoming: string | null | undefined): string {
  return incoming !== null && incoming !== undefined && SANE.test(incoming) ? incoming : randomUUID();
}

/** Sets `requestId` and the `x-request-id` response header, errors included. */
export function requestIdMiddleware(): MiddlewareHandler<ProtocolEnv> {
  return async (c, next) => {
    const id = requestIdOf(c.req.header(REQUEST_ID_HEADER));
    c.set("requestId", id);
    await next();
    // The infer answer and error responses carry it already; any other response gets it here.
    if (outgoingHeader(c, REQUEST_ID_HEADER) === undefined) setOutgoingHeader(c, REQUEST_ID_HEADER, id);
  };
}
