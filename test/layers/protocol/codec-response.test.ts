import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  binaryOutputsOf,
  decodeInferResponse,
  encodeInferRequest,
  encodeInferResponse,
} from "../../../layers/protocol/codec";
import type { Tensor } from "../../../layers/protocol/types";
import {
  body,
  expectInvalid,
  expectSameBits,
  expectSameJSON,
  header,
  json,
  RUNS,
  tensorsArb,
} from "./arbitraries";

describe("response codec", () => {
  it("decodes what the server encodes, JSON and binary outputs mixed", () => {
    fc.assert(
      fc.property(
        tensorsArb(true),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        (outputs, pick) => {
          const binary = new Set(outputs.filter((_, i) => pick[i]).map((t) => t.name));
          const enc = encodeInferResponse({ model_name: "m", model_version: "2", id: "q", outputs }, binary);
          const anyBinary = binary.size > 0;
          expect(enc.contentType).toBe(anyBinary ? "application/octet-stream" : "application/json");
          expect(enc.headerLength !== undefined).toBe(anyBinary);
          const res = decodeInferResponse(enc.body, enc.headerLength);
          expect([res.model_name, res.model_version, res.id]).toEqual(["m", "2", "q"]);
          for (const [i, t] of outputs.entries()) {
            (binary.has(t.name) ? expectSameBits : expectSameJSON)(res.outputs[i], t);
          }
        },
      ),
      RUNS,
    );
  });

  it("decodes every datatype sent as binary, bit for bit", () => {
    fc.assert(
      fc.property(tensorsArb(false), (outputs) => {
        const enc = encodeInferResponse({ model_name: "m", outputs }, "all");
        const res = decodeInferResponse(enc.body, enc.headerLength);
        for (const [i, t] of outputs.entries()) expectSameBits(res.outputs[i], t);
      }),
      RUNS,
    );
  });

  it("writes binary outputs' sizes in the header and their bytes after it, in order", () => {
    const outputs: Tensor[] = [
      { name: "a", datatype: "INT16", shape: [2], data: Int16Array.from([1, -1]) },
      { name: "b", datatype: "FP32", shape: [1], data: Float32Array.from([2]), parameters: { note: "x" } },
      { name: "c", datatype: "UINT8", shape: [1], data: Uint8Array.from([7]) },
    ];
    const enc = encodeInferResponse({ model_name: "m", outputs }, new Set(["a", "c"]));
    expect(enc.contentType).toBe("application/octet-stream");
    expect(header(enc)).toEqual({
      model_name: "m",
      outputs: [
        { name: "a", datatype: "INT16", shape: [2], parameters: { binary_data_size: 4 } },
        { name: "b", datatype: "FP32", shape: [1], parameters: { note: "x" }, data: [2] },
        { name: "c", datatype: "UINT8", shape: [1], parameters: { binary_data_size: 1 } },
      ],
    });
    expect(Array.from(enc.body.subarray(enc.headerLength))).toEqual([1, 0, 0xff, 0xff, 7]);
    const plain = encodeInferResponse({ model_name: "m", outputs }, undefined);
    expect(plain.headerLength).toBeUndefined();
    expect(JSON.parse(new TextDecoder().decode(plain.body)).outputs[0]).toEqual({
      name: "a",
      datatype: "INT16",
      shape: [2],
      data: [1, -1],
    });
  });

  it("rejects responses that are errors or malformed", () => {
    expectInvalid(
      () => decodeInferResponse(json({ error: "model m not found" })),
      "response is an error: model m not found",
    );
    expectInvalid(
      () => decodeInferResponse(json({ outputs: [] })),
      "response: model_name must be a string, received nothing",
    );
    expectInvalid(
      () => decodeInferResponse(json({ model_name: "m" })),
      "outputs must be an array, received nothing",
    );
    expectInvalid(
      () =>
        decodeInferResponse(
          json({ model_name: "m", outputs: [{ name: "y", datatype: "INT8", shape: [1], data: [300] }] }),
        ),
      "output 'y': element 0 (300) is out of range for INT8 [-128, 127]",
    );
    const b = body(
      {
        model_name: "m",
        outputs: [{ name: "y", datatype: "INT8", shape: [2], parameters: { binary_data_size: 2 } }],
      },
      [1],
    );
    expectInvalid(
      () => decodeInferResponse(b.body, b.headerLength),
      "output 'y': binary_data_size 2 exceeds the 1 bytes",
    );
    expectInvalid(
      () => decodeInferResponse(json({ model_name: "m", model_version: 1, outputs: [] })),
      "response: model_version must be a string",
    );
  });
});

describe("binaryOutputsOf", () => {
  const outs = (...o: Array<[string, boolean?]>) =>
    o.map(([name, b]) => (b === undefined ? { name } : { name, parameters: { binary_data: b } }));
  it("follows binary_data_output as the default and binary_data per output as the override", () => {
    const inputs: Tensor[] = [];
    expect(binaryOutputsOf({ inputs })).toBeUndefined();
    expect(binaryOutputsOf({ inputs, binaryDataOutput: true })).toBe("all");
    expect(binaryOutputsOf({ inputs, binaryDataOutput: true, outputs: outs(["a"], ["b", true]) })).toBe(
      "all",
    );
    expect(binaryOutputsOf({ inputs, binaryDataOutput: true, outputs: outs(["a"], ["b", false]) })).toEqual(
      new Set(["a"]),
    );
    expect(binaryOutputsOf({ inputs, outputs: outs(["a", true], ["b"], ["c", true]) })).toEqual(
      new Set(["a", "c"]),
    );
    expect(binaryOutputsOf({ inputs, outputs: outs(["a", false], ["b"]) })).toBeUndefined();
  });
});

describe("encodeInferRequest", () => {
  it("rejects a tensor whose data does not match its datatype or shape", () => {
    const t: Tensor = { name: "x", datatype: "FP32", shape: [2, 2], data: Float32Array.from([1]) };
    expectInvalid(
      () => encodeInferRequest({ inputs: [t] }, { binary: true }),
      "tensor 'x': expected 4 elements for shape [2,2], received 1",
    );
    const s: Tensor = { name: "s", datatype: "BYTES", shape: [1], data: ["a" as never] };
    expectInvalid(
      () => encodeInferRequest({ inputs: [s] }, { binary: false }),
      "tensor 's': BYTES data must be an array of Uint8Array",
    );
  });
});
