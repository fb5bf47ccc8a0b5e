/** The error mapping shared by the gateway and the container: status by kind, safe 5xx bodies, headers. */
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import {
  BackendFailure,
  DependencyUnavailable,
  type ErrorKind,
  InferenceError,
  ModelNotReady,
  Overloaded,
  Unauthorized,
} from "../../../layers/errors";
import { describeError, STATUS_OF } from "../../../layers/http";

describe("describeError", () => {
  it("maps every kind to its status", () => {
    const expected: Record<ErrorKind, number> = {
      invalid_input: 400,
      unauthorized: 401,
      forbidden: 403,
      model_not_found: 404,
      payload_too_large: 413,
      rate_limited: 429,
      internal: 500,
      backend_failure: 502,
      model_not_ready: 503,
      overloaded: 503,
      dependency_unavailable: 503,
      backend_timeout: 504,
      client_closed: 499,
    };
    expect(STATUS_OF).toEqual(expected);
    for (const [kind, status] of Object.entries(expected)) {
      expect(describeError(new InferenceError(kind as ErrorKind, "m"), "id", undefined).status).toBe(status);
    }
  });

  it("keeps 4xx messages and replaces 5xx ones with what failed and the request id", () => {
    expect(
      describeError(new InferenceError("forbidden", 'key may not use model "x"'), "r1", "x").message,
    ).toBe('key may not use model "x"');
    const internals = new ModelNotReady(
      "model 'x' failed to load: /opt/ml/model.onnx: protobuf parsing failed",
    );
    expect(describeError(internals, "r1", "x").message).toBe('model "x" is not ready (request id r1)');
    expect(
      describeError(new BackendFailure("AccessDeniedException: arn:aws:iam::1:role/r"), "r2", undefined)
        .message,
    ).toBe("a backend failed (request id r2)");
    expect(describeError(new RangeError("oops"), "r3", "x")).toMatchObject({
      status: 500,
      kind: "internal",
      message: "internal error (request id r3)",
    });
  });

  it("sets Retry-After in whole seconds and the auth challenge", () => {
    expect(describeError(new Overloaded("queue full", 0.2), "r", "m").headers).toEqual({
      "Retry-After": "1",
    });
    // A dependency's outage: its own kind (metric reason), the table's words, the 503's default wait.
    const outage = new DependencyUnavailable("key lookup failed: table keys", {
      cause: new Error("ECONNREFUSED"),
    });
    expect(describeError(outage, "r", "m")).toEqual({
      status: 503,
      kind: "dependency_unavailable",
      message: "the API key store is unavailable; retry later (request id r)",
      headers: { "Retry-After": "5" },
    });
    expect(describeError(new Unauthorized("missing API key"), "r", undefined)).toMatchObject({
      status: 401,
      message: "missing API key",
      headers: { "WWW-Authenticate": 'Bearer realm="edge-infer"' },
    });
  });

  it("honours Hono's HTTPException status", () => {
    expect(
      describeError(new HTTPException(413, { message: "Payload Too Large" }), "r", undefined),
    ).toMatchObject({
      status: 413,
      message: "Payload Too Large",
    });
  });
});
