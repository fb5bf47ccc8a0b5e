/**
 * fast-check arbitraries of malformed binary infer requests (the binary tensor data extension) and of
 * requests that are wrong before their body is even read: size, route, method, content type.
 */
import fc from "fast-check";
import { badJson, badShapes, batch, type FuzzRequest, headerText, INFER, json } from "./fuzz-requests";

const enc = new TextEncoder();

/** A valid binary request: JSON header, then a's and b's bytes. */
function binaryRequest(n: number): { header: Uint8Array; body: Uint8Array } {
  const bytes = 16 * n;
  const header = enc.encode(
    JSON.stringify({
      inputs: [
        { name: "a", shape: [n, 4], datatype: "FP32", parameters: { binary_data_size: bytes } },
        { name: "b", shape: [n, 4], datatype: "FP32", parameters: { binary_data_size: bytes } },
      ],
    }),
  );
  const body = new Uint8Array(header.byteLength + 2 * bytes);
  body.set(header);
  body.fill(0x3f, header.byteLength); // 0x3f3f3f3f: a float32 near 0.75
  return { header, body };
}

const binary = (
  kind: string,
  body: Uint8Array,
  headerLength: string,
  extra: Record<string, string> = {},
): FuzzRequest => ({
  kind,
  path: INFER,
  method: "POST",
  headers: {
    "content-type": "application/octet-stream",
    "inference-header-content-length": headerLength,
    ...extra,
  },
  body,
});

/** Binary bodies cut short, and binary_data_size values that lie. */
export const truncatedBinary: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.tuple(batch, fc.double({ min: 0, max: 1, noNaN: true })).map(([n, cut]) => {
    const { header, body } = binaryRequest(n);
    const keep = header.byteLength + Math.floor(cut * (body.byteLength - header.byteLength - 1));
    return binary("truncated binary data", body.slice(0, keep), String(header.byteLength));
  }),
  fc.tuple(batch, fc.integer({ min: 1, max: 4096 })).map(([n, extra]) => {
    const { header, body } = binaryRequest(n);
    const longer = new Uint8Array(body.byteLength + extra);
    longer.set(body);
    return binary("trailing binary data", longer, String(header.byteLength));
  }),
  fc
    .tuple(batch, fc.integer({ min: -5, max: 2 ** 40 }))
    .filter(([n, size]) => size !== 16 * n)
    .map(([n, size]) => {
      const { body } = binaryRequest(n);
      const text = new TextDecoder().decode(body);
      const header = enc.encode(
        text
          .slice(0, text.indexOf("}]}") + 3)
          .replace(`"binary_data_size":${16 * n}}`, `"binary_data_size":${size}}`),
      );
      const lied = new Uint8Array(header.byteLength + 32 * n);
      lied.set(header);
      return binary("lying binary_data_size", lied, String(header.byteLength));
    }),
);

/** Inference-Header-Content-Length values that are not the JSON header's length. */
export const badHeaderLengths: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    batch,
    fc.oneof(
      headerText,
      fc.integer({ min: -(2 ** 31), max: -1 }).map(String),
      fc.double({ noNaN: true }).map(String),
      fc.integer({ min: 0, max: 2 ** 53 }).map(String),
      fc.constantFrom("0x10", "1e3", "+12", "12abc", " 1 2 ", "Infinity", "NaN", "9".repeat(30)),
    ),
  )
  .map(([n, value]) => ({ n, value, ...binaryRequest(n) }))
  .filter(({ value, header }) => !/^\s*[0-9]+\s*$/.test(value) || Number(value.trim()) !== header.byteLength)
  .map(({ value, body }) => ({ ...binary("bad Inference-Header-Content-Length", body, value), status: 400 }));

/** A malformed body of any kind sent with a content type that does not fit it. */
export const wrongContentTypes: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.oneof(badJson, badShapes, truncatedBinary),
    fc.oneof(
      fc.constantFrom(
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "image/png",
        "application/json; charset=utf-16",
        "",
      ),
      headerText,
    ),
  )
  .map(([req, contentType]) => ({
    ...req,
    kind: `${req.kind} as ${JSON.stringify(contentType)}`,
    headers: { ...req.headers, "content-type": contentType },
  }));

/** Bodies over MAX_BODY_BYTES (the fuzz server sets 65536), and requests to routes that do not take them. */
export const oversizeAndRoutes: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.integer({ min: 65_537, max: 200_000 }).map((size) => ({
    ...json("body over the limit", "[".padEnd(size, "0")),
    status: 413,
    error: new RegExp(`^request body is ${size} bytes, limit is 65536 bytes; `),
  })),
  fc
    .tuple(fc.constantFrom("0", "-1", "01x", "abc", "99999999999999999999", "1.5", "%00"), badJson)
    .map(([v, req]) => ({
      ...req,
      kind: `bad version ${v}`,
      path: `/v2/models/add/versions/${v}/infer`,
    })),
  fc
    .tuple(
      fc.stringMatching(/^[a-z0-9_-]{1,12}$/).filter((m) => m !== "add"),
      badJson,
    )
    .map(([m, req]) => ({ ...req, kind: "unknown model", path: `/v2/models/${m}/infer`, status: 404 })),
  fc
    .constantFrom("PUT", "DELETE", "PATCH")
    .map((method) => ({ ...json("wrong method", "{}"), method, status: 405 })),
);
