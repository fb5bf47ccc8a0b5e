/** The Lambda answer-size guard: a body Lambda could not return becomes our 413, through the real error mapping. */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import {
  lambdaResponseLimitMiddleware,
  lambdaWireBytes,
  MAX_LAMBDA_RESPONSE_BYTES,
} from "../../../gateway/limits/response-limit";
import { errorHandler, type ProtocolEnv, requestIdMiddleware } from "../../../layers/http";
import { silentLogger } from "../../../layers/telemetry";

function app(max: number) {
  const a = new Hono<ProtocolEnv>();
  a.use(requestIdMiddleware());
  a.use(lambdaResponseLimitMiddleware(max));
  a.get("/binary/:n", (c) => {
    const n = Number(c.req.param("n"));
    return c.body(new Uint8Array(n), 200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(n),
    });
  });
  a.get("/json/:n", (c) => {
    const n = Number(c.req.param("n"));
    return c.body("7".repeat(n), 200, { "Content-Type": "application/json", "Content-Length": String(n) });
  });
  a.onError(errorHandler(silentLogger, { requestIdField: true }));
  return a;
}

describe("lambdaResponseLimitMiddleware", () => {
  it("counts binary bodies as base64 and text bodies as they are", () => {
    expect(lambdaWireBytes(3, "application/octet-stream")).toBe(4);
    expect(lambdaWireBytes(4, null)).toBe(8);
    expect(lambdaWireBytes(4, "application/json")).toBe(4);
    expect(MAX_LAMBDA_RESPONSE_BYTES).toBe(6 * 1024 * 1024 - 128 * 1024);
  });

  it("lets answers that fit through and turns larger ones into a 413 that says what to do", async () => {
    const a = app(1000);
    expect((await a.request("/binary/750")).status).toBe(200); // 1000 bytes as base64
    expect((await a.request("/json/1000")).status).toBe(200);
    const binary = await a.request("/binary/751", { headers: { "x-request-id": "big-1" } });
    expect(binary.status).toBe(413);
    expect(await binary.json()).toEqual({
      error:
        "the answer is 1004 bytes as Lambda returns it, over the 1000-byte limit; ask for binary outputs (binary_data_output), fewer outputs or a smaller batch",
      request_id: "big-1",
    });
    expect((await a.request("/json/1001")).status).toBe(413);
  });
});
