/**
 * The demo's shadow version: `ocr-cls` version 2 is version 1 with the bias of its last layer moved
 * by 0.02, so its class probabilities differ slightly (a few thousandths) while its argmax mostly
 * agrees. Generated, not committed (the demo models are symlinks into node_modules): `npm start`
 * runs this first (prestart); it rewrites the file only when version 1 changed. The four bias bytes
 * are found by walking the protobuf (ModelProto.graph.node[].attribute.t.raw_data) and changed in
 * place, so no ONNX library is needed at run time and every length in the file stays as it was.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MODEL = "ocr-cls";
/** The Constant node holding the classifier's bias (2 floats). */
const BIAS = "fc_0.b_0";
/** Added to the first logit's bias. */
export const BIAS_SHIFT = 0.02;
/** Beside a generated model.onnx: the SHA-256 of the model it was made from (regenerate when it changes). */
export const GENERATED_STAMP = "source.sha256";

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** Writes `<modelsDir>/ocr-cls/2/model.onnx` (+ .sha256) from version 1; returns the file's path. */
export function writeDemoVariant(modelsDir: string): string {
  const src = readFileSync(join(modelsDir, MODEL, "1", "model.onnx"));
  const dir = join(modelsDir, MODEL, "2");
  const out = join(dir, "model.onnx");
  const stamp = join(dir, GENERATED_STAMP);
  const source = sha256(src);
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === source) return out;
  const at = biasOffset(src);
  if (at === undefined) throw new Error(`${MODEL}: no ${BIAS} constant`);
  const bytes = Uint8Array.from(src);
  const view = new DataView(bytes.buffer, at, 4);
  view.setFloat32(0, view.getFloat32(0, true) + BIAS_SHIFT, true);
  mkdirSync(dir, { recursive: true });
  writeFileSync(out, bytes);
  writeFileSync(`${out}.sha256`, `${sha256(bytes)}\n`);
  writeFileSync(stamp, `${source}\n`);
  return out;
}

/** A length-delimited or scalar protobuf field: its number and where its payload lies in `buf`. */
interface Field {
  no: number;
  start: number;
  end: number;
}

/** The fields of the message in `buf[start, end)`, in order (wire types 0, 1, 2 and 5: all ONNX uses). */
function fields(buf: Uint8Array, start: number, end: number): Field[] {
  const out: Field[] = [];
  let p = start;
  const varint = (): number => {
    let v = 0;
    for (let shift = 1; ; shift *= 128) {
      const b = buf[p++] ?? 0;
      v += (b & 0x7f) * shift;
      if (b < 0x80) return v;
    }
  };
  while (p < end) {
    const key = varint();
    const wire = key % 8;
    const no = Math.floor(key / 8);
    const from = p;
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const n = varint();
      out.push({ no, start: p, end: p + n });
      p += n;
      continue;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    out.push({ no, start: from, end: p });
  }
  return out;
}

/** Offset of the first float of the Constant node that outputs BIAS (onnx.proto3 field numbers). */
function biasOffset(buf: Uint8Array): number | undefined {
  const text = (f: Field) => new TextDecoder().decode(buf.subarray(f.start, f.end));
  const sub = (f: Field, no: number) => fields(buf, f.start, f.end).filter((x) => x.no === no);
  const [graph] = fields(buf, 0, buf.length).filter((f) => f.no === 7); // ModelProto.graph
  for (const node of graph === undefined ? [] : sub(graph, 1)) {
    if (!sub(node, 2).some((o) => text(o) === BIAS)) continue; // NodeProto.output
    for (const attr of sub(node, 5)) {
      if (!sub(attr, 1).some((n) => text(n) === "value")) continue; // AttributeProto.name
      const raw = sub(attr, 5).flatMap((t) => sub(t, 9))[0]; // .t (TensorProto).raw_data
      if (raw !== undefined && raw.end - raw.start >= 4) return raw.start;
    }
  }
  return undefined;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeDemoVariant(fileURLToPath(new URL("../../functions/models/", import.meta.url)));
}
