/**
 * The answer's size on Lambda: a Function URL response is capped at 6 MiB like the request, binary
 * bodies base64-encoded. An answer over it would reach the client as the platform's bare 502; this
 * turns it into our 413 naming the way out (binary outputs are 2–3x smaller than JSON ones).
 */
import type { MiddlewareHandler } from "hono";
import { PayloadTooLarge } from "../../layers/errors";
import { outgoingHeader } from "../../layers/http/answer";
import { LAMBDA_EVENT_ENVELOPE_BYTES, LAMBDA_PAYLOAD_BYTES } from "./body-limit";

/** Largest response payload sent: the platform limit less room for status, headers and escaping. */
export const MAX_LAMBDA_RESPONSE_BYTES = LAMBDA_PAYLOAD_BYTES - LAMBDA_EVENT_ENVELOPE_BYTES;

/** Text bodies travel as they are in the response payload; anything else is base64-encoded. */
const TEXT = /^(?:text\/|application\/json)/i;

/** Bytes a body of `length` bytes and `contentType` takes in a Function URL response payload. */
export function lambdaWireBytes(length: number, contentType: string | null): number {
  return TEXT.test(contentType ?? "") ? length : 4 * Math.ceil(length / 3);
}

/** Hono middleware (Lambda only): 413 instead of an answer Lambda could not return. */
export function lambdaResponseLimitMiddleware(maxBytes = MAX_LAMBDA_RESPONSE_BYTES): MiddlewareHandler {
  return async (c, next) => {
    await next();
    // Infer answers declare their length; the others are small JSON documents.
    const declared = outgoingHeader(c, "content-length");
    if (declared === undefined || c.res.status >= 400) return;
    const wire = lambdaWireBytes(Number(declared), outgoingHeader(c, "content-type") ?? null);
    if (wire > maxBytes) {
      throw new PayloadTooLarge(
        `the answer is ${wire} bytes as Lambda returns it, over the ${maxBytes}-byte limit; ` +
          "ask for binary outputs (binary_data_output), fewer outputs or a smaller batch",
      );
    }
  };
}
