/** Both ends of the model-function transport: events, results, and errors crossing as kind + message. */
import { describe, expect, it } from "vitest";
import {
  BackendFailure,
  BackendTimeout,
  ClientClosed,
  DependencyUnavailable,
  type ErrorKind,
  Forbidden,
  type InferenceError,
  InvalidInput,
  ModelNotFound,
  ModelNotReady,
  Overloaded,
  PayloadTooLarge,
  RateLimited,
  Unauthorized,
} from "../../../layers/errors";
import type { DecodedInferRequest } from "../../../layers/protocol/types";
import {
  ERROR_KINDS,
  errorOfFailure,
  failureOf,
  inferEvent,
  inferResultOf,
  parseTransportEvent,
  parseTransportResult,
  queryEvent,
  requestOfEvent,
  toBase64,
} from "../../../layers/transport";

const utf8 = new TextEncoder();

describe("transport events", () => {
  it("carry an infer request as a base64 binary body, losslessly", () => {
    const request: DecodedInferRequest = {
      id: "r-1",
      parameters: { priority: 2 },
      inputs: [
        { name: "ids", datatype: "INT64", shape: [1, 3], data: new BigInt64Array([-1n, 0n, 2n ** 62n]) },
        {
          name: "text",
          datatype: "BYTES",
          shape: [2],
          data: [utf8.encode("héllo"), new Uint8Array([0, 255])],
        },
        { name: "h", datatype: "FP16", shape: [1], data: new Uint16Array([0x3c00]) },
      ],
      outputs: [{ name: "y", parameters: { binary_data: true } }],
    };
    const event = inferEvent("m", 3, request);
    expect(event).toMatchObject({ action: "infer", model: "m", version: "3", request: expect.any(String) });
    expect(event.headerLength).toBeGreaterThan(0);
    const wire = JSON.parse(JSON.stringify(event));
    const back = requestOfEvent(parseTransportEvent(wire));
    expect(back.id).toBe("r-1");
    expect(back.parameters).toEqual({ priority: 2 });
    expect(back.outputs).toEqual([{ name: "y" }]);
    expect(back.inputs.map((t) => [t.name, t.datatype, t.shape])).toEqual(
      request.inputs.map((t) => [t.name, t.datatype, t.shape]),
    );
    expect(back.inputs[0]?.data).toEqual(new BigInt64Array([-1n, 0n, 2n ** 62n]));
    expect(back.inputs[1]?.data).toEqual([utf8.encode("héllo"), new Uint8Array([0, 255])]);
    expect(back.inputs[2]?.data).toEqual(new Uint16Array([0x3c00]));
  });

  it("may carry the JSON request itself", () => {
    const req = requestOfEvent(
      parseTransportEvent({
        action: "infer",
        model: "m",
        request: { inputs: [{ name: "x", shape: [2], datatype: "INT32", data: [7, 8] }] },
      }),
    );
    expect(req.inputs[0]?.data).toEqual(new Int32Array([7, 8]));
  });

  it("build metadata and ready queries", () => {
    expect(queryEvent("metadata", "m", undefined)).toEqual({ action: "metadata", model: "m" });
    expect(queryEvent("ready", "m", 2)).toEqual({ action: "ready", model: "m", version: "2" });
  });

  it.each([
    [null, "event must be a JSON object"],
    [{ action: "train", model: "m" }, 'event.action must be one of infer, metadata, ready, received "train"'],
    [{ action: "ready", model: "" }, "event.model must be a non-empty string"],
    [{ action: "ready", model: "m", version: 2 }, "event.version must be a string"],
    [{ action: "infer", model: "m" }, "event.request must be a base64 protocol body or a JSON infer request"],
    [
      { action: "infer", model: "m", request: "e30=", headerLength: "2" },
      "event.headerLength must be a number",
    ],
  ])("refuse a malformed event %o", (event, message) => {
    expect(() => parseTransportEvent(event)).toThrow(new InvalidInput(message));
  });

  it("refuse a body that does not decode", () => {
    const event = parseTransportEvent({
      action: "infer",
      model: "m",
      request: toBase64(utf8.encode('{"inputs": []}')),
    });
    expect(() => requestOfEvent(event)).toThrow(InvalidInput);
  });
});

describe("transport results", () => {
  it.each([
    [null],
    [{ ok: "yes" }],
    [{ ok: false, kind: "exploded", error: "x" }],
    [{ ok: false, kind: "internal" }],
    [{ ok: true, action: "infer", version: 1, body: "" }],
    [{ ok: true, action: "infer", version: "1", body: "", headerLength: "3" }],
    [{ ok: true, action: "metadata", version: "1", description: { version: "1", metadata: {}, config: {} } }],
    [{ ok: true, action: "ready" }],
  ])("are refused as a backend failure when malformed: %o", (raw) => {
    expect(() => parseTransportResult(raw, "m")).toThrow(
      new BackendFailure("model 'm' returned a malformed response"),
    );
  });

  it("turn an infer body that does not decode into a backend failure", () => {
    const result = {
      ok: true as const,
      action: "infer" as const,
      version: "1",
      body: toBase64(utf8.encode("{")),
    };
    expect(() => inferResultOf(result, "m")).toThrow(BackendFailure);
  });

  it("turn every failure kind back into its domain error", () => {
    const expected: Record<ErrorKind, unknown> = {
      invalid_input: InvalidInput,
      model_not_found: ModelNotFound,
      model_not_ready: ModelNotReady,
      overloaded: Overloaded,
      dependency_unavailable: DependencyUnavailable,
      backend_timeout: BackendTimeout,
      internal: BackendFailure,
      backend_failure: BackendFailure,
      unauthorized: Unauthorized,
      forbidden: Forbidden,
      payload_too_large: PayloadTooLarge,
      rate_limited: RateLimited,
      client_closed: ClientClosed,
    };
    for (const kind of ERROR_KINDS) {
      const e = errorOfFailure({ ok: false, kind, error: `because ${kind}` });
      expect(e).toBeInstanceOf(expected[kind] as typeof InferenceError);
      expect(e.message).toBe(`because ${kind}`);
      expect(e.kind).toBe(kind === "internal" ? "backend_failure" : kind);
    }
  });

  it("keep a domain error's kind and message, and hide anything else", () => {
    expect(failureOf(new ModelNotFound("model 'x' has no version 4"))).toEqual({
      ok: false,
      kind: "model_not_found",
      error: "model 'x' has no version 4",
    });
    expect(failureOf(new TypeError("cannot read properties of undefined (reading 'dims')"))).toEqual({
      ok: false,
      kind: "internal",
      error: "internal error in the model function",
    });
  });
});
