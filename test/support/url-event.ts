/** Lambda Function URL events (payload format 2.0), as CloudFront forwards a client's request. */

/** The event of `method path` with `headers` and an optional text or binary body. */
export function functionUrlEvent(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: { text?: string; bytes?: Uint8Array },
) {
  const domainName = "abcdefg.lambda-url.us-east-1.on.aws";
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { host: domainName, "x-forwarded-proto": "https", ...headers },
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdefg",
      domainName,
      domainPrefix: "abcdefg",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "vitest" },
      requestId: "c0ffee00-0000-4000-8000-000000000000",
      routeKey: "$default",
      stage: "$default",
      time: "01/Jan/2026:00:00:00 +0000",
      timeEpoch: 1767225600000,
    },
    isBase64Encoded: body?.bytes !== undefined,
    ...(body?.bytes !== undefined
      ? { body: Buffer.from(body.bytes).toString("base64") }
      : body?.text !== undefined
        ? { body: body.text }
        : {}),
  };
}

/** What the gateway's handler returns for a Function URL event. */
export interface UrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}
