/**
 * The infer route's body decode, with `Inference-Header-Content-Length` checked against the body:
 * KServe's REST client keeps that header from a binary request and sends it again, stale, with the
 * next all-JSON one. Such a body is served as the JSON it is; any other header that does not frame a
 * JSON header gets a 400 that names the header instead of a JSON parser's position.
 */
import { InvalidInput } from "../errors";
import {
  type DecodedInferRequest,
  decodeInferRequest,
  decodeInferRequestYielding,
  HEADER_LENGTH,
} from "../protocol";
import type { JsonLimits } from "../protocol/json-limits";
import { allJson } from "../protocol/json-request";

/** JSON bodies above this size are decoded yielding to other requests (about 0.5 ms of decode and up). */
const YIELDING_DECODE_BYTES = 64 * 1024;

/** What splitBody says when the bytes it was given are not one JSON object. */
const FRAMING_ERROR = new RegExp(
  `^(?:request is not valid JSON|request JSON is not valid UTF-8|request must be a JSON object|${HEADER_LENGTH})`,
);
const BINARY_SIZE = Buffer.from("binary_data_size");

/** Decodes an infer body, `headerLength` being the request's header value (undefined: absent). */
export async function decodeInferBody(
  body: Uint8Array,
  headerLength: number | undefined,
  limits: JsonLimits | undefined,
): Promise<DecodedInferRequest> {
  if (allJson(body.byteLength, headerLength)) {
    // The limits are counted during the decode; a large body is decoded in slices, so that it does
    // not stall the other requests.
    return body.byteLength > YIELDING_DECODE_BYTES
      ? decodeInferRequestYielding(body, headerLength, limits)
      : decodeInferRequest(body, headerLength, limits);
  }
  try {
    return decodeInferRequest(body, headerLength, limits);
  } catch (e) {
    if (!isFramingError(e)) throw e;
    // A body with binary_data_size somewhere needs the header: its error is the header's.
    if (!Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes(BINARY_SIZE)) {
      try {
        return await decodeInferBody(body, undefined, limits);
      } catch (whole) {
        // The whole body is JSON after all: its own error (a bad shape...) is the useful one.
        if (!isFramingError(whole)) throw whole;
      }
    }
    const reason = (e as Error).message;
    throw new InvalidInput(
      `${HEADER_LENGTH} ${headerLength} does not frame the JSON part of this ${body.byteLength}-byte body (send it only with binary tensor data, as the length of the JSON before them): ${reason}`,
    );
  }
}

function isFramingError(e: unknown): boolean {
  return e instanceof InvalidInput && FRAMING_ERROR.test(e.message);
}
