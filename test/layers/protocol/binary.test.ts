import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensorBytes, tensorFromBytes } from "../../../layers/protocol/binary";
import type { Tensor } from "../../../layers/protocol/types";
import { expectInvalid, expectSameBits, RUNS, tensorArb, utf8 } from "./arbitraries";

/** `bytes` copied into a fresh buffer at byte offset `at`, to control alignment. */
function placeAt(bytes: Uint8Array, at: number): Uint8Array {
  const buf = new Uint8Array(at + bytes.byteLength);
  buf.set(bytes, at);
  return buf.subarray(at);
}

describe("tensorBytes / tensorFromBytes", () => {
  it("round-trips every datatype bit for bit, at any byte offset", () => {
    fc.assert(
      fc.property(tensorArb({ text: false }), fc.integer({ min: 0, max: 7 }), (t, at) => {
        const back = tensorFromBytes(t.name, t.datatype, t.shape, placeAt(tensorBytes(t), at));
        expectSameBits(back, t);
      }),
      RUNS,
    );
  });

  it("lays out data little-endian, BOOL as 0/1 bytes, BYTES with 4-byte length prefixes", () => {
    const u32: Tensor = {
      name: "u",
      datatype: "UINT32",
      shape: [2],
      data: Uint32Array.from([1, 0x01020304]),
    };
    expect(Array.from(tensorBytes(u32))).toEqual([1, 0, 0, 0, 4, 3, 2, 1]);
    const b: Tensor = { name: "b", datatype: "BOOL", shape: [3], data: Uint8Array.from([1, 0, 1]) };
    expect(Array.from(tensorBytes(b))).toEqual([1, 0, 1]);
    const s: Tensor = { name: "s", datatype: "BYTES", shape: [3], data: [utf8("ab"), utf8(""), utf8("é")] };
    expect(Array.from(tensorBytes(s))).toEqual([2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0, 2, 0, 0, 0, 0xc3, 0xa9]);
  });

  it("round-trips INT64 and UINT64 beyond 2^53 exactly", () => {
    const big = [2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n, -1n];
    const t: Tensor = { name: "i", datatype: "INT64", shape: [2, 2], data: BigInt64Array.from(big) };
    expect(
      Array.from(tensorFromBytes("i", "INT64", [2, 2], placeAt(tensorBytes(t), 3)).data as BigInt64Array),
    ).toEqual(big);
    const u: Tensor = {
      name: "u",
      datatype: "UINT64",
      shape: [1],
      data: BigUint64Array.from([2n ** 64n - 1n]),
    };
    expect(Array.from(tensorFromBytes("u", "UINT64", [1], tensorBytes(u)).data as BigUint64Array)).toEqual([
      2n ** 64n - 1n,
    ]);
  });

  it("shares memory: a view when encoding, a view when decoding aligned bytes, a copy when misaligned", () => {
    const data = Float32Array.from([1, 2, 3]);
    const bytes = tensorBytes({ name: "f", datatype: "FP32", shape: [3], data });
    expect(bytes.buffer).toBe(data.buffer);
    const aligned = placeAt(bytes, 8);
    const a = tensorFromBytes("f", "FP32", [3], aligned).data as Float32Array;
    expect(a.buffer).toBe(aligned.buffer);
    expect(a.byteOffset).toBe(8);
    const misaligned = placeAt(bytes, 2);
    const m = tensorFromBytes("f", "FP32", [3], misaligned).data as Float32Array;
    expect(m.buffer).not.toBe(misaligned.buffer);
    expect(Array.from(m)).toEqual([1, 2, 3]);
    const s = tensorFromBytes("s", "BYTES", [1], placeAt(Uint8Array.from([1, 0, 0, 0, 9]), 1))
      .data as Uint8Array[];
    expect(s[0]?.byteOffset).toBe(5);
  });

  it("decodes BYTES with empty elements and non-ASCII UTF-8", () => {
    const strings = ["", "naïve", "", "😀", "日本語"];
    const t: Tensor = { name: "s", datatype: "BYTES", shape: [5], data: strings.map(utf8) };
    const back = tensorFromBytes("s", "BYTES", [5], tensorBytes(t)).data as Uint8Array[];
    expect(back.map((b) => new TextDecoder().decode(b))).toEqual(strings);
  });

  it("rejects a byte size that does not match the shape, naming the tensor", () => {
    expectInvalid(
      () => tensorFromBytes("x", "FP32", [2, 3], new Uint8Array(20)),
      "input 'x': expected 24 bytes for FP32 shape [2,3], received 20",
    );
    expectInvalid(
      () => tensorFromBytes("x", "INT64", [1], new Uint8Array(9)),
      "expected 8 bytes for INT64 shape [1], received 9",
    );
    expectInvalid(
      () => tensorFromBytes("y", "FP16", [2], new Uint8Array(2), "output"),
      "output 'y': expected 4 bytes",
    );
    expectInvalid(
      () => tensorFromBytes("x", "FP32", [2 ** 40], new Uint8Array(4)),
      "input 'x': expected 4398046511104 bytes for FP32 shape [1099511627776], received 4",
    );
  });

  it("rejects a bad datatype or shape", () => {
    expectInvalid(
      () => tensorFromBytes("x", "FLOAT" as never, [1], new Uint8Array(4)),
      "input 'x': unknown datatype \"FLOAT\"",
    );
    expectInvalid(
      () => tensorFromBytes("x", "FP32", [-1], new Uint8Array(4)),
      "input 'x': shape dimension 0 must be a non-negative integer, received -1",
    );
  });

  it("rejects BOOL bytes other than 0 and 1", () => {
    expectInvalid(
      () => tensorFromBytes("b", "BOOL", [3], Uint8Array.from([0, 1, 2])),
      "input 'b': BOOL element 2 must be the byte 0 or 1, received 2",
    );
  });

  it("rejects BYTES whose framing does not fill the data exactly or count the shape's elements", () => {
    expectInvalid(
      () => tensorFromBytes("s", "BYTES", [1], Uint8Array.from([5, 0, 0, 0, 1, 2])),
      "input 's': BYTES element 0 declares 5 bytes but only 2 remain",
    );
    expectInvalid(
      () => tensorFromBytes("s", "BYTES", [2], Uint8Array.from([1, 0, 0, 0, 7, 1, 0])),
      "input 's': BYTES element 1 has a truncated 4-byte length prefix",
    );
    expectInvalid(
      () => tensorFromBytes("s", "BYTES", [2, 3], Uint8Array.from([0, 0, 0, 0])),
      "input 's': expected 6 BYTES elements for shape [2,3], received 1",
    );
    expectInvalid(
      () => tensorFromBytes("s", "BYTES", [1], Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0])),
      "input 's': expected 1 BYTES elements for shape [1], received more (4 bytes left over)",
    );
    expectInvalid(
      () => tensorFromBytes("s", "BYTES", [1], Uint8Array.from([0xff, 0xff, 0xff, 0xff, 1])),
      "declares 4294967295 bytes but only 1 remain",
    );
  });

  it("never throws anything but InvalidInput on arbitrary bytes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("BOOL", "INT32", "FP16", "INT64", "BYTES" as const),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
        fc.uint8Array({ maxLength: 40 }),
        (dt, shape, bytes) => {
          try {
            tensorFromBytes("z", dt, shape, bytes);
          } catch (e) {
            expect((e as Error).constructor.name).toBe("InvalidInput");
            expect((e as Error).message).toMatch(/^input 'z': /);
          }
        },
      ),
      RUNS,
    );
  });
});
