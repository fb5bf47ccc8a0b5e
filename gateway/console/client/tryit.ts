/**
 * Try it: a request generated from the chosen model's signature (editable JSON), sent to its infer
 * route, with status, Server-Timing and response shown; models with a BYTES `image` input also take
 * an image file, and an answer with `text` and `boxes` is drawn on it.
 */
import { call } from "./api";
import { byId, el } from "./dom";
import type { ModelInfo, TensorSpec } from "./models";

/** Largest tensor the generator fills (bigger dims are cut to 1). */
const MAX_ELEMENTS = 1 << 16;

function sampleValue(datatype: string): unknown {
  if (datatype === "BYTES") return "hello";
  if (datatype === "BOOL") return false;
  return datatype.startsWith("FP") || datatype === "BF16" ? 0.5 : 1;
}

/** A request with every input of the signature filled with one value; variable dims are 1. */
export function generateRequest(inputs: TensorSpec[]): object {
  return {
    inputs: inputs.map((t) => {
      let shape = t.shape.map((d) => (d < 0 ? 1 : d));
      if (shape.reduce((a, b) => a * b, 1) > MAX_ELEMENTS) shape = shape.map(() => 1);
      const n = shape.reduce((a, b) => a * b, 1);
      return { name: t.name, datatype: t.datatype, shape, data: new Array(n).fill(sampleValue(t.datatype)) };
    }),
  };
}

const hasImageInput = (m: ModelInfo) => m.inputs.some((t) => t.name === "image" && t.datatype === "BYTES");

let image: HTMLImageElement | undefined;

/** Wires the Try it panel for `models`. */
export function initTry(models: ModelInfo[]): void {
  const select = byId<HTMLSelectElement>("try-model");
  const body = byId<HTMLTextAreaElement>("try-body");
  const choose = () => {
    const m = models.find((x) => x.name === select.value);
    if (m === undefined) return;
    byId("try-image").hidden = !hasImageInput(m);
    body.value = JSON.stringify(generateRequest(m.inputs), null, 1);
  };
  select.replaceChildren(...models.map((m) => Object.assign(el("option", [m.name]), { value: m.name })));
  select.onchange = choose;
  choose();
  byId<HTMLInputElement>("try-file").onchange = (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file !== undefined) void loadImage(file, body);
  };
  byId("try-send").onclick = () => void send(select.value, body.value);
}

async function loadImage(file: File, body: HTMLTextAreaElement): Promise<void> {
  const url = URL.createObjectURL(file);
  image = new Image();
  image.src = url;
  await image.decode();
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  const request = {
    inputs: [
      {
        name: "image",
        datatype: "BYTES",
        shape: [1],
        parameters: { content_type: "base64" },
        data: [btoa(bin)],
      },
    ],
  };
  body.value = JSON.stringify(request);
  draw(undefined);
}

async function send(model: string, text: string): Promise<void> {
  const status = byId("try-status");
  status.textContent = "sending…";
  const a = await call(`/v2/models/${encodeURIComponent(model)}/infer`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: text,
  });
  status.textContent = `HTTP ${a.status}`;
  status.className = a.status >= 400 ? "error" : "";
  byId("try-timing").textContent = a.serverTiming === "" ? "" : `Server-Timing: ${a.serverTiming}`;
  byId("try-response").textContent = typeof a.body === "string" ? a.body : JSON.stringify(a.body, null, 1);
  if (!byId("try-image").hidden) draw(a.status < 400 ? (a.body as InferAnswer) : undefined);
}

interface InferAnswer {
  outputs?: Array<{ name: string; data: unknown[] }>;
}

/** Draws the chosen image and, when the answer has them, each text line's box and its text. */
function draw(answer: InferAnswer | undefined): void {
  const canvas = byId<HTMLCanvasElement>("try-canvas");
  const list = byId("try-text");
  list.replaceChildren();
  if (image === undefined) return;
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const ctx = canvas.getContext("2d");
  if (ctx === null) return;
  ctx.drawImage(image, 0, 0);
  const out = (name: string) => answer?.outputs?.find((o) => o.name === name)?.data;
  const text = (out("text") ?? []).map(String);
  const boxes = (out("boxes") ?? []).map(Number);
  ctx.strokeStyle = "#e00";
  ctx.lineWidth = Math.max(2, image.naturalWidth / 400);
  for (let i = 0; i < text.length; i++) {
    const p = boxes.slice(i * 8, i * 8 + 8);
    if (p.length === 8) {
      ctx.beginPath();
      ctx.moveTo(p[0] as number, p[1] as number);
      for (let k = 2; k < 8; k += 2) ctx.lineTo(p[k] as number, p[k + 1] as number);
      ctx.closePath();
      ctx.stroke();
    }
    list.append(el("li", [text[i] as string]));
  }
}
