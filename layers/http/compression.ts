/**
 * HTTP compression as tritonclient uses it (`request_compression_algorithm`,
 * `response_compression_algorithm`): gzip or deflate (zlib format) bodies in, and out when the
 * client's `Accept-Encoding` asks. The inflated size is bounded while inflating (zlib stops at
 * `maxOutputLength`), so a small bomb costs no more memory than the body limit.
 */
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { MiddlewareHandler } from "hono";
import { InvalidInput, PayloadTooLarge } from "../errors";
import { quote } from "../protocol/quote";

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);

/** The request encodings served; any other `Content-Encoding` is refused (400 naming them). */
export const REQUEST_ENCODINGS = ["gzip", "deflate"] as const;
type Encoding = (typeof REQUEST_ENCODINGS)[number];

/**
 * The body as sent, inflated per `contentEncoding` (undefined or identity: unchanged), at most
 * `maxBytes` once inflated: PayloadTooLarge past that, InvalidInput for data that do not inflate.
 */
export async function inflateBody(
  body: Uint8Array,
  contentEncoding: string | undefined,
  maxBytes: number,
  hint: string,
): Promise<Uint8Array> {
  const encoding = contentEncoding?.trim().toLowerCase();
  if (encoding === undefined || encoding === "" || encoding === "identity") return body;
  if (encoding !== "gzip" && encoding !== "deflate") {
    throw new InvalidInput(
      `Content-Encoding ${quote(contentEncoding ?? "")} is not supported; send gzip, deflate or none`,
    );
  }
  try {
    return await (encoding === "gzip" ? gunzip : inflate)(body, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new PayloadTooLarge(`request body inflates to more than the limit of ${maxBytes} bytes; ${hint}`);
    }
    throw new InvalidInput(`request body is not valid ${encoding} data (Content-Encoding: ${encoding})`);
  }
}

/** The encoding `Accept-Encoding` asks for among gzip and deflate (gzip first), or undefined. */
export function acceptedEncoding(header: string | undefined): Encoding | undefined {
  if (header === undefined) return undefined;
  const accepted = new Set<string>();
  for (const part of header.split(",")) {
    const [name = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    accepted.add(name);
  }
  if (accepted.has("gzip") || accepted.has("*")) return "gzip";
  return accepted.has("deflate") ? "deflate" : undefined;
}

/**
 * Hono middleware: compresses a 200 response when the client accepts gzip or deflate. Errors stay
 * plain JSON: tritonclient reads an error body without inflating it.
 */
export function responseCompressionMiddleware(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const encoding = acceptedEncoding(c.req.header("accept-encoding"));
    const res = c.res;
    if (encoding === undefined || res.status !== 200 || res.body === null) return;
    if (res.headers.has("content-encoding")) return;
    // Compressed whenever asked, as Triton does: tritonclient inflates whatever says it is encoded.
    const plain = new Uint8Array(await res.arrayBuffer());
    const body = await (encoding === "gzip" ? gzip : deflate)(plain);
    const headers = new Headers(res.headers);
    headers.append("Vary", "Accept-Encoding");
    headers.set("Content-Encoding", encoding);
    headers.set("Content-Length", String(body.byteLength));
    // Cleared first: Hono's setter would copy the old headers (the plain Content-Length) over these.
    c.res = undefined;
    c.res = new Response(body as Uint8Array<ArrayBuffer>, { status: res.status, headers });
  };
}
