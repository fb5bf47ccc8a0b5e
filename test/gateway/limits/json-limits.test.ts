import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkJsonLimits, DEFAULT_JSON_LIMITS } from "../../../gateway/limits/json-limits";
import { InvalidInput, PayloadTooLarge } from "../../../layers/errors";

const limits = { maxDepth: 4, maxElements: 10 };

describe("checkJsonLimits", () => {
  it("measures depth and array elements of an inference request", () => {
    const req = JSON.stringify({
      inputs: [
        {
          name: "x",
          shape: [2, 3],
          datatype: "FP32",
          data: [
            [1, 2, 3],
            [4, 5, 6],
          ],
        },
      ],
      outputs: [{ name: "y" }],
    });
    // inputs(1) + shape(2) + data(2 rows + 6 values) + outputs(1)
    expect(checkJsonLimits(req)).toEqual({ depth: 5, elements: 12 });
    expect(checkJsonLimits(new TextEncoder().encode(req))).toEqual({ depth: 5, elements: 12 });
  });

  it("ignores brackets, commas and escaped quotes inside strings", () => {
    const tricky = JSON.stringify({ s: '[[[[[[,,,,,]]]]]] \\" {{{{{', t: ['"[', "é[,"] });
    expect(checkJsonLimits(tricky, limits)).toEqual({ depth: 2, elements: 2 });
  });

  it("counts empty arrays as no elements", () => {
    expect(checkJsonLimits("[ ]")).toEqual({ depth: 1, elements: 0 });
    expect(checkJsonLimits("[[],[ ],{}]")).toEqual({ depth: 2, elements: 3 });
    expect(checkJsonLimits("  ")).toEqual({ depth: 0, elements: 0 });
  });

  it("refuses nesting past the depth limit with InvalidInput", () => {
    expect(checkJsonLimits("[[[[1]]]]", limits).depth).toBe(4);
    const deep = `${"[".repeat(5)}1${"]".repeat(5)}`;
    expect(() => checkJsonLimits(deep, limits)).toThrow(InvalidInput);
    expect(() => checkJsonLimits(deep, limits)).toThrow("JSON nesting is deeper than the limit of 4 levels");
    expect(() => checkJsonLimits('{"a":{"b":{"c":{"d":{}}}}}', limits)).toThrow(InvalidInput);
    // A million open brackets are refused at the 33rd, without recursion.
    expect(() => checkJsonLimits("[".repeat(1_000_000))).toThrow("deeper than the limit of 32 levels");
  });

  it("refuses more elements than the limit with PayloadTooLarge", () => {
    expect(checkJsonLimits(JSON.stringify(Array(10).fill(0)), limits).elements).toBe(10);
    const big = JSON.stringify(Array(11).fill(0));
    expect(() => checkJsonLimits(big, limits)).toThrow(PayloadTooLarge);
    expect(() => checkJsonLimits(big, limits)).toThrow(
      "JSON body has more than 10 array elements, the limit; send large tensors in binary",
    );
  });

  it("never throws on malformed input: syntax is JSON.parse's job", () => {
    for (const s of ["]]]]", "[1,2", '"unterminated [', "{,,,}", "\\", "[1,]"]) {
      expect(() => checkJsonLimits(s, DEFAULT_JSON_LIMITS), s).not.toThrow();
    }
  });

  it("agrees with the real structure of generated JSON", () => {
    type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
    const measure = (v: Json, d = 0): { depth: number; elements: number } => {
      if (v === null || typeof v !== "object") return { depth: d, elements: 0 };
      const kids = Array.isArray(v) ? v : Object.values(v);
      let depth = d + 1;
      let elements = Array.isArray(v) ? v.length : 0;
      for (const k of kids) {
        const m = measure(k, d + 1);
        depth = Math.max(depth, m.depth);
        elements += m.elements;
      }
      return { depth, elements };
    };
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const text = JSON.stringify(v);
        expect(checkJsonLimits(text, { maxDepth: 100, maxElements: 1e9 })).toEqual(measure(v as Json));
      }),
      { numRuns: 300 },
    );
  });
});
