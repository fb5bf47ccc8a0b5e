import { describe, expect, it } from "vitest";
import { ctcCharacters, ctcDecode } from "../../../layers/pipeline/ctc";
import {
  detInput,
  detInputSize,
  lineBatch,
  recWidth,
  roundHalfEven,
  toPlanarBgr,
} from "../../../layers/pipeline/preprocess";

const solid = (width: number, height: number, px: [number, number, number]) => ({
  width,
  height,
  data: Uint8Array.from({ length: width * height * 3 }, (_, i) => px[i % 3] as number),
});

describe("detector input", () => {
  it("sizes like PaddleOCR's DetResizeForTest (limit type max, multiples of 32, Python rounding)", () => {
    expect(detInputSize(400, 80, 960)).toEqual({ width: 384, height: 64 }); // 12.5 → 12, 2.5 → 2
    expect(detInputSize(2000, 1000, 960)).toEqual({ width: 960, height: 480 });
    expect(detInputSize(10, 10, 960)).toEqual({ width: 32, height: 32 });
    expect([0.5, 1.5, 2.5, -0.5, 2.4].map(roundHalfEven)).toEqual([0, 2, 2, -0, 2]);
  });

  it("normalises with ImageNet statistics in B, G, R order, planar", () => {
    const { x, geometry } = detInput(solid(40, 20, [255, 0, 51]), 960);
    expect(x.shape).toEqual([1, 3, 32, 32]);
    expect(geometry).toEqual({ width: 40, height: 20, inputWidth: 32, inputHeight: 32 });
    const d = x.data as Float32Array;
    const plane = 32 * 32;
    expect(d[0]).toBeCloseTo((51 / 255 - 0.485) / 0.229, 5); // B
    expect(d[plane]).toBeCloseTo((0 - 0.456) / 0.224, 5); // G
    expect(d[2 * plane + plane - 1]).toBeCloseTo((1 - 0.406) / 0.225, 5); // R, last pixel
  });

  it("writes into a wider plane at an offset", () => {
    const out = new Float32Array(2 * 3 * 3);
    toPlanarBgr(solid(2, 1, [255, 255, 0]), [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], {
      data: out,
      width: 3,
      offset: 0,
    });
    expect(Array.from(out.subarray(0, 9))).toEqual([-1, -1, 0, 1, 1, 0, 1, 1, 0]);
  });
});

describe("line batches for the angle classifier and the recogniser", () => {
  it("resizes each line to the height keeping its ratio, scales to [-1, 1], pads with zeros", () => {
    const t = lineBatch([solid(20, 10, [255, 255, 255]), solid(400, 10, [0, 0, 0])], 4, 12);
    expect(t.shape).toEqual([2, 3, 4, 12]);
    const d = t.data as Float32Array;
    expect(Array.from(d.subarray(0, 12))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]); // ceil(4 × 2) = 8 wide
    expect(Array.from(d.subarray(3 * 4 * 12, 3 * 4 * 12 + 12))).toEqual(Array(12).fill(-1)); // capped at 12
  });

  it("makes a batch as wide as its widest line, within bounds", () => {
    const line = (w: number) => solid(w, 48, [0, 0, 0]);
    expect(recWidth([line(100)], 48, 320, 2048)).toBe(320);
    expect(recWidth([line(100), line(1000)], 48, 320, 2048)).toBe(1000);
    expect(recWidth([line(5000)], 48, 320, 2048)).toBe(2048);
  });
});

describe("CTC greedy decoding", () => {
  const characters = ctcCharacters("a\nb\r\nc");

  it("has blank first and a space last", () => {
    expect(characters).toEqual(["", "a", "b", "c", " "]);
    expect(ctcCharacters("a\nb\n")).toEqual(["", "a", "b", " "]);
  });

  it("merges repeats, drops blanks, scores the mean of the kept steps", () => {
    // Steps argmax: a a blank a b space c → "aab c"? No: repeats merge only when adjacent: a, (a), blank, a, b, " ", c.
    const best = [1, 1, 0, 1, 2, 4, 3];
    const p = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
    const probs = new Float32Array(best.length * 5);
    for (const [t, c] of best.entries()) {
      probs.fill((1 - (p[t] as number)) / 4, t * 5, t * 5 + 5);
      probs[t * 5 + c] = p[t] as number;
    }
    const [line] = ctcDecode(probs, [1, best.length, 5], characters);
    expect(line?.text).toBe("aab c");
    expect(line?.score).toBeCloseTo((0.9 + 0.6 + 0.5 + 0.4 + 0.3) / 5, 6);
    expect(ctcDecode(new Float32Array(5).fill(0.2).fill(0.9, 0, 1), [1, 1, 5], characters)).toEqual([
      { text: "", score: 0 },
    ]);
  });

  it("refuses a model whose classes do not match the dictionary", () => {
    expect(() => ctcDecode(new Float32Array(6), [1, 1, 6], characters)).toThrow(
      "the recogniser has 6 classes, the dictionary 5",
    );
  });
});
