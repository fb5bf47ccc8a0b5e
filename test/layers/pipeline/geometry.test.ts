import { describe, expect, it } from "vitest";
import { cropQuad } from "../../../layers/pipeline/crop";
import { dbBoxes } from "../../../layers/pipeline/db";
import {
  convexHull,
  minAreaRect,
  orderCorners,
  type Point,
  type Quad,
  readingOrder,
} from "../../../layers/pipeline/geometry";

/** A probability map with `value` inside each [x0, y0, x1, y1] (inclusive) and 0 elsewhere. */
function map(w: number, h: number, rects: number[][], value = 0.9): Float32Array {
  const m = new Float32Array(w * h);
  for (const [x0 = 0, y0 = 0, x1 = 0, y1 = 0] of rects) {
    for (let y = y0; y <= y1; y++) m.fill(value, y * w + x0, y * w + x1 + 1);
  }
  return m;
}

describe("geometry", () => {
  it("hulls and encloses points in the smallest rectangle", () => {
    const pts: Point[] = [
      [0, 0],
      [4, 0],
      [4, 2],
      [0, 2],
      [2, 1],
      [1, 0],
    ];
    expect(convexHull(pts)).toEqual([
      [0, 0],
      [4, 0],
      [4, 2],
      [0, 2],
    ]);
    const r = minAreaRect(convexHull(pts));
    expect([r.width, r.height]).toEqual([4, 2]);
    // A diamond: its smallest rectangle is the 45° square of side √2 · 2.
    const d = minAreaRect(
      convexHull([
        [2, 0],
        [4, 2],
        [2, 4],
        [0, 2],
      ]),
    );
    expect(d.width * d.height).toBeCloseTo(8, 9);
  });

  it("orders corners as PaddleOCR does and reads boxes line by line, left to right", () => {
    expect(
      orderCorners([
        [10, 5],
        [0, 5],
        [10, 0],
        [0, 0],
      ]),
    ).toEqual([
      [0, 0],
      [10, 0],
      [10, 5],
      [0, 5],
    ]);
    const box = (x: number, y: number): Quad => [
      [x, y],
      [x + 5, y],
      [x + 5, y + 5],
      [x, y + 5],
    ];
    // Same line (tops within 10 px) → left to right; the next line after.
    expect(readingOrder([box(50, 3), box(0, 8), box(20, 40), box(0, 41)])).toEqual([1, 0, 3, 2]);
  });
});

describe("DB post-processing", () => {
  it("finds a text rectangle, grows it by area × ratio / perimeter and scores its mean probability", () => {
    const geometry = { width: 64, height: 32, inputWidth: 64, inputHeight: 32 };
    const r = dbBoxes(map(64, 32, [[10, 10, 49, 19]]), geometry, {
      thresh: 0.3,
      boxThresh: 0.6,
      unclipRatio: 1.5,
      maxCandidates: 10,
    });
    // Pixel centres span 39 × 9; d = 39·9·1.5 / (2·48) = 5.484375 on each side around (29.5, 14.5).
    expect(r.quads).toEqual([
      [
        [5, 5],
        [54, 5],
        [54, 24],
        [5, 24],
      ],
    ]);
    expect(r.scores[0]).toBeCloseTo(0.9, 6);
  });

  it("maps boxes back to the original image and keeps reading order", () => {
    const geometry = { width: 128, height: 64, inputWidth: 64, inputHeight: 32 };
    const r = dbBoxes(
      map(64, 32, [
        [40, 4, 60, 9],
        [2, 5, 30, 10],
        [2, 20, 30, 26],
      ]),
      geometry,
      {
        thresh: 0.3,
        boxThresh: 0.6,
        unclipRatio: 1.5,
        maxCandidates: 10,
      },
    );
    // The right box: 20 × 5 centres around (50, 6.5), d = 20·5·1.5 / 50 = 3 → x 37…63, y 1…12, doubled.
    expect(r.quads[1]).toEqual([
      [74, 2],
      [126, 2],
      [126, 24],
      [74, 24],
    ]);
    // The left box of the top line comes first (tops within 10 px); its grown edge is clipped at 0.
    expect(r.quads.map((q) => q[0][0])).toEqual([0, 74, 0]);
  });

  it("drops faint regions, tiny ones, and those past max_regions", () => {
    const geometry = { width: 64, height: 32, inputWidth: 64, inputHeight: 32 };
    const options = { thresh: 0.3, boxThresh: 0.6, unclipRatio: 1.5, maxCandidates: 10 };
    expect(dbBoxes(map(64, 32, [[10, 10, 49, 19]], 0.5), geometry, options).quads).toEqual([]);
    expect(dbBoxes(map(64, 32, [[10, 10, 49, 11]]), geometry, options).quads).toEqual([]);
    const many = map(64, 32, [
      [2, 2, 12, 8],
      [20, 2, 30, 8],
      [40, 2, 50, 8],
    ]);
    expect(dbBoxes(many, geometry, { ...options, maxCandidates: 2 }).quads).toHaveLength(2);
  });
});

describe("crops", () => {
  const img = {
    width: 4,
    height: 3,
    data: Uint8Array.from({ length: 36 }, (_, i) => Math.floor(i / 3) * 10),
  };

  it("cuts an axis-aligned box pixel for pixel", () => {
    const c = cropQuad(img, [
      [1, 1],
      [3, 1],
      [3, 2],
      [1, 2],
    ]);
    expect([c.width, c.height]).toEqual([2, 1]);
    expect(Array.from(c.data)).toEqual([50, 50, 50, 60, 60, 60]);
  });

  it("turns a tall crop 90° counter-clockwise", () => {
    const c = cropQuad(img, [
      [0, 0],
      [1, 0],
      [1, 2],
      [0, 2],
    ]);
    expect([c.width, c.height]).toEqual([2, 1]);
    expect(Array.from(c.data)).toEqual([0, 0, 0, 40, 40, 40]);
  });
});
