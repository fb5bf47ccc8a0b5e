/**
 * The node adapter's body reader: reads a request body straight from Node's IncomingMessage
 * (`c.env.incoming` under @hono/node-server), so the gateway never builds a web Request and stream
 * for it. Node's HTTP parser already stops a body at its Content-Length; the byte count here bounds
 * chunked bodies, and both refuse past the limit at the first chunk that crosses it.
 */
import { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { InvalidInput, PayloadTooLarge } from "../layers/errors";
import { BODY_LIMIT_HINT, type BodyReader } from "./limits/body-limit";

/** A body reader for requests served by @hono/node-server; undefined for any other request. */
export const readNodeBody: BodyReader = (c: Context, maxBytes: number) => {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  // Already read by someone else (or not Node's HTTP/1 request): let the web stream path handle it.
  if (!(incoming instanceof IncomingMessage) || incoming.readableDidRead || incoming.readableEnded) {
    return undefined;
  }
  return readIncoming(incoming, maxBytes);
};

/** Reads `incoming` to its end into one buffer; PayloadTooLarge as soon as more than `maxBytes` arrived. */
export function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onClose);
      incoming.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        // The rest is left to the adapter, which drains or drops it once the 413 is sent.
        stop();
        reject(
          new PayloadTooLarge(`request body exceeds the limit of ${maxBytes} bytes; ${BODY_LIMIT_HINT}`),
        );
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      const first = chunks[0];
      resolve(chunks.length === 1 && first !== undefined ? first : Buffer.concat(chunks, size));
    };
    const onClose = () => {
      if (incoming.readableEnded) return onEnd();
      stop();
      reject(new InvalidInput("request body ended early: the client closed the connection"));
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onClose);
    incoming.on("close", onClose);
  });
}
