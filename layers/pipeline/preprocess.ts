/**
 * Images to model inputs, as PaddleOCR prepares them: channels in OpenCV's B, G, R order (the
 * models were trained on cv2.imread's BGR), planar [3, H, W] float32.
 */
import type { Tensor } from "../protocol/types";
import { type RgbImage, resizeBilinear } from "./image";

/** How the detector's input relates to the original image (to map boxes back). */
export interface Geometry {
  /** The original image. */
  width: number;
  height: number;
  /** The detector's input. */
  inputWidth: number;
  inputHeight: number;
}

/** Python's round(): halves go to the even neighbour (PaddleOCR's sizes are computed with it). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The detector's input size (PaddleOCR's DetResizeForTest, limit type "max"): the longer side
 * shrunk to `limitSide` if above it, then each side rounded to a multiple of 32 (at least 32).
 */
export function detInputSize(
  width: number,
  height: number,
  limitSide: number,
): { width: number; height: number } {
  const ratio = Math.max(width, height) > limitSide ? limitSide / Math.max(width, height) : 1;
  const to32 = (v: number) => Math.max(roundHalfEven(Math.trunc(v * ratio) / 32) * 32, 32);
  return { width: to32(width), height: to32(height) };
}

/** Planar BGR float32 of `img` at `(v / 255 - mean[c]) / std[c]`, channel c in B, G, R order. */
export function toPlanarBgr(
  img: RgbImage,
  mean: readonly number[],
  std: readonly number[],
  into?: { data: Float32Array; width: number; offset: number },
): Float32Array {
  const planeWidth = into?.width ?? img.width;
  const plane = planeWidth * img.height;
  const out = into?.data ?? new Float32Array(3 * plane);
  const base = into?.offset ?? 0;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * (std[c] as number));
    const shift = (mean[c] as number) / (std[c] as number);
    const src = 2 - c; // B, G, R from R, G, B
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        out[base + c * plane + y * planeWidth + x] =
          (img.data[(y * img.width + x) * 3 + src] as number) * scale - shift;
      }
    }
  }
  return out;
}

/** ImageNet statistics, PaddleOCR's detector normalisation. */
export const DET_MEAN = [0.485, 0.456, 0.406] as const;
export const DET_STD = [0.229, 0.224, 0.225] as const;

/** The detector's input tensor `x` [1, 3, H, W] for `img`, and the geometry to map boxes back. */
export function detInput(img: RgbImage, limitSide: number): { x: Tensor; geometry: Geometry } {
  const size = detInputSize(img.width, img.height, limitSide);
  const resized = resizeBilinear(img, size.width, size.height);
  return {
    x: {
      name: "x",
      datatype: "FP32",
      shape: [1, 3, size.height, size.width],
      data: toPlanarBgr(resized, DET_MEAN, DET_STD),
    },
    geometry: { width: img.width, height: img.height, inputWidth: size.width, inputHeight: size.height },
  };
}

/**
 * A batch of text lines as one [N, 3, height, width] tensor (PaddleOCR's resize_norm_img): each
 * line resized to `height` keeping its aspect ratio (at most `width` wide), scaled to [-1, 1],
 * zero-padded on the right.
 */
export function lineBatch(lines: readonly RgbImage[], height: number, width: number): Tensor {
  const plane = height * width;
  const data = new Float32Array(lines.length * 3 * plane);
  for (const [i, line] of lines.entries()) {
    const w = Math.min(Math.ceil((height * line.width) / line.height), width);
    const resized = resizeBilinear(line, Math.max(w, 1), height);
    toPlanarBgr(resized, HALF, HALF, { data, width, offset: i * 3 * plane });
  }
  return { name: "x", datatype: "FP32", shape: [lines.length, 3, height, width], data };
}

const HALF = [0.5, 0.5, 0.5] as const;

/**
 * The recogniser's input width for a batch (PaddleOCR's rec_image_shape 3,48,320): wide enough for
 * the widest line's aspect ratio, at least `minWidth`, at most `maxWidth` (bounds a request's cost).
 */
export function recWidth(
  lines: readonly RgbImage[],
  height: number,
  minWidth: number,
  maxWidth: number,
): number {
  let ratio = minWidth / height;
  for (const l of lines) ratio = Math.max(ratio, l.width / l.height);
  return Math.min(Math.trunc(height * ratio), maxWidth);
}
