/** Text regions cut out of an image, upright (PaddleOCR's get_rotate_crop_image). */
import type { Quad } from "./geometry";
import { type RgbImage, rotate90ccw, sampleBilinear } from "./image";

/**
 * The box's pixels straightened into a rectangle as wide as its longer horizontal side and as
 * tall as its longer vertical side; a crop at least 1.5 times taller than wide is a vertical line
 * and is turned 90° counter-clockwise, as PaddleOCR does.
 */
export function cropQuad(img: RgbImage, quad: Quad): RgbImage {
  const [p0, p1, p2, p3] = quad;
  const dist = (a: readonly number[], b: readonly number[]) =>
    Math.hypot((a[0] as number) - (b[0] as number), (a[1] as number) - (b[1] as number));
  const width = Math.max(Math.trunc(Math.max(dist(p0, p1), dist(p2, p3))), 1);
  const height = Math.max(Math.trunc(Math.max(dist(p0, p3), dist(p1, p2))), 1);
  const out = new Uint8Array(width * height * 3);
  // The box is a rectangle (or close to one): an affine map from the crop's pixel (x, y) to the image.
  const ux = (p1[0] - p0[0]) / width;
  const uy = (p1[1] - p0[1]) / width;
  const vx = (p3[0] - p0[0]) / height;
  const vy = (p3[1] - p0[1]) / height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      sampleBilinear(img, p0[0] + x * ux + y * vx, p0[1] + x * uy + y * vy, out, (y * width + x) * 3);
    }
  }
  const crop = { width, height, data: out };
  return height / width >= 1.5 ? rotate90ccw(crop) : crop;
}
