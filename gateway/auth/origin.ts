/**
 * Origin verification: on AWS the gateway's Function URL is public, and CloudFront proves a request
 * came through the distribution by adding a secret `x-origin-verify` header (infra/constructs/gateway.ts).
 * Requests without it are refused before auth, so direct callers never reach the key store.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { Forbidden } from "../../layers/errors";

/** The header CloudFront adds to every origin request. */
export const ORIGIN_VERIFY_HEADER = "x-origin-verify";

/** The 403 message for a request that bypassed CloudFront. */
export const ORIGIN_VERIFY_MESSAGE = "requests must come through the edge-infer distribution";

// Comparing digests keeps the comparison constant-time whatever the received value's length.
const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * Hono middleware: with a secret (ORIGIN_VERIFY_SECRET on Lambda), refuses with 403 any request whose
 * `x-origin-verify` header is not that secret; without one (local mode) it lets everything through.
 * Throws at construction for an empty secret, which would otherwise silently open the origin.
 */
export function originVerifyMiddleware(secret: string | undefined): MiddlewareHandler {
  if (secret === undefined) return (_c, next) => next();
  if (secret === "") {
    throw new TypeError(
      "originVerifyMiddleware: ORIGIN_VERIFY_SECRET is set but empty; unset it or give the secret",
    );
  }
  const expected = digest(secret);
  return async (c, next) => {
    const received = c.req.header(ORIGIN_VERIFY_HEADER);
    // The received value is never logged nor echoed: it is a guess at the secret.
    if (received === undefined || !timingSafeEqual(digest(received), expected)) {
      throw new Forbidden(ORIGIN_VERIFY_MESSAGE);
    }
    await next();
  };
}
