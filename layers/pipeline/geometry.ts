/**
 * Plane geometry for text boxes: convex hulls, minimum-area rectangles (OpenCV's minAreaRect by
 * rotating calipers) and PaddleOCR's corner order.
 */

/** A point (x, y) in pixels. */
export type Point = [number, number];
/** A text box: top-left, top-right, bottom-right, bottom-left. */
export type Quad = [Point, Point, Point, Point];

/** A rotated rectangle: its four corners in no particular order, and its two side lengths. */
export interface RotatedRect {
  corners: Point[];
  width: number;
  height: number;
}

const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** Convex hull (Andrew's monotone chain), counter-clockwise, no repeated or collinear points. */
export function convexHull(points: readonly Point[]): Point[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length <= 2) return p;
  const lower: Point[] = [];
  for (const q of p) {
    while (
      lower.length >= 2 &&
      cross(lower[lower.length - 2] as Point, lower[lower.length - 1] as Point, q) <= 0
    )
      lower.pop();
    lower.push(q);
  }
  const upper: Point[] = [];
  for (const q of p.reverse()) {
    while (
      upper.length >= 2 &&
      cross(upper[upper.length - 2] as Point, upper[upper.length - 1] as Point, q) <= 0
    )
      upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** The smallest-area rectangle enclosing a convex hull: one of its sides lies on a hull edge. */
export function minAreaRect(hull: readonly Point[]): RotatedRect {
  if (hull.length === 0)
    return {
      corners: [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
      width: 0,
      height: 0,
    };
  if (hull.length === 1) {
    const q = hull[0] as Point;
    return { corners: [q, q, q, q], width: 0, height: 0 };
  }
  let best: { area: number; ux: number; uy: number; min: number[]; max: number[] } | undefined;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i] as Point;
    const b = hull[(i + 1) % hull.length] as Point;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const ux = (b[0] - a[0]) / len;
    const uy = (b[1] - a[1]) / len;
    const min = [Infinity, Infinity];
    const max = [-Infinity, -Infinity];
    for (const q of hull) {
      const s = q[0] * ux + q[1] * uy;
      const t = -q[0] * uy + q[1] * ux;
      min[0] = Math.min(min[0] as number, s);
      max[0] = Math.max(max[0] as number, s);
      min[1] = Math.min(min[1] as number, t);
      max[1] = Math.max(max[1] as number, t);
    }
    const area = ((max[0] as number) - (min[0] as number)) * ((max[1] as number) - (min[1] as number));
    if (best === undefined || area < best.area - 1e-9) best = { area, ux, uy, min, max };
  }
  if (best === undefined) return minAreaRect(hull.slice(0, 1));
  const { ux, uy, min, max } = best;
  // Back from (s along u, t along the normal) to (x, y).
  const at = (s: number, t: number): Point => [s * ux - t * uy, s * uy + t * ux];
  const [s0, t0] = min as [number, number];
  const [s1, t1] = max as [number, number];
  return { corners: [at(s0, t0), at(s1, t0), at(s1, t1), at(s0, t1)], width: s1 - s0, height: t1 - t0 };
}

/** The same rectangle grown by `d` on every side (PaddleOCR's unclip of a rectangle). */
export function growRect(r: RotatedRect, d: number): RotatedRect {
  const cx = r.corners.reduce((s, p) => s + p[0], 0) / 4;
  const cy = r.corners.reduce((s, p) => s + p[1], 0) / 4;
  const [a, b, , dd] = r.corners as [Point, Point, Point, Point];
  const u = unit(a, b, r.width);
  const v = unit(a, dd, r.height);
  const hw = r.width / 2 + d;
  const hh = r.height / 2 + d;
  const at = (i: number, j: number): Point => [
    cx + i * hw * u[0] + j * hh * v[0],
    cy + i * hw * u[1] + j * hh * v[1],
  ];
  return { corners: [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)], width: 2 * hw, height: 2 * hh };
}

function unit(a: Point, b: Point, len: number): Point {
  // A degenerate side still needs a direction: the perpendicular of nothing is taken as an axis.
  return len > 0 ? [(b[0] - a[0]) / len, (b[1] - a[1]) / len] : [1, 0];
}

/**
 * PaddleOCR's get_mini_boxes order: corners sorted by x; of the two leftmost the upper is
 * top-left, of the two rightmost the upper is top-right.
 */
export function orderCorners(corners: readonly Point[]): Quad {
  const p = [...corners].sort((a, b) => a[0] - b[0]) as [Point, Point, Point, Point];
  const [tl, bl] = p[1][1] > p[0][1] ? [p[0], p[1]] : [p[1], p[0]];
  const [tr, br] = p[3][1] > p[2][1] ? [p[2], p[3]] : [p[3], p[2]];
  return [tl, tr, br, bl];
}

/** Whether (x, y) lies inside or on a convex polygon. */
export function insideConvex(poly: readonly Point[], x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < poly.length; i++) {
    const c = cross(poly[i] as Point, poly[(i + 1) % poly.length] as Point, [x, y]);
    if (Math.abs(c) < 1e-9) continue;
    const s = Math.sign(c);
    if (sign !== 0 && s !== sign) return false;
    sign = s;
  }
  return true;
}

/**
 * Reading order (PaddleOCR's sorted_boxes): by top-left y then x, then boxes whose tops differ by
 * under 10 px are put left to right.
 */
export function readingOrder(quads: readonly Quad[]): number[] {
  const idx = quads.map((_, i) => i);
  const tl = (i: number) => (quads[i] as Quad)[0];
  idx.sort((a, b) => tl(a)[1] - tl(b)[1] || tl(a)[0] - tl(b)[0]);
  for (let i = 0; i < idx.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = tl(idx[j] as number);
      const b = tl(idx[j + 1] as number);
      if (Math.abs(b[1] - a[1]) < 10 && b[0] < a[0]) {
        [idx[j], idx[j + 1]] = [idx[j + 1] as number, idx[j] as number];
      } else break;
    }
  }
  return idx;
}
