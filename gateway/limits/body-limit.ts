/**
 * Request body limit, below Lambda's 6 MB payload cap so an oversized request gets a clear 413
 * from us rather than an opaque error from the platform.
 */
import type { Context, MiddlewareHandler } from "hono";
import { PayloadTooLarge } from "../../layers/errors";

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
 * Reads the body up to `maxBytes + 1` bytes into memory and hands it on as a fresh request body.
 * A `Content-Length` over the limit is refused before reading; without one, or when it lies, the
 * count of bytes actually read decides. Either way at most `maxBytes` bytes are ever buffered.
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

/**
 * The rest of the body stays unread, so the connection cannot carry another request: say so, or a
 * keep-alive client reuses a socket the server is about to drop. (Ignored behind Lambda's front end.)
 */
function closeConnection(c: Context): void {
  c.header("Connection", "close");
}

/** Hono middleware: 413 (PayloadTooLarge) for a body over `maxBytes`. */
export function bodyLimitMiddleware(maxBytes: number = DEFAULT_MAX_BODY_BYTES): MiddlewareHandler {
  if (!Number.isInteger(maxBytes) || maxBytes < 0)
    throw new RangeError(`maxBytes must be an integer >= 0, got ${maxBytes}`);
  return async (c, next) => {
    const raw = c.req.raw;
    const declared = raw.headers.get("content-length");
    if (declared !== null) {
      const n = Number(declared);
      if (declared.trim() !== "" && Number.isFinite(n) && n > maxBytes) {
        closeConnection(c);
        throw tooLarge(declared.trim(), maxBytes);
      }
    }
    if (raw.body === null) return next();
    let body: Uint8Array;
    try {
      body = await readBodyLimited(raw.body, maxBytes);
    } catch (e) {
      closeConnection(c);
      throw e;
    }
    // The declared length may have lied; downstream code sees the size actually read.
    const headers = new Headers(raw.headers);
    headers.set("content-length", String(body.byteLength));
    headers.delete("transfer-encoding");
    c.req.raw = new Request(raw, { body, headers });
    return next();
  };
}
