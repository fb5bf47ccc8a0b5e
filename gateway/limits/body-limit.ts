/**
 * Request body limit, below Lambda's 6 MB payload cap so an oversized request gets a clear 413
 * from us rather than an opaque error from the platform.
 */
import type { Context, MiddlewareHandler } from "hono";
import { PayloadTooLarge } from "../../layers/errors";
import type { ProtocolEnv } from "../../layers/http";
import { inflateBody } from "../../layers/http/compression";

/** Lambda's synchronous payload limit, each way (the Invoke API refuses 6291456 bytes and more). */
export const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Room kept for the rest of a Function URL event: headers, request context, JSON framing. */
export const LAMBDA_EVENT_ENVELOPE_BYTES = 128 * 1024;

/**
 * 4620288 bytes (≈4.4 MiB): a binary body reaches the gateway's Lambda base64-encoded (4/3 larger)
 * inside the event, so this is the largest body whose event still fits the 6 MiB payload. A body the
 * gateway accepts therefore never fails in the platform with an opaque 413/502 instead of our 413.
 */
export const DEFAULT_MAX_BODY_BYTES =
  Math.floor((LAMBDA_PAYLOAD_BYTES - LAMBDA_EVENT_ENVELOPE_BYTES) / 4) * 3;

/** Said by every 413 of this module: what the client can do about it. */
export const BODY_LIMIT_HINT = "send tensors in binary (smaller than JSON), or fewer per request";

function tooLarge(size: number | string, maxBytes: number): PayloadTooLarge {
  return new PayloadTooLarge(`request body is ${size} bytes, limit is ${maxBytes} bytes; ${BODY_LIMIT_HINT}`);
}

/**
 * Reads a web stream body into one buffer, refusing it (PayloadTooLarge) as soon as more than
 * `maxBytes` bytes arrived: at most `maxBytes` bytes are ever buffered.
 */
export async function readBodyLimited(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new PayloadTooLarge(`request body exceeds the limit of ${maxBytes} bytes; ${BODY_LIMIT_HINT}`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function checkDeclaredLength(declared: string | undefined, maxBytes: number): void {
  if (declared === undefined) return;
  const n = Number(declared);
  if (declared.trim() !== "" && Number.isFinite(n) && n > maxBytes) throw tooLarge(declared.trim(), maxBytes);
}

/**
 * The rest of the body may be unread, so the connection cannot carry another request: say so, or a
 * keep-alive client reuses a socket the server is about to drop. (Ignored behind Lambda's front end.)
 */
function closeConnection(c: Context): void {
  c.header("Connection", "close");
}

/**
 * Reads a request's whole body, at most `maxBytes` of it (PayloadTooLarge past that), straight from
 * the runtime's own request object; returns undefined for a request it cannot read, which is then
 * read from the web stream. The node adapter hands one in (gateway/node-body.ts): no web streams.
 */
export type BodyReader = (c: Context, maxBytes: number) => Promise<Uint8Array> | undefined;

/**
 * Hono middleware: 413 (PayloadTooLarge) for a body over `maxBytes`; otherwise the body, read once,
 * is the `body` variable the protocol routes decode (the request's own stream is then consumed).
 */
export function bodyLimitMiddleware(
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
  read?: BodyReader,
): MiddlewareHandler<ProtocolEnv> {
  if (!Number.isInteger(maxBytes) || maxBytes < 0)
    throw new RangeError(`maxBytes must be an integer >= 0, got ${maxBytes}`);
  return async (c, next) => {
    const method = c.req.method;
    // No body to read; and touching `c.req.raw.body` would make the node adapter build a full Request.
    if (method === "GET" || method === "HEAD") return next();
    let body: Uint8Array;
    try {
      // A reader of the runtime's own request checks the declared length itself (and drains an
      // over-limit body so the client can read the 413); the declared length may lie either way:
      // what counts is the bytes actually read.
      const direct = read?.(c, maxBytes);
      if (direct !== undefined) body = await direct;
      else {
        checkDeclaredLength(c.req.header("content-length"), maxBytes);
        const stream = c.req.raw.body;
        body = stream === null ? new Uint8Array(0) : await readBodyLimited(stream, maxBytes);
      }
      // The limit bounds the inflated body too, counted while inflating.
      const encoding = c.req.header("content-encoding");
      if (encoding !== undefined) body = await inflateBody(body, encoding, maxBytes, BODY_LIMIT_HINT);
    } catch (e) {
      closeConnection(c);
      throw e;
    }
    c.set("body", body);
    return next();
  };
}
