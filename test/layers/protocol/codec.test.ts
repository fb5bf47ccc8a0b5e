import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../../layers/errors";
import { binaryOutputsOf, decodeInferRequest, encodeInferRequest } from "../../../layers/protocol/codec";
import type { Tensor } from "../../../layers/protocol/types";
import {
  body,
  expectInvalid,
  expectSameBits,
  expectSameJSON,
  f32,
  fp32In,
  header,
  json,
  RUNS,
  tensorsArb,
  utf8,
} from "./arbitraries";

describe("request codec", () => {
  it("decodes what the client encodes as JSON", () => {
    fc.assert(
      fc.property(tensorsArb(true), fc.option(fc.string(), { nil: undefined }), (inputs, id) => {
        const enc = encodeInferRequest({ id, inputs, outputs: [{ name: "o" }] }, { binary: false });
        expect(enc.contentType).toBe("application/json");
        expect(enc.headerLength).toBeUndefined();
        const req = decodeInferRequest(enc.body);
        expect(req.id).toBe(id);
        expect(req.outputs).toEqual([{ name: "o" }]);
        expect(req.inputs).toHaveLength(inputs.length);
        for (const [i, t] of inputs.entries()) expectSameJSON(req.inputs[i], t);
      }),
      RUNS,
    );
  });

  it("decodes what the client encodes as binary, bit for bit, from a body at any offset", () => {
    fc.assert(
      fc.property(tensorsArb(false), fc.integer({ min: 0, max: 7 }), (inputs, at) => {
        const enc = encodeInferRequest({ inputs, parameters: { p: 1 } }, { binary: true });
        expect(enc.contentType).toBe("application/octet-stream");
        const placed = new Uint8Array(at + enc.body.byteLength);
        placed.set(enc.body, at);
        const req = decodeInferRequest(placed.subarray(at), enc.headerLength);
        expect(req.parameters).toEqual({ p: 1 });
        inputs.forEach((t, i) => {
          expectSameBits(req.inputs[i], t);
          expect(req.inputs[i]?.parameters).toBeUndefined();
        });
      }),
      RUNS,
    );
  });

  it("decodes a stock client's binary request, zero-copy where aligned, keeping other parameters", () => {
    const h = {
      id: "r1",
      parameters: { binary_data_output: true },
      inputs: [
        { name: "input0", shape: [2, 2], datatype: "UINT32", parameters: { binary_data_size: 16, tag: "a" } },
        { name: "input1", shape: [3], datatype: "BOOL", parameters: { binary_data_size: 3 } },
        { name: "input2", shape: [1], datatype: "BYTES", data: ["hi"] },
      ],
      outputs: [{ name: "output0", parameters: { binary_data: true } }, { name: "output1" }],
    };
    // Pad the header to a multiple of 4 (whitespace is valid JSON) so input0 can be a view.
    const text = JSON.stringify(h);
    const padded = text + " ".repeat((4 - (utf8(text).byteLength % 4)) % 4);
    const b = body(padded, [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0], [1, 0, 1]);
    expect(b.headerLength % 4).toBe(0);
    const req = decodeInferRequest(b.body, b.headerLength);
    expect(req.id).toBe("r1");
    expect(req.binaryDataOutput).toBe(true);
    const [in0, in1, in2] = req.inputs;
    expect(Array.from(in0?.data as Uint32Array)).toEqual([1, 2, 3, 4]);
    expect(in0?.parameters).toEqual({ tag: "a" });
    expect((in0?.data as Uint32Array | undefined)?.buffer).toBe(b.body.buffer);
    expect(Array.from(in1?.data as Uint8Array)).toEqual([1, 0, 1]);
    expect(in2?.data).toEqual([utf8("hi")]);
    expect(req.outputs).toEqual(h.outputs);
    expect(binaryOutputsOf(req)).toBe("all");
  });

  it("pads the binary request header so the first tensor is aligned", () => {
    const t: Tensor = { name: "x", datatype: "FP64", shape: [1], data: Float64Array.from([1.5]) };
    const enc = encodeInferRequest({ inputs: [t] }, { binary: true });
    expect((enc.headerLength ?? 1) % 8).toBe(0);
    expect(header(enc)).toEqual({
      inputs: [{ name: "x", datatype: "FP64", shape: [1], parameters: { binary_data_size: 8 } }],
    });
    const req = decodeInferRequest(enc.body, enc.headerLength);
    expect((req.inputs[0]?.data as Float64Array | undefined)?.buffer).toBe(enc.body.buffer);
  });

  it("rejects a bad Inference-Header-Content-Length", () => {
    const b = body({ inputs: [fp32In({ data: [1, 2] })] });
    const msg = `Inference-Header-Content-Length: expected an integer between 0 and the body length ${b.body.length}`;
    expectInvalid(
      () => decodeInferRequest(b.body, b.body.length + 1),
      `${msg}, received ${b.body.length + 1}`,
    );
    expectInvalid(() => decodeInferRequest(b.body, -1), `${msg}, received -1`);
    expectInvalid(() => decodeInferRequest(b.body, 3.5), `${msg}, received 3.5`);
    expectInvalid(() => decodeInferRequest(b.body, Number.NaN), `${msg}, received NaN`);
    expectInvalid(() => decodeInferRequest(b.body, 5), "request is not valid JSON");
  });

  it("rejects truncated, overlong and inconsistent binary data", () => {
    const h = { inputs: [fp32In({ parameters: { binary_data_size: 8 } })] };
    const truncated = body(h, f32(1).concat([0]));
    expectInvalid(
      () => decodeInferRequest(truncated.body, truncated.headerLength),
      "input 'x': binary_data_size 8 exceeds the 5 bytes of binary data left (truncated body)",
    );
    const overlong = body(h, f32(1, 2), [9, 9]);
    expectInvalid(
      () => decodeInferRequest(overlong.body, overlong.headerLength),
      "binary data: 2 bytes left over after the last input (overlong body)",
    );
    const noBinary = body({ inputs: [fp32In({ data: [1, 2] })] }, [0]);
    expectInvalid(
      () => decodeInferRequest(noBinary.body, noBinary.headerLength),
      "1 bytes left over after the last input",
    );
    const wrongSize = body({ inputs: [fp32In({ parameters: { binary_data_size: 6 } })] }, [1, 2, 3, 4, 5, 6]);
    expectInvalid(
      () => decodeInferRequest(wrongSize.body, wrongSize.headerLength),
      "input 'x': expected 8 bytes for FP32 shape [2], received 6",
    );
    const noHeader = body(h, f32(1, 2));
    expectInvalid(
      () => decodeInferRequest(json(h)),
      "input 'x': binary_data_size given but the body has no binary part (no Inference-Header-Content-Length)",
    );
    expect(decodeInferRequest(noHeader.body, noHeader.headerLength).inputs[0]?.data).toEqual(
      Float32Array.from([1, 2]),
    );
  });

  it("rejects a bad binary_data_size, or one beside data, or an input with neither", () => {
    const one = (input: object) => {
      const b = body({ inputs: [input] }, f32(1, 2));
      return () => decodeInferRequest(b.body, b.headerLength);
    };
    expectInvalid(
      one(fp32In({ parameters: { binary_data_size: -8 } })),
      "input 'x': parameters.binary_data_size must be a non-negative integer, received -8",
    );
    expectInvalid(
      one(fp32In({ parameters: { binary_data_size: "8" } })),
      'must be a non-negative integer, received "8"',
    );
    expectInvalid(
      one(fp32In({ data: [1, 2], parameters: { binary_data_size: 8 } })),
      "input 'x': both data and parameters.binary_data_size given",
    );
    expectInvalid(one(fp32In()), "input 'x': neither data nor parameters.binary_data_size given");
  });

  it("rejects malformed JSON and a malformed request shape", () => {
    expectInvalid(() => decodeInferRequest(json('{"inputs": [')), /^request is not valid JSON: .+/);
    expectInvalid(() => decodeInferRequest(new Uint8Array()), "request is not valid JSON");
    expectInvalid(
      () => decodeInferRequest(Uint8Array.from([0x7b, 0xff, 0x7d])),
      "request JSON is not valid UTF-8",
    );
    expectInvalid(() => decodeInferRequest(json("[1]")), "request must be a JSON object, received an array");
    expectInvalid(
      () => decodeInferRequest(json({})),
      "request: inputs must be a non-empty array, received nothing",
    );
    expectInvalid(
      () => decodeInferRequest(json({ inputs: [] })),
      "request: inputs must be a non-empty array, received an array",
    );
    expectInvalid(() => decodeInferRequest(json({ inputs: [7] })), "inputs[0] must be an object, received 7");
    expectInvalid(
      () => decodeInferRequest(json({ inputs: [{ shape: [1] }] })),
      "inputs[0].name must be a string, received nothing",
    );
    const dup = { inputs: [fp32In({ data: [1, 2] }), fp32In({ data: [3, 4] })] };
    expectInvalid(() => decodeInferRequest(json(dup)), "input 'x': duplicate input name");
    const ok = [fp32In({ data: [1, 2] })];
    expectInvalid(
      () => decodeInferRequest(json({ id: 5, inputs: ok })),
      "request: id must be a string, received 5",
    );
    expectInvalid(
      () => decodeInferRequest(json({ parameters: [], inputs: ok })),
      "request: parameters must be an object, received an array",
    );
    expectInvalid(
      () => decodeInferRequest(json({ inputs: ok, outputs: {} })),
      "request: outputs must be an array",
    );
    expectInvalid(
      () => decodeInferRequest(json({ inputs: ok, outputs: [{}] })),
      "outputs[0].name must be a string, received nothing",
    );
    expectInvalid(
      () => decodeInferRequest(json({ inputs: ok, outputs: [{ name: "o" }, { name: "o" }] })),
      "output 'o': requested twice",
    );
    expectInvalid(
      () => decodeInferRequest(json({ inputs: ok, outputs: [{ name: "o", parameters: 1 }] })),
      "output 'o': parameters must be an object, received 1",
    );
  });

  it("passes tensor errors through, naming the input", () => {
    expectInvalid(
      () => decodeInferRequest(json({ inputs: [fp32In({ datatype: "FP99", data: [1, 2] })] })),
      "input 'x': unknown datatype \"FP99\"",
    );
    expectInvalid(
      () => decodeInferRequest(json({ inputs: [fp32In({ shape: [2, 3], data: [1, 2, 3, 4, 5] })] })),
      "input 'x': expected 6 elements for shape [2,3], received 5",
    );
    expectInvalid(
      () => decodeInferRequest(json({ inputs: [fp32In({ shape: [2, 2], data: [[1, 2], [3]] })] })),
      "input 'x': nested data does not match shape [2,2]",
    );
  });

  it("never throws anything but InvalidInput on hostile bodies", () => {
    const field = fc.oneof(
      fc.jsonValue(),
      fc.constantFrom(undefined, "FP32", "BYTES", [1], [2, 2], { binary_data_size: 4 }),
    );
    const hostile = fc.record(
      {
        id: field,
        parameters: field,
        inputs: fc.oneof(
          field,
          fc.array(
            fc.record(
              {
                name: fc.oneof(fc.constant("a"), field),
                shape: field,
                datatype: field,
                data: field,
                parameters: field,
              },
              { requiredKeys: [] },
            ),
            { maxLength: 3 },
          ),
        ),
        outputs: field,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        hostile,
        fc.uint8Array({ maxLength: 24 }),
        fc.option(fc.integer({ min: -2, max: 400 }), { nil: undefined }),
        (h, tail, cut) => {
          const b = body(h, Array.from(tail));
          for (const [bytes, len] of [
            [b.body, b.headerLength],
            [b.body, cut],
            [tail, cut],
          ] as const) {
            try {
              decodeInferRequest(bytes, len);
            } catch (e) {
              expect(e).toBeInstanceOf(InvalidInput);
            }
          }
        },
      ),
      RUNS,
    );
  });
});
