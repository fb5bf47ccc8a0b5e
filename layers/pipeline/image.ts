/**
 * Images as the pipeline's processors see them: 8-bit RGB, row-major, 3 bytes a pixel. Decoding
 * is sharp's (libvips); resizing, cropping and rotating are small pure functions here, written
 * to OpenCV's conventions (pixel centres at integer coordinates, replicated borders) because
 * PaddleOCR's models were trained on images prepared with OpenCV.
 */
import type Sharp from "sharp";
import { InvalidInput } from "../errors";

// Loaded on the first decode, not at import: sharp and libvips take ~50 ms to load, which every
// cold start of a plain model's function (no image input) would otherwise pay (issue 14).
let sharpModule: Promise<typeof Sharp> | undefined;
const loadSharp = (): Promise<typeof Sharp> => (sharpModule ??= import("sharp").then((m) => m.default));

/** A decoded image: `data[(y * width + x) * 3 + c]`, channels R, G, B. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Bounds on what decodeImage accepts, so a request's cost is known before any pixel is decoded. */
export interface DecodeLimits {
  /** Largest encoded image, bytes. */
  maxBytes: number;
  /** Largest decoded image, width × height (a decompression bomb is refused from its header). */
  maxPixels: number;
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const startsWith = (b: Uint8Array, sig: number[]) => sig.every((v, i) => b[i] === v);

/** The image format from its first bytes: only PNG and JPEG are accepted (no SVG, no TIFF). */
export function sniffFormat(bytes: Uint8Array): "png" | "jpeg" | undefined {
  if (startsWith(bytes, PNG)) return "png";
  if (startsWith(bytes, JPEG)) return "jpeg";
  return undefined;
}

/**
 * Decodes a PNG or JPEG into RGB (EXIF orientation applied, transparency flattened onto white).
 * The header is read first: a picture over `maxPixels` is refused before libvips allocates it.
 * Every failure is an InvalidInput naming `what`; libvips' own text stays out of the message.
 */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits, what: string): Promise<RgbImage> {
  if (bytes.byteLength > limits.maxBytes) {
    throw new InvalidInput(`${what} is ${bytes.byteLength} bytes, at most ${limits.maxBytes} allowed`);
  }
  const format = sniffFormat(bytes);
  if (format === undefined) throw new InvalidInput(`${what} is not a PNG or JPEG image`);
  const sharp = await loadSharp();
  const options = { limitInputPixels: limits.maxPixels, failOn: "error" as const };
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(bytes, { ...options, limitInputPixels: false }).metadata());
  } catch (cause) {
    throw new InvalidInput(`${what}: the ${format.toUpperCase()} header cannot be read`, { cause });
  }
  if (width === undefined || height === undefined || width < 1 || height < 1) {
    throw new InvalidInput(`${what}: the ${format.toUpperCase()} header has no size`);
  }
  if (width * height > limits.maxPixels) {
    throw new InvalidInput(
      `${what} is ${width}x${height} pixels (${width * height}), at most ${limits.maxPixels} pixels allowed`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, options)
      .rotate()
      .flatten({ background: "#ffffff" })
      .toColourspace("srgb")
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    // sRGB is 8 bits a channel: a 16-bit PNG comes out as bytes too; anything else is a bug to report.
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoded ${info.channels} channels, ${data.length} bytes`);
    }
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (cause) {
    throw new InvalidInput(`${what}: the ${format.toUpperCase()} data is truncated or corrupt`, { cause });
  }
}

/**
 * Bilinear resize with OpenCV's INTER_LINEAR mapping: `src = (dst + 0.5) * scale - 0.5`, clamped
 * to the edge. Values are rounded to the nearest byte.
 */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const sx = img.width / width;
  const sy = img.height / height;
  const xs = axis(width, sx, img.width);
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    const row0 = y0 * img.width * 3;
    const row1 = y1 * img.width * 3;
    for (let x = 0; x < width; x++) {
      const x0 = xs.lo[x] as number;
      const x1 = xs.hi[x] as number;
      const wx = xs.w[x] as number;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = (img.data[row0 + x0 + c] as number) * (1 - wx) + (img.data[row0 + x1 + c] as number) * wx;
        const bottom =
          (img.data[row1 + x0 + c] as number) * (1 - wx) + (img.data[row1 + x1 + c] as number) * wx;
        out[o + c] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return { width, height, data: out };
}

/** Per destination column: left and right source byte offsets and the right one's weight. */
function axis(size: number, scale: number, srcSize: number) {
  const lo = new Int32Array(size);
  const hi = new Int32Array(size);
  const w = new Float64Array(size);
  for (let x = 0; x < size; x++) {
    const f = Math.min(Math.max((x + 0.5) * scale - 0.5, 0), srcSize - 1);
    const i = Math.floor(f);
    lo[x] = i * 3;
    hi[x] = Math.min(i + 1, srcSize - 1) * 3;
    w[x] = f - i;
  }
  return { lo, hi, w };
}

/** The image turned by 180 degrees. */
export function rotate180(img: RgbImage): RgbImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) out.set(img.data.subarray(i * 3, i * 3 + 3), (n - 1 - i) * 3);
  return { width: img.width, height: img.height, data: out };
}

/** The image turned by 90 degrees counter-clockwise (numpy's rot90). */
export function rotate90ccw(img: RgbImage): RgbImage {
  const { width: w, height: h } = img;
  const out = new Uint8Array(w * h * 3);
  // Output is h wide and w tall: out(x=y_src, y=w-1-x_src) = in(x_src, y_src).
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out.set(img.data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), ((w - 1 - x) * h + y) * 3);
    }
  }
  return { width: h, height: w, data: out };
}

/** One pixel of `img` sampled bilinearly at (fx, fy), border replicated (OpenCV's BORDER_REPLICATE). */
export function sampleBilinear(img: RgbImage, fx: number, fy: number, out: Uint8Array, offset: number): void {
  const x = Math.min(Math.max(fx, 0), img.width - 1);
  const y = Math.min(Math.max(fy, 0), img.height - 1);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, img.width - 1);
  const y1 = Math.min(y0 + 1, img.height - 1);
  const wx = x - x0;
  const wy = y - y0;
  const d = img.data;
  for (let c = 0; c < 3; c++) {
    const a =
      (d[(y0 * img.width + x0) * 3 + c] as number) * (1 - wx) +
      (d[(y0 * img.width + x1) * 3 + c] as number) * wx;
    const b =
      (d[(y1 * img.width + x0) * 3 + c] as number) * (1 - wx) +
      (d[(y1 * img.width + x1) * 3 + c] as number) * wx;
    out[offset + c] = Math.round(a * (1 - wy) + b * wy);
  }
}
