/**
 * DB post-processing (PaddleOCR's DBPostProcess, "fast" box score): the detector's probability map
 * → text boxes in the original image's pixels, with their scores, in reading order.
 */
import {
  convexHull,
  growRect,
  insideConvex,
  minAreaRect,
  orderCorners,
  type Point,
  type Quad,
  readingOrder,
} from "./geometry";
import type { Geometry } from "./preprocess";
import { roundHalfEven } from "./preprocess";

/** PaddleOCR's defaults for PP-OCRv4 det. */
export interface DbOptions {
  /** A pixel is text above this probability. @default 0.3 */
  thresh: number;
  /** A box is kept when its mean probability reaches this. @default 0.6 */
  boxThresh: number;
  /** How much a box is grown (area × ratio / perimeter on each side). @default 1.5 */
  unclipRatio: number;
  /** At most this many regions are considered (in scan order): bounds a request's cost. @default 1000 */
  maxCandidates: number;
}

/** Defaults of DbOptions. */
export const DB_DEFAULTS: Readonly<DbOptions> = {
  thresh: 0.3,
  boxThresh: 0.6,
  unclipRatio: 1.5,
  maxCandidates: 1000,
};

const MIN_SIZE = 3;

/** Detected text boxes and their scores, in reading order. */
export interface Detections {
  quads: Quad[];
  scores: number[];
}

/**
 * Boxes of the probability map `map` ([H, W] of the detector's input), mapped back to the
 * original image through `geometry`.
 */
export function dbBoxes(map: Float32Array, geometry: Geometry, options: DbOptions = DB_DEFAULTS): Detections {
  const w = geometry.inputWidth;
  const h = geometry.inputHeight;
  const quads: Quad[] = [];
  const scores: number[] = [];
  for (const hull of regions(map, w, h, options.thresh, options.maxCandidates)) {
    const rect = minAreaRect(hull);
    if (Math.min(rect.width, rect.height) < MIN_SIZE) continue;
    const score = boxScore(map, w, h, orderCorners(rect.corners));
    if (score < options.boxThresh) continue;
    const perimeter = 2 * (rect.width + rect.height);
    const grown = growRect(rect, (rect.width * rect.height * options.unclipRatio) / perimeter);
    if (Math.min(grown.width, grown.height) < MIN_SIZE + 2) continue;
    const quad = orderCorners(grown.corners).map(
      ([x, y]): Point => [
        clip(roundHalfEven((x / w) * geometry.width), 0, geometry.width),
        clip(roundHalfEven((y / h) * geometry.height), 0, geometry.height),
      ],
    ) as Quad;
    if (!bigEnough(quad, geometry)) continue;
    quads.push(quad);
    scores.push(score);
  }
  const order = readingOrder(quads);
  return { quads: order.map((i) => quads[i] as Quad), scores: order.map((i) => scores[i] as number) };
}

const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** PaddleOCR's filter_tag_det_res: clipped inside the image, more than 3 px each way. */
function bigEnough(q: Quad, g: Geometry): boolean {
  for (const p of q) {
    p[0] = clip(p[0], 0, g.width - 1);
    p[1] = clip(p[1], 0, g.height - 1);
  }
  const width = Math.trunc(Math.hypot(q[0][0] - q[1][0], q[0][1] - q[1][1]));
  const height = Math.trunc(Math.hypot(q[0][0] - q[3][0], q[0][1] - q[3][1]));
  return width > 3 && height > 3;
}

/**
 * Convex hulls of the 8-connected regions of pixels above `thresh`, in scan order. A region's
 * hull is that of its rows' end pixels: the same hull as its contour's (cv2.findContours).
 */
function* regions(map: Float32Array, w: number, h: number, thresh: number, max: number): Generator<Point[]> {
  const seen = new Uint8Array(w * h);
  const stack: number[] = [];
  let found = 0;
  for (let start = 0; start < w * h && found < max; start++) {
    if (seen[start] === 1 || !((map[start] as number) > thresh)) continue;
    found++;
    const rowMin = new Map<number, number>();
    const rowMax = new Map<number, number>();
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop() as number;
      const x = i % w;
      const y = (i - x) / w;
      if (!(x >= (rowMin.get(y) ?? Infinity))) rowMin.set(y, x);
      if (!(x <= (rowMax.get(y) ?? -Infinity))) rowMax.set(y, x);
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const j = ny * w + nx;
          if (nx < 0 || nx >= w || seen[j] === 1 || !((map[j] as number) > thresh)) continue;
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    const ends: Point[] = [];
    for (const [y, x] of rowMin) ends.push([x, y], [rowMax.get(y) as number, y]);
    yield convexHull(ends);
  }
}

/** Mean probability inside the box (PaddleOCR's box_score_fast: integer vertices, inclusive edges). */
export function boxScore(map: Float32Array, w: number, h: number, quad: Quad): number {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const xmin = clip(Math.floor(Math.min(...xs)), 0, w - 1);
  const xmax = clip(Math.ceil(Math.max(...xs)), 0, w - 1);
  const ymin = clip(Math.floor(Math.min(...ys)), 0, h - 1);
  const ymax = clip(Math.ceil(Math.max(...ys)), 0, h - 1);
  const poly = quad.map(([x, y]): Point => [Math.trunc(x - xmin), Math.trunc(y - ymin)]);
  let sum = 0;
  let n = 0;
  for (let y = ymin; y <= ymax; y++) {
    for (let x = xmin; x <= xmax; x++) {
      if (!insideConvex(poly, x - xmin, y - ymin)) continue;
      sum += map[y * w + x] as number;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}
