import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { prepareRequest, splitOutputs, stackInputs } from "../../../layers/batching";
import { BackendFailure } from "../../../layers/errors";
import type { Tensor } from "../../../layers/protocol/types";
import { fp32 } from "./helpers";

describe("prepareRequest", () => {
  it("gives equal keys to compatible requests and different keys otherwise", () => {
    const key = (inputs: Tensor[], outputs?: string[]) => prepareRequest(inputs, outputs, 16).key;
    const base = key([fp32("x", 1, 3, 0), fp32("z", 1, 2, 0)]);
    expect(key([fp32("z", 4, 2, 9), fp32("x", 4, 3, 9)])).toBe(base); // other rows, order, data
    expect(key([fp32("x", 1, 4, 0), fp32("z", 1, 2, 0)])).not.toBe(base); // other non-batch dim
    expect(key([fp32("x", 1, 3, 0), fp32("w", 1, 2, 0)])).not.toBe(base); // other name
    expect(key([fp32("x", 1, 3, 0), fp32("z", 1, 2, 0)], ["y"])).not.toBe(base); // outputs named
    expect(key([fp32("x", 1, 3, 0)], ["a", "b"])).not.toBe(key([fp32("x", 1, 3, 0)], ["b", "a"]));
    const asInt: Tensor = { name: "x", datatype: "INT32", shape: [1, 3], data: new Int32Array(3) };
    expect(key([asInt])).not.toBe(key([fp32("x", 1, 3, 0)]));
    expect(prepareRequest([fp32("x", 5, 3, 0)], undefined, 16).rows).toBe(5);
  });
});

describe("stackInputs and splitOutputs", () => {
  it("round-trip every fixed-size datatype and BYTES for any mix of row counts", () => {
    const cases: Array<[Tensor["datatype"], (n: number) => Tensor["data"]]> = [
      ["BOOL", (n) => Uint8Array.from({ length: n }, (_, i) => i % 2)],
      ["INT8", (n) => Int8Array.from({ length: n }, (_, i) => (i % 200) - 100)],
      ["UINT16", (n) => Uint16Array.from({ length: n }, (_, i) => i * 7)],
      ["FP16", (n) => Uint16Array.from({ length: n }, (_, i) => 0x3c00 + i)],
      ["INT32", (n) => Int32Array.from({ length: n }, (_, i) => -i)],
      ["UINT64", (n) => BigUint64Array.from({ length: n }, (_, i) => 2n ** 63n + BigInt(i))],
      ["INT64", (n) => BigInt64Array.from({ length: n }, (_, i) => -BigInt(i) * 3n)],
      ["FP64", (n) => Float64Array.from({ length: n }, (_, i) => i / 3)],
      ["BYTES", (n) => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`s${i}`))],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...cases),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 3 }),
        ([datatype, fill], rows, width) => {
          const total = rows.reduce((a, b) => a + b, 0);
          const all = fill(total * width);
          const tensors: Tensor[] = [];
          let start = 0;
          for (const r of rows) {
            const data = all.slice(start * width, (start + r) * width) as Tensor["data"];
            tensors.push({ name: "t", datatype, shape: [r, width], data });
            start += r;
          }
          const [stacked] = stackInputs(
            tensors.map((t) => [t]),
            total,
          );
          expect(stacked).toEqual({ name: "t", datatype, shape: [total, width], data: all });
          if (stacked === undefined) return;
          const back = splitOutputs([stacked], rows);
          expect(back).toEqual(tensors.map((t) => [t]));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("copies each request's rows out of the batch buffer instead of sharing it", () => {
    const out = fp32("y", 3, 2, 0);
    const [a, b] = splitOutputs([out], [1, 2]);
    const ya = a?.[0]?.data;
    const yb = b?.[0]?.data;
    expect(ya).toEqual(new Float32Array([0, 1]));
    expect(yb).toEqual(new Float32Array([2, 3, 4, 5]));
    if (!(ya instanceof Float32Array) || !(yb instanceof Float32Array)) throw new Error("FP32 expected");
    expect(ya.buffer).not.toBe((out.data as Float32Array).buffer);
    expect(yb.byteOffset).toBe(0);
    expect(yb.buffer.byteLength).toBe(16);
  });

  it("refuses outputs whose rows or data do not match the batch", () => {
    expect(() => splitOutputs([fp32("y", 3, 2, 0)], [1, 1])).toThrow(
      'model output "y" has batch size 3, expected 2 (the rows of the batch)',
    );
    expect(() => splitOutputs([{ ...fp32("y", 1, 2, 0), shape: [2, 2] }], [1, 1])).toThrow(
      'model output "y" has 2 elements, expected 4',
    );
    expect(() => splitOutputs([{ ...fp32("y", 2, 1, 0), datatype: "INT64" }], [1, 1])).toThrow(
      BackendFailure,
    );
  });
});
