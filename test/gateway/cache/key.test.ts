import { describe, expect, it } from "vitest";
import { type CacheKeyParts, cacheKey, requestDigest, versionedKey } from "../../../gateway/cache/key";
import { tensorBytes, tensorFromBytes, tensorFromJSON } from "../../../layers/protocol/tensor";
import type { Tensor } from "../../../layers/protocol/types";

const utf8 = new TextEncoder();

function f32(name: string, values: number[], shape = [values.length]): Tensor {
  return { name, datatype: "FP32", shape, data: Float32Array.from(values) };
}

const base: CacheKeyParts = {
  model: "ocr-cls",
  version: "1",
  inputs: [f32("x", [1, 2, 3, 4], [2, 2]), f32("y", [5])],
  outputs: [{ name: "out" }],
  parameters: { threshold: 0.5 },
};

describe("cacheKey", () => {
  it("is a SHA-256 hex digest, stable for the same request", () => {
    const k = cacheKey(base);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey({ ...base, inputs: base.inputs.map((t) => ({ ...t })) })).toBe(k);
  });

  it("gives a JSON tensor and the same tensor in binary form the same key", () => {
    const json = tensorFromJSON({
      name: "x",
      datatype: "FP32",
      shape: [2, 2],
      data: [
        [1, 2],
        [3, 4],
      ],
    });
    const raw = tensorBytes(f32("x", [1, 2, 3, 4], [2, 2]));
    const binary = tensorFromBytes("x", "FP32", [2, 2], raw.slice());
    const withBinaryParams = { ...binary, parameters: { binary_data_size: raw.byteLength } };
    const parts = { model: "m", version: "1", outputs: undefined };
    expect(cacheKey({ ...parts, inputs: [json] })).toBe(cacheKey({ ...parts, inputs: [withBinaryParams] }));

    const strings = tensorFromJSON({ name: "s", datatype: "BYTES", shape: [2], data: ["ab", "c"] });
    const framed = tensorBytes({
      name: "s",
      datatype: "BYTES",
      shape: [2],
      data: [utf8.encode("ab"), utf8.encode("c")],
    });
    const strBinary = tensorFromBytes("s", "BYTES", [2], framed);
    expect(cacheKey({ ...parts, inputs: [strings] })).toBe(cacheKey({ ...parts, inputs: [strBinary] }));
  });

  it("does not depend on the order of inputs or requested outputs", () => {
    const [x, y] = base.inputs;
    expect(x && y).toBeTruthy();
    const swapped = { ...base, inputs: [y, x] as Tensor[], outputs: [{ name: "b" }, { name: "a" }] };
    expect(cacheKey(swapped)).toBe(cacheKey({ ...swapped, outputs: [{ name: "a" }, { name: "b" }] }));
    expect(cacheKey({ ...base, inputs: [y, x] as Tensor[] })).toBe(cacheKey(base));
  });

  it("ignores how the answer travels: binary flags and binary_data_output", () => {
    const k = cacheKey(base);
    expect(cacheKey({ ...base, outputs: [{ name: "out", binary: true }] })).toBe(k);
    expect(cacheKey({ ...base, outputs: [{ name: "out", parameters: { binary_data: true } }] })).toBe(k);
    expect(cacheKey({ ...base, parameters: { threshold: 0.5, binary_data_output: true } })).toBe(k);
  });

  it("treats an empty output list as 'all outputs'", () => {
    expect(cacheKey({ ...base, outputs: [] })).toBe(cacheKey({ ...base, outputs: undefined }));
    expect(cacheKey({ ...base, outputs: undefined })).not.toBe(cacheKey(base));
  });

  it("changes with every field that decides the result", () => {
    const [x, y] = base.inputs as [Tensor, Tensor];
    const variants: CacheKeyParts[] = [
      { ...base, model: "ocr-det" },
      { ...base, version: "2" },
      { ...base, inputs: [{ ...x, shape: [4, 1] }, y] },
      { ...base, inputs: [{ ...x, shape: [4] }, y] },
      {
        ...base,
        inputs: [{ ...x, datatype: "INT32", data: new Int32Array(new Float32Array([1, 2, 3, 4]).buffer) }, y],
      },
      { ...base, inputs: [f32("x", [1, 2, 3, 5], [2, 2]), y] },
      { ...base, inputs: [{ ...x, name: "z" }, y] },
      { ...base, inputs: [x] },
      { ...base, inputs: [{ ...x, parameters: { scale: 2 } }, y] },
      { ...base, outputs: [{ name: "other" }] },
      { ...base, outputs: [{ name: "out" }, { name: "other" }] },
      { ...base, outputs: [{ name: "out", parameters: { classification: 3 } }] },
      { ...base, parameters: { threshold: 0.6 } },
      { ...base, parameters: {} },
      { ...base, parameters: { threshold: "0.5" } },
    ];
    const keys = new Set([cacheKey(base), ...variants.map(cacheKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it("cannot be collided by moving bytes between adjacent fields", () => {
    const t = (name: string) => f32(name, [1]);
    const bytes = (name: string, ...elements: string[]): Tensor => ({
      name,
      datatype: "BYTES",
      shape: [elements.length],
      data: elements.map((e) => utf8.encode(e)),
    });
    const zeros = Array.from({ length: 11 }, () => 0);
    const pairs: Array<[CacheKeyParts, CacheKeyParts]> = [
      [
        { model: "ab", version: "c", inputs: [t("x")] },
        { model: "a", version: "bc", inputs: [t("x")] },
      ],
      [
        { model: "m", version: "1", inputs: [t("x")], parameters: { ab: "c" } },
        { model: "m", version: "1", inputs: [t("x")], parameters: { a: "bc" } },
      ],
      [
        { model: "m", version: "1", inputs: [bytes("s", "ab", "c")] },
        { model: "m", version: "1", inputs: [bytes("s", "a", "bc")] },
      ],
      [
        { model: "m", version: "1", inputs: [f32("x", [1, 2]), f32("y", [3])] },
        { model: "m", version: "1", inputs: [f32("x", [1]), f32("y", [2, 3])] },
      ],
      [
        { model: "m", version: "1", inputs: [f32("x", zeros, [1, 11])] },
        { model: "m", version: "1", inputs: [f32("x", zeros, [11, 1])] },
      ],
      [
        { model: "m", version: "1", inputs: [t("x")], parameters: { p: 1 } },
        { model: "m", version: "1", inputs: [t("x")], parameters: { p: true } },
      ],
    ];
    for (const [a, b] of pairs) expect(cacheKey(a)).not.toBe(cacheKey(b));
  });

  it("is versionedKey over requestDigest, so a request hashes its tensors once for any version", () => {
    const digest = requestDigest(base);
    expect(versionedKey(base.model, base.version, digest)).toBe(cacheKey(base));
    expect(versionedKey(base.model, "2", digest)).toBe(cacheKey({ ...base, version: "2" }));
  });
});
