import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import {
  BODY_LIMIT_HINT,
  type BodyReader,
  bodyLimitMiddleware,
  DEFAULT_MAX_BODY_BYTES,
  LAMBDA_PAYLOAD_BYTES,
} from "../../../gateway/limits/body-limit";
import { readNodeBody } from "../../../gateway/node-body";
import type { ProtocolEnv } from "../../../layers/http";
import { onError } from "../auth/harness";

/** A body sent in chunks, counting how many the server pulled. */
function chunked(chunks: number, size: number) {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks) return controller.close();
      pulled++;
      controller.enqueue(new Uint8Array(size).fill(0x61));
    },
  });
  return { stream, pulled: () => pulled };
}

function app(max?: number, read?: BodyReader) {
  const a = new Hono<ProtocolEnv>();
  a.onError(onError);
  a.use(bodyLimitMiddleware(max, read));
  a.get("/echo", (c) => c.json({ read: c.get("body") !== undefined }));
  a.post("/echo", (c) => {
    const body = c.get("body");
    if (body === undefined) throw new Error("the body limit did not hand on the body");
    return c.json({ bytes: body.byteLength, sum: body.reduce((a, b) => a + b, 0) });
  });
  return a;
}

/** POSTs `body` as a stream to app(max), with `contentLength` as its Content-Length if given. */
function post(max: number, body: ReadableStream<Uint8Array>, contentLength?: string) {
  return app(max).request("/echo", {
    method: "POST",
    body,
    headers: contentLength === undefined ? {} : { "content-length": contentLength },
    duplex: "half",
  } as RequestInit);
}

describe("bodyLimitMiddleware", () => {
  it("defaults to ≈4.4 MiB: base64 of a body it accepts, in an event, still fits Lambda's 6 MiB", () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(4_620_288);
    const base64 = Buffer.alloc(DEFAULT_MAX_BODY_BYTES).toString("base64").length;
    expect(base64 + 64 * 1024).toBeLessThan(LAMBDA_PAYLOAD_BYTES);
    expect(LAMBDA_PAYLOAD_BYTES).toBe(6_291_456);
  });

  it("passes bodies within the limit through intact", async () => {
    const res = await app(10).request("/echo", { method: "POST", body: "0123456789" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: 10, sum: 525 });
    const empty = await app(10).request("/echo", { method: "POST" });
    expect(await empty.json()).toEqual({ bytes: 0, sum: 0 });
    // GET has no body: nothing is read, nothing is set.
    expect(await (await app(10).request("/echo")).json()).toEqual({ read: false });
  });

  it.each([
    {
      how: "from Content-Length alone, before reading the body",
      chunks: 1000,
      max: 1024,
      contentLength: "1000000",
      error: "request body is 1000000 bytes, limit is 1024 bytes",
      mostPulled: 1, // a stream may pre-pull one chunk
    },
    {
      how: "by streamed size without Content-Length, and stops reading",
      chunks: 1000,
      max: 4096,
      contentLength: undefined,
      error: "request body exceeds the limit of 4096 bytes",
      mostPulled: 9,
    },
    {
      how: "when Content-Length lies low",
      chunks: 10,
      max: 4096,
      contentLength: "10",
      error: "request body exceeds the limit of 4096 bytes",
      mostPulled: 9,
    },
  ])("answers 413 $how", async ({ chunks, max, contentLength, error, mostPulled }) => {
    const body = chunked(chunks, 1000);
    const res = await post(max, body.stream, contentLength);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: `${error}; ${BODY_LIMIT_HINT}` });
    expect(body.pulled()).toBeLessThanOrEqual(mostPulled);
  });

  it("hands the handler the size actually read when Content-Length lies high", async () => {
    const res = await post(4096, chunked(3, 100).stream, "4000");
    expect(await res.json()).toEqual({ bytes: 300, sum: 300 * 0x61 });
  });

  it("refuses a negative limit", () => {
    expect(() => bodyLimitMiddleware(-1)).toThrow("maxBytes must be an integer >= 0, got -1");
  });
});

describe.each([
  ["web streams", undefined],
  ["readNodeBody", readNodeBody],
])("bodyLimitMiddleware behind a real Node server (%s)", (_, read) => {
  it("answers 413 to an oversized chunked upload and still serves the next request", async () => {
    // Counts the requests the reader took (readNodeBody: every POST; it declines nothing here).
    let direct = 0;
    const counted: BodyReader | undefined =
      read === undefined
        ? undefined
        : (c, max) => {
            const p = read(c, max);
            if (p !== undefined) direct++;
            return p;
          };
    const server = serve({ fetch: app(64 * 1024, counted).fetch, port: 0, hostname: "127.0.0.1" });
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/echo`;
    try {
      const big = chunked(200, 1024); // 200 KiB, no Content-Length: chunked transfer encoding
      const res = await fetch(url, { method: "POST", body: big.stream, duplex: "half" } as RequestInit);
      expect(res.status).toBe(413);
      // The unread rest makes the socket unusable: the client is told not to reuse it.
      expect(res.headers.get("connection")).toBe("close");
      expect(await res.json()).toEqual({
        error: `request body exceeds the limit of 65536 bytes; ${BODY_LIMIT_HINT}`,
      });

      const declared = await fetch(url, { method: "POST", body: new Uint8Array(100 * 1024) });
      expect(declared.status).toBe(413);
      expect(declared.headers.get("connection")).toBe("close");
      expect(await declared.json()).toEqual({
        error: `request body is 102400 bytes, limit is 65536 bytes; ${BODY_LIMIT_HINT}`,
      });

      const ok = await fetch(url, { method: "POST", body: "hello" });
      expect(await ok.json()).toEqual({ bytes: 5, sum: 532 });
      // Many chunks, with and without Content-Length, come back whole.
      const within = chunked(40, 1024);
      const streamed = await fetch(url, {
        method: "POST",
        body: within.stream,
        duplex: "half",
      } as RequestInit);
      expect(await streamed.json()).toEqual({ bytes: 40 * 1024, sum: 40 * 1024 * 0x61 });
      const sized = await fetch(url, { method: "POST", body: new Uint8Array(64 * 1024).fill(1) });
      expect(await sized.json()).toEqual({ bytes: 64 * 1024, sum: 64 * 1024 });
      // The node reader takes the 413 by Content-Length too (it drains that body): all 5 POSTs.
      expect(direct).toBe(read === undefined ? 0 : 5);
    } finally {
      // serve() on plain HTTP is an http.Server; keep-alive sockets would hold close() open.
      const http = server as Server;
      const closed = new Promise((r) => http.close(r));
      http.closeAllConnections();
      await closed;
    }
  });
});
