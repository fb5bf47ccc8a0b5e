/**
 * The built-in processors: PaddleOCR's pre- and post-processing around its det, cls and rec models.
 * To add one, write a Processor (ports, parameters, prepare) and list it in BUILTIN_PROCESSORS.
 */
import { Buffer } from "node:buffer";
import { InvalidInput } from "../errors";
import type { Tensor } from "../protocol/types";
import { cropQuad } from "./crop";
import { ctcCharacters, ctcDecode } from "./ctc";
import { DB_DEFAULTS, dbBoxes } from "./db";
import { decodeImage, type RgbImage, rotate180 } from "./image";
import { detInput, lineBatch, recWidth } from "./preprocess";
import type { Processor, ProcessorRegistry, StepContext } from "./processor";
import { take, value } from "./values";

/** A BYTES element in JSON may carry base64 (MLServer's convention): `parameters.content_type: "base64"`. */
function elementBytes(t: Tensor): Uint8Array {
  const [first] = t.data as Uint8Array[];
  if (t.datatype !== "BYTES" || first === undefined)
    throw new InvalidInput(`input '${t.name}' must hold one BYTES element`);
  if (t.parameters?.content_type !== "base64") return first;
  return Buffer.from(Buffer.from(first).toString("latin1"), "base64");
}

const decodeImageProcessor: Processor = {
  description: "PNG or JPEG bytes → RGB image (bounded bytes and pixels; EXIF orientation applied)",
  inputs: { bytes: "tensor" },
  outputs: { image: "image" },
  prepare({ params }) {
    const limits = {
      maxBytes: params.integer("max_bytes", 8 << 20, 1),
      maxPixels: params.integer("max_pixels", 4096 * 4096, 1),
    };
    return async (inputs) => {
      const t = take(inputs, "bytes", "tensor");
      return { image: value("image", await decodeImage(elementBytes(t), limits, `input '${t.name}'`)) };
    };
  },
};

const detPreprocess: Processor = {
  description:
    "image → detector input x [1,3,H,W] (longer side ≤ limit_side_len, multiples of 32, ImageNet-normalised BGR)",
  inputs: { image: "image" },
  outputs: { x: "tensor", geometry: "geometry" },
  prepare({ params }) {
    const limit = params.integer("limit_side_len", 960, 32, 4096);
    return async (inputs) => {
      const { x, geometry } = detInput(take(inputs, "image", "image"), limit);
      return { x: value("tensor", x), geometry: value("geometry", geometry) };
    };
  },
};

const dbPostprocess: Processor = {
  description: "probability map [1,1,H,W] → text boxes and scores in the image's pixels, reading order",
  inputs: { map: "tensor", geometry: "geometry" },
  outputs: { detections: "detections" },
  prepare({ params }) {
    const options = {
      thresh: params.number("thresh", DB_DEFAULTS.thresh, 0, 1),
      boxThresh: params.number("box_thresh", DB_DEFAULTS.boxThresh, 0, 1),
      unclipRatio: params.number("unclip_ratio", DB_DEFAULTS.unclipRatio, 0, 10),
      maxCandidates: params.integer("max_regions", DB_DEFAULTS.maxCandidates, 1),
    };
    return async (inputs) => {
      const map = take(inputs, "map", "tensor");
      const geometry = take(inputs, "geometry", "geometry");
      const [, , h, w] = map.shape;
      if (h !== geometry.inputHeight || w !== geometry.inputWidth) {
        throw new Error(`probability map ${map.shape.join("x")} does not match the detector input`);
      }
      return { detections: value("detections", dbBoxes(map.data as Float32Array, geometry, options)) };
    };
  },
};

const cropRegions: Processor = {
  description: "image + boxes → one upright crop per box (vertical lines turned 90°)",
  inputs: { image: "image", detections: "detections" },
  outputs: { regions: "images" },
  prepare: () => async (inputs) => {
    const image = take(inputs, "image", "image");
    return {
      regions: value(
        "images",
        take(inputs, "detections", "detections").quads.map((q) => cropQuad(image, q)),
      ),
    };
  },
};

