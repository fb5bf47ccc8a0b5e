/**
 * The demo's shadow version: `ocr-cls` version 2 is version 1 with the bias of its last layer moved
 * by 0.02, so its class probabilities differ slightly (a few thousandths) while its argmax mostly
 * agrees. Generated, not committed (the demo models are symlinks into node_modules): `npm start`
 * runs this first (prestart); it rewrites the file only when version 1 changed.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import onnxProto from "onnx-proto";

const MODEL = "ocr-cls";
/** The Constant node holding the classifier's bias (2 floats). */
const BIAS = "fc_0.b_0";
/** Added to the first logit's bias. */
export const BIAS_SHIFT = 0.02;

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** Writes `<modelsDir>/ocr-cls/2/model.onnx` (+ .sha256) from version 1; returns the file's path. */
export function writeDemoVariant(modelsDir: string): string {
  const src = readFileSync(join(modelsDir, MODEL, "1", "model.onnx"));
  const dir = join(modelsDir, MODEL, "2");
  const out = join(dir, "model.onnx");
  const stamp = join(dir, "source.sha256");
  const source = sha256(src);
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === source) return out;
  const model = onnxProto.onnx.ModelProto.decode(src);
  const node = model.graph?.node?.find((n) => n.output?.includes(BIAS));
  const raw = node?.attribute?.find((a) => a.name === "value")?.t?.rawData;
  if (raw === undefined || raw === null || raw.length < 4) throw new Error(`${MODEL}: no ${BIAS} constant`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  view.setFloat32(0, view.getFloat32(0, true) + BIAS_SHIFT, true);
  const bytes = onnxProto.onnx.ModelProto.encode(model).finish();
  mkdirSync(dir, { recursive: true });
  writeFileSync(out, bytes);
  writeFileSync(`${out}.sha256`, `${sha256(bytes)}\n`);
  writeFileSync(stamp, `${source}\n`);
  return out;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeDemoVariant(fileURLToPath(new URL("../../functions/models/", import.meta.url)));
}
