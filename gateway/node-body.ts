/**
 * The node adapter's body reader: reads a request body straight from Node's IncomingMessage
 * (`c.env.incoming` under @hono/node-server), so the gateway never builds a web Request and stream
 * for it. Node's HTTP parser already stops a body at its Content-Length; the byte count here bounds
 * chunked bodies. A body over the limit is read on and dropped (up to DRAIN_LIMIT_BYTES) before the
 * 413 goes out: a client that sends its whole body before it reads (tritonclient) would otherwise
 * find the connection reset under it (a broken pipe) instead of reading the 413.
 */
import { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { InvalidInput, PayloadTooLarge } from "../layers/errors";
import { takeBodyBuffer } from "../layers/http/body-pool";
import { headerLengthValue } from "../layers/protocol";
import { allJson } from "../layers/protocol/json-request";
import { BODY_LIMIT_HINT, type BodyReader } from "./limits/body-limit";

/**
 * Bytes of an over-limit body read and dropped so the client can read its 413; past that the
 * connection is closed on it. Bounded in bytes (no memory: nothing is kept) and in time (the
 * server's request timeout).
 */
export const DRAIN_LIMIT_BYTES = 32 * 1024 * 1024;

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
    new IncomingReader(incoming, maxBytes, resolve, reject).listen();
  });
}

/**
 * One body read. A class with bound methods rather than closures: under tsx (keepNames) every
 * named closure costs a defineProperty call, and this runs on every request.
 */
class IncomingReader {
  #chunks: Buffer[] = [];
  #size = 0;
  /** Set once the body is known to be over the limit: the rest is drained, then this is thrown. */
  #tooLarge: PayloadTooLarge | undefined;

  constructor(
    readonly incoming: IncomingMessage,
    readonly maxBytes: number,
    readonly resolve: (body: Uint8Array) => void,
    readonly reject: (e: unknown) => void,
  ) {
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onClose = this.onClose.bind(this);
  }

  listen(): void {
    const declared = Number(this.incoming.headers["content-length"] ?? Number.NaN);
    if (declared > this.maxBytes) {
      this.#tooLarge = new PayloadTooLarge(
        `request body is ${declared} bytes, limit is ${this.maxBytes} bytes; ${BODY_LIMIT_HINT}`,
      );
      // Too much to drain: refuse at once (the connection closes on the rest).
      if (declared - this.maxBytes > DRAIN_LIMIT_BYTES) {
        this.reject(this.#tooLarge);
        return;
      }
    }
    this.incoming.on("data", this.onData);
    this.incoming.on("end", this.onEnd);
    this.incoming.on("error", this.onClose);
    this.incoming.on("close", this.onClose);
  }

  stop(): void {
    this.incoming.off("data", this.onData);
    this.incoming.off("end", this.onEnd);
    this.incoming.off("error", this.onClose);
    this.incoming.off("close", this.onClose);
  }

  onData(chunk: Buffer): void {
    this.#size += chunk.byteLength;
    if (this.#tooLarge !== undefined) {
      // Draining: past the bound, the 413 goes out now and the connection closes on the rest.
      if (this.#size - this.maxBytes > DRAIN_LIMIT_BYTES) this.fail(this.#tooLarge);
      return;
    }
    if (this.#size > this.maxBytes) {
      this.#chunks = [];
      this.#tooLarge = new PayloadTooLarge(
        `request body exceeds the limit of ${this.maxBytes} bytes; ${BODY_LIMIT_HINT}`,
      );
      return;
    }
    this.#chunks.push(chunk);
  }

  fail(e: unknown): void {
    this.stop();
    this.reject(e);
  }

  onEnd(): void {
    if (this.#tooLarge !== undefined) {
      this.fail(this.#tooLarge);
      return;
    }
    this.stop();
    this.resolve(joined(this.#chunks, this.#size, binaryStart(this.incoming)));
  }

  onClose(): void {
    if (this.incoming.readableEnded) {
      this.onEnd();
      return;
    }
    this.fail(
      this.#tooLarge ?? new InvalidInput("request body ended early: the client closed the connection"),
    );
  }
}

/**
 * Where a binary request's tensor data start in its body (`Inference-Header-Content-Length`), if it
 * says so validly (the route answers an invalid value with a 400).
 */
function binaryStart(incoming: IncomingMessage): number | undefined {
  const value = incoming.headers["inference-header-content-length"];
  return typeof value === "string" ? headerLengthValue(value) : undefined;
}

/**
 * The chunks as one buffer, placed so that body byte `start` (the binary tensor data) sits on an
 * 8-byte boundary: a typed array over a tensor then needs no copy (one per request otherwise, the
 * size of the tensor, whenever the client's JSON header is not a multiple of the element size).
 */
export function joined(chunks: readonly Buffer[], size: number, start: number | undefined): Uint8Array {
  const first = chunks[0];
  if (chunks.length === 1 && first !== undefined) return first;
  // All JSON (no binary part): a reused buffer, handed back once the body is decoded (body-pool.ts).
  if (allJson(size, start)) return copyInto(takeBodyBuffer(size), chunks, 0);
  const pad = (8 - ((start ?? 0) % 8)) % 8;
  // Every byte is written below: no zero fill, and its own ArrayBuffer (never the shared pool).
  return copyInto(Buffer.allocUnsafeSlow(size + pad), chunks, pad).subarray(pad);
}

function copyInto(out: Uint8Array, chunks: readonly Buffer[], offset: number): Uint8Array {
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
