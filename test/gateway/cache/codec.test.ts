import { describe, expect, it } from "vitest";
import { decodeResult, encodeResult } from "../../../gateway/cache/codec";
import type { CachedResult } from "../../../gateway/cache/types";

const utf8 = new TextEncoder();

const result: CachedResult = {
  version: "3",
  parameters: { sequence_id: 7, note: "x" },
  outputs: [
    { name: "probs", datatype: "FP32", shape: [1, 3], data: Float32Array.from([0.25, 0.5, 0.125]) },
    { name: "ids", datatype: "INT64", shape: [2], data: BigInt64Array.from([-1n, 2n ** 40n]) },
    { name: "mask", datatype: "BOOL", shape: [3], data: Uint8Array.from([1, 0, 1]) },
    { name: "half", datatype: "FP16", shape: [1], data: Uint16Array.from([0x3c00]) },
    { name: "flag", datatype: "INT8", shape: [], data: Int8Array.from([-5]) },
    {
      name: "text",
      datatype: "BYTES",
      shape: [2],
      data: [utf8.encode("héllo"), utf8.encode("")],
      parameters: { lang: "fr" },
    },
  ],
};

describe("encodeResult / decodeResult", () => {
  it("round-trips version, parameters and every output exactly", () => {
    const back = decodeResult(encodeResult(result));
    expect(back.version).toBe("3");
    expect(back.parameters).toEqual(result.parameters);
    expect(back.outputs.map((t) => [t.name, t.datatype, t.shape])).toEqual(
      result.outputs.map((t) => [t.name, t.datatype, t.shape]),
    );
    for (let i = 0; i < result.outputs.length; i++) {
      expect(back.outputs[i]?.data).toEqual(result.outputs[i]?.data);
    }
    expect(back.outputs[5]?.parameters).toEqual({ lang: "fr" });
  });

  it("is the protocol's binary response: header plus raw bytes, no JSON numbers", () => {
    const big: CachedResult = {
      version: "1",
      outputs: [
        { name: "y", datatype: "FP32", shape: [10_000], data: new Float32Array(10_000).fill(Math.PI) },
      ],
    };
    const bytes = encodeResult(big);
    expect(bytes.byteLength).toBeGreaterThan(40_000);
    expect(bytes.byteLength).toBeLessThan(40_000 + 200);
  });

  it("returns tensors that do not alias the cached bytes", () => {
    const bytes = encodeResult(result);
    const back = decodeResult(bytes);
    const probs = back.outputs[0]?.data as Float32Array;
    probs[0] = 42;
    expect(decodeResult(bytes).outputs[0]?.data).toEqual(Float32Array.from([0.25, 0.5, 0.125]));
  });

  it("rejects foreign, truncated and padded entries", () => {
    const bytes = encodeResult(result);
    expect(() => decodeResult(utf8.encode("{}"))).toThrow("corrupt cache entry: bad magic");
    expect(() => decodeResult(bytes.subarray(0, 12))).toThrow("corrupt cache entry: truncated header");
    expect(() => decodeResult(bytes.subarray(0, bytes.byteLength - 1))).toThrow(
      /corrupt cache entry: .*output 'text'.*truncated body/,
    );
    const padded = new Uint8Array(bytes.byteLength + 1);
    padded.set(bytes);
    expect(() => decodeResult(padded)).toThrow(/corrupt cache entry: .*left over/);
  });
});
