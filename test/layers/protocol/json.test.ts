import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InferenceError } from "../../../layers/errors";
import { fromHalf, toHalf } from "../../../layers/protocol/datatypes";
import { tensorFromJSON, tensorToJSONData } from "../../../layers/protocol/json";
import type { RequestInput, Tensor } from "../../../layers/protocol/types";
import { expectInvalid, expectSameJSON, nest, RUNS, tensorArb } from "./arbitraries";

function roundTrip(t: Tensor): Tensor {
  // Through the text, as on the wire.
  const data: unknown = JSON.parse(JSON.stringify(tensorToJSONData(t)));
  return tensorFromJSON({ name: t.name, datatype: t.datatype, shape: t.shape, data });
}

const input = (over: Partial<RequestInput> & { data?: unknown }): RequestInput => ({
  name: "x",
  datatype: "FP32",
  shape: [2, 3],
  data: [1, 2, 3, 4, 5, 6],
  ...over,
});

describe("tensorFromJSON / tensorToJSONData", () => {
  it("round-trips every datatype through JSON text", () => {
    fc.assert(
      fc.property(tensorArb({ text: true }), (t) => expectSameJSON(roundTrip(t), t)),
      RUNS,
    );
  });

  it("decodes nested data to the same tensor as flat data", () => {
    fc.assert(
      fc.property(tensorArb({ text: true }), (t) => {
        const flat = JSON.parse(JSON.stringify(tensorToJSONData(t))) as unknown[];
        const a = tensorFromJSON({ name: t.name, datatype: t.datatype, shape: t.shape, data: flat });
        const b = tensorFromJSON({
          name: t.name,
          datatype: t.datatype,
          shape: t.shape,
          data: nest(flat, t.shape),
        });
        expectSameJSON(b, a);
      }),
      RUNS,
    );
  });

  it("decodes each datatype into its typed array", () => {
    const cases: Array<[RequestInput["datatype"], unknown[], unknown[]]> = [
      ["BOOL", [true, false, 1, 0], [1, 0, 1, 0]],
      ["UINT8", [0, 255], [0, 255]],
      ["INT8", [-128, 127], [-128, 127]],
      ["UINT16", [65535], [65535]],
      ["INT16", [-32768], [-32768]],
      ["UINT32", [4294967295], [4294967295]],
      ["INT32", [-2147483648], [-2147483648]],
      ["INT64", [-5, "-9223372036854775808"], [-5n, -(2n ** 63n)]],
      ["UINT64", ["18446744073709551615", 7], [2n ** 64n - 1n, 7n]],
      ["FP32", [0.5, "NaN", "-Infinity"], [0.5, Number.NaN, Number.NEGATIVE_INFINITY]],
      ["FP64", [0.1, "Infinity"], [0.1, Number.POSITIVE_INFINITY]],
    ];
    for (const [datatype, data, want] of cases) {
      const t = tensorFromJSON({ name: "x", datatype, shape: [data.length], data });
      expect(Array.from(t.data as ArrayLike<unknown>)).toEqual(want);
    }
    const s = tensorFromJSON({ name: "s", datatype: "BYTES", shape: [3], data: ["", "héllo", "日本🎉"] });
    expect((s.data as Uint8Array[]).map((b) => new TextDecoder().decode(b))).toEqual(["", "héllo", "日本🎉"]);
    expect(Array.from((s.data as Uint8Array[])[1] ?? [])).toEqual([0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]);
  });

  it("writes INT64 as numbers while safe, as decimal strings beyond 2^53", () => {
    const t: Tensor = {
      name: "i",
      datatype: "INT64",
      shape: [4],
      data: BigInt64Array.from([2n ** 53n - 1n, -(2n ** 53n - 1n), 2n ** 53n, -(2n ** 63n)]),
    };
    expect(tensorToJSONData(t)).toEqual([
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      "9007199254740992",
      "-9223372036854775808",
    ]);
  });

  it("writes BOOL as booleans, non-finite floats as strings, BYTES as UTF-8 strings", () => {
    const b: Tensor = { name: "b", datatype: "BOOL", shape: [2], data: Uint8Array.from([1, 0]) };
    expect(tensorToJSONData(b)).toEqual([true, false]);
    const f: Tensor = {
      name: "f",
      datatype: "FP32",
      shape: [3],
      data: Float32Array.from([Number.NaN, Infinity, -1.5]),
    };
    expect(tensorToJSONData(f)).toEqual(["NaN", "Infinity", -1.5]);
    const s: Tensor = {
      name: "s",
      datatype: "BYTES",
      shape: [2],
      data: [new Uint8Array(), Uint8Array.from([0xe2, 0x82, 0xac])],
    };
    expect(tensorToJSONData(s)).toEqual(["", "€"]);
  });

  it("converts FP16 exactly on known values", () => {
    const known: Array<[number, number]> = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [2 ** -24, 0x0001], // smallest subnormal
      [6.1e-5, 0x03ff], // largest subnormal, 6.097555e-5
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [65520, 0x7c00], // halfway past the largest finite value: overflows
      [1 + 2 ** -11, 0x3c00], // tie, rounds to even (down)
      [1 + 3 * 2 ** -11, 0x3c02], // tie, rounds to even (up)
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // above the tie: up
    ];
    for (const [v, bits] of known) expect([v, toHalf(v)]).toEqual([v, bits]);
    expect(fromHalf(0x03ff)).toBe(1023 * 2 ** -24);
    expect(fromHalf(0x7bff)).toBe(65504);
    expect(Number.isNaN(fromHalf(toHalf(Number.NaN)))).toBe(true);
    const t = tensorFromJSON({ name: "h", datatype: "FP16", shape: [4], data: [1, -2, 65504, "NaN"] });
    expect(Array.from(t.data as Uint16Array).slice(0, 3)).toEqual([0x3c00, 0xc000, 0x7bff]);
    expect(tensorToJSONData(t)).toEqual([1, -2, 65504, "NaN"]);
  });

  it("rejects a bad datatype, shape or missing data, naming the tensor", () => {
    expectInvalid(() => tensorFromJSON(input({ datatype: "FP8" })), "input 'x': unknown datatype \"FP8\"");
    expectInvalid(
      () => tensorFromJSON(input({ datatype: undefined as never })),
      "input 'x': datatype is missing",
    );
    expectInvalid(
      () => tensorFromJSON(input({ shape: [2, -3] })),
      "input 'x': shape dimension 1 must be a non-negative integer, received -3",
    );
    expectInvalid(() => tensorFromJSON(input({ shape: [2.5] })), "received 2.5");
    expectInvalid(
      () => tensorFromJSON(input({ shape: "2,3" as never })),
      "input 'x': shape must be an array",
    );
    expectInvalid(() => tensorFromJSON(input({ shape: new Array(65).fill(1) })), "at most 64");
    expectInvalid(() => tensorFromJSON(input({ data: undefined })), "input 'x': data is missing");
    expectInvalid(
      () => tensorFromJSON(input({ data: { a: 1 } })),
      "input 'x': data must be an array, received a value of type object",
    );
    expectInvalid(() => tensorFromJSON({ name: 3 } as never), "input: name must be a string, received 3");
    expectInvalid(
      () => tensorFromJSON(input({ parameters: { p: [1] as never } })),
      'parameter "p" must be a string, number or boolean',
    );
  });

  it("rejects an element count that does not match the shape", () => {
    expectInvalid(
      () => tensorFromJSON(input({ data: [1, 2, 3, 4, 5] })),
      "input 'x': expected 6 elements for shape [2,3], received 5",
    );
    expectInvalid(
      () => tensorFromJSON(input({ shape: [], data: [] })),
      "expected 1 elements for shape [], received 0",
    );
  });

  // The data as a client's JSON writes it; shape [2,3] unless the row gives one.
  it.each([
    [
      "[[1,2,3],[4,5]]",
      "input 'x': nested data does not match shape [2,3]: expected 3 elements at depth 1, received 2 elements",
    ],
    ["[[1,2,3],4]", "expected 3 elements at depth 1, received 4"],
    ["[[1,2,3],[4,5,6],[7,8,9]]", "expected 2 elements at depth 0, received 3 elements"],
    ["[[1,2,3],[4,5,6]]", "input 'x': expected 6 elements for shape [6], received 2", [6]],
    ["[[1],[2]]", "input 'x': expected a number for FP32 at element 0, received an array", [2]],
  ])("rejects ragged or mis-shaped nested data: %s", (data, error, shape = [2, 3]) => {
    expectInvalid(() => tensorFromJSON(input({ shape, data: JSON.parse(data) })), error);
  });

  it("rejects a huge shape by the data's structure, before reserving memory for it", () => {
    // Allocating first would throw a RangeError (2^40 elements) instead of InvalidInput.
    expectInvalid(
      () => tensorFromJSON(input({ shape: [2 ** 40], data: [] })),
      "input 'x': expected 1099511627776 elements for shape [1099511627776], received 0",
    );
    expectInvalid(
      () => tensorFromJSON(input({ shape: [1, 2 ** 40], data: [[1]] })),
      "expected 1099511627776 elements at depth 1, received 1 elements",
    );
    const deep = JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    expectInvalid(
      () => tensorFromJSON(input({ shape: [1], data: deep })),
      "expected a number for FP32 at element 0, received an array",
    );
  });

  it("rejects JSON numbers beyond a float type's range instead of taking them as infinities (repro 8)", () => {
    const parsed = (datatype: string, data: string) =>
      tensorFromJSON(JSON.parse(`{"name": "x", "datatype": "${datatype}", "shape": [2], "data": ${data}}`));
    const beyond = (dt: string, v: string, max: string) =>
      `input 'x': element 1 (${v}) is out of range for ${dt} [-${max}, ${max}]`;
    expectInvalid(() => parsed("FP32", "[0, 1e39]"), beyond("FP32", "1e+39", "3.4028234663852886e+38"));
    expectInvalid(() => parsed("FP32", "[0, -1e400]"), beyond("FP32", "-Infinity", "3.4028234663852886e+38"));
    expectInvalid(() => parsed("FP64", "[0, 1e400]"), beyond("FP64", "Infinity", "1.7976931348623157e+308"));
    expectInvalid(() => parsed("FP16", "[0, 70000]"), beyond("FP16", "70000", "65504"));
    expectInvalid(() => parsed("FP16", "[0, 1e39]"), beyond("FP16", "1e+39", "65504"));
    // The largest values still fit, and infinities spelled as strings are still taken.
    expect(Array.from(parsed("FP32", '[3.4028234663852886e38, "-Infinity"]').data as Float32Array)).toEqual([
      3.4028234663852886e38,
      Number.NEGATIVE_INFINITY,
    ]);
    expect(Array.from(parsed("FP64", "[1e308, -1e308]").data as Float64Array)).toEqual([1e308, -1e308]);
    expect(Array.from(parsed("FP16", '[65504, "Infinity"]').data as Uint16Array)).toEqual([0x7bff, 0x7c00]);
  });

  it("rejects out-of-range and non-integer integers", () => {
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "UINT8", shape: [2], data: [1, 256] })),
      "input 'x': element 1 (256) is out of range for UINT8 [0, 255]",
    );
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "INT8", shape: [1], data: [-129] })),
      "element 0 (-129) is out of range for INT8 [-128, 127]",
    );
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "INT32", shape: [1], data: [1.5] })),
      "input 'x': expected an integer for INT32 at element 0, received 1.5",
    );
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "UINT32", shape: [1], data: ["7"] })),
      'expected an integer for UINT32 at element 0, received "7"',
    );
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "UINT64", shape: [1], data: [-1] })),
      "element 0 (-1) is out of range for UINT64 [0, 18446744073709551615]",
    );
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "INT64", shape: [1], data: ["9223372036854775808"] })),
      "element 0 (9223372036854775808) is out of range for INT64",
    );
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "INT64", shape: [1], data: [2 ** 60] })),
      "expected a safe integer or a decimal string for INT64 at element 0",
    );
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "INT64", shape: [1], data: ["1e3"] })),
      'expected a safe integer or a decimal string for INT64 at element 0, received "1e3"',
    );
  });

  it("rejects non-boolean BOOL, non-numeric floats and non-string BYTES", () => {
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "BOOL", shape: [3], data: [true, 2, false] })),
      "input 'x': expected a boolean for BOOL at element 1, received 2",
    );
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "BOOL", shape: [1], data: ["true"] })),
      'expected a boolean for BOOL at element 0, received "true"',
    );
    expectInvalid(
      () => tensorFromJSON(input({ shape: [2], data: [1, null] })),
      "input 'x': expected a number for FP32 at element 1, received null",
    );
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "FP16", shape: [1], data: ["nan"] })),
      'expected a number for FP16 at element 0, received "nan"',
    );
    expectInvalid(
      () => tensorFromJSON(input({ datatype: "BYTES", shape: [2], data: ["a", 1] })),
      "input 'x': expected a string for BYTES at element 1, received 1",
    );
  });

  it("reports a server tensor whose data does not fit its datatype or shape as an internal error", () => {
    const bad: Tensor = { name: "y", datatype: "FP32", shape: [3], data: Float32Array.from([1, 2]) };
    expect(() => tensorToJSONData(bad)).toThrow(InferenceError);
    expect(() => tensorToJSONData(bad)).toThrow(expect.objectContaining({ kind: "internal" }));
    expect(() => tensorToJSONData(bad)).toThrow("tensor 'y': expected 3 elements for shape [3], received 2");
    const wrong: Tensor = { name: "y", datatype: "INT32", shape: [1], data: Float32Array.from([1]) };
    expect(() => tensorToJSONData(wrong)).toThrow(
      "tensor 'y': INT32 data must be Int32Array, received a Float32Array",
    );
  });
});