/** Runs `run` on consecutive slices of `items` of at most `size` (each slice one model call). */
async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  run: (batch: T[]) => Promise<R[]>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await run(items.slice(i, i + size))));
  return out;
}

const classifyAngle: Processor = {
  description:
    "crops → crops turned 180° where the angle classifier says so (model role cls: [N,3,48,192] → [N,2])",
  inputs: { regions: "images" },
  outputs: { regions: "images" },
  models: ["cls"],
  prepare({ params, maxBatch }) {
    const batch = params.integer("batch_size", Math.min(6, maxBatch("cls")), 1, maxBatch("cls"));
    const thresh = params.number("thresh", 0.9, 0, 1);
    return async (inputs, ctx: StepContext) => {
      const regions = take(inputs, "regions", "images");
      const turned = await inBatches(regions, batch, async (lines) => {
        const out = await ctx.call("cls", lineBatch(lines, 48, 192));
        const p = out.data as Float32Array;
        return lines.map((l, i) =>
          (p[i * 2 + 1] as number) > (p[i * 2] as number) && (p[i * 2 + 1] as number) > thresh
            ? rotate180(l)
            : l,
        );
      });
      return { regions: value("images", turned) };
    };
  },
};

const recognizeText: Processor = {
  description:
    "crops + boxes → text, boxes [N,4,2] and scores of the lines read (model role rec, CTC with parameters.dictionary)",
  inputs: { regions: "images", detections: "detections" },
  outputs: { text: "tensor", boxes: "tensor", scores: "tensor" },
  models: ["rec"],
  async prepare({ params, readFile, maxBatch }) {
    const file = params.string("dictionary");
    const characters = ctcCharacters(new TextDecoder().decode(await readFile(file)));
    const batch = params.integer("batch_size", Math.min(6, maxBatch("rec")), 1, maxBatch("rec"));
    const dropScore = params.number("drop_score", 0.5, 0, 1);
    const maxWidth = params.integer("max_width", 2048, 48, 8192);
    return async (inputs, ctx) => {
      const regions = take(inputs, "regions", "images");
      const { quads } = take(inputs, "detections", "detections");
      // PaddleOCR sorts lines by aspect ratio so a batch pads little; answers go back in box order.
      const order = regions
        .map((_, i) => i)
        .sort((a, b) => ratio(regions[a] as RgbImage) - ratio(regions[b] as RgbImage));
      const read = await inBatches(order, batch, async (idx) => {
        const lines = idx.map((i) => regions[i] as RgbImage);
        const probs = await ctx.call("rec", lineBatch(lines, 48, recWidth(lines, 48, 320, maxWidth)));
        return ctcDecode(probs.data as Float32Array, probs.shape, characters);
      });
      const byBox = new Array<{ text: string; score: number }>(regions.length);
      for (const [k, i] of order.entries()) byBox[i] = read[k] as { text: string; score: number };
      const kept = byBox.map((r, i) => ({ ...r, i })).filter((r) => r.score >= dropScore);
      const enc = new TextEncoder();
      return {
        text: value("tensor", {
          name: "text",
          datatype: "BYTES",
          shape: [kept.length],
          data: kept.map((r) => enc.encode(r.text)),
        }),
        boxes: value("tensor", {
          name: "boxes",
          datatype: "FP32",
          shape: [kept.length, 4, 2],
          data: Float32Array.from(kept.flatMap((r) => (quads[r.i] ?? []).flat())),
        }),
        scores: value("tensor", {
          name: "scores",
          datatype: "FP32",
          shape: [kept.length],
          data: Float32Array.from(kept.map((r) => r.score)),
        }),
      };
    };
  },
};

const ratio = (img: RgbImage) => img.width / img.height;

/** Every processor a config.json may name. */
export const BUILTIN_PROCESSORS: ProcessorRegistry = new Map<string, Processor>([
  ["decode_image", decodeImageProcessor],
  ["det_preprocess", detPreprocess],
  ["db_postprocess", dbPostprocess],
  ["crop_regions", cropRegions],
  ["classify_angle", classifyAngle],
  ["recognize_text", recognizeText],
]);
