/** Pipelines that must not become ready (wiring, parameters, files and samples checked at load), and bounds per request. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkedInfer } from "../../support/infer";
import { DEMO, EXPECTED, FIXTURES, imageInput, pipelineOver, strings } from "./support";

const root = mkdtempSync(join(tmpdir(), "pipelines-"));
for (const m of ["ocr-det", "ocr-cls", "ocr-rec"]) symlinkSync(join(DEMO, m), join(root, m));
const OCR = JSON.parse(readFileSync(join(DEMO, "ocr", "config.json"), "utf8"));
const SAMPLE = JSON.parse(readFileSync(join(DEMO, "ocr", "1", "samples", "hello.json"), "utf8"));
const DICTIONARY = readFileSync(join(DEMO, "ocr", "1", "ppocr_keys_v1.txt"));

/** Writes pipeline `name`: the ocr config changed by `edit`, its dictionary, and `sample` (null: none). */
function pipeline(name: string, edit: (c: typeof OCR) => void, sample: unknown = SAMPLE): string {
  const config = structuredClone(OCR);
  config.name = name;
  edit(config);
  mkdirSync(join(root, name, "1", "samples"), { recursive: true });
  writeFileSync(join(root, name, "config.json"), JSON.stringify(config));
  writeFileSync(join(root, name, "1", "ppocr_keys_v1.txt"), DICTIONARY);
  if (sample !== null) writeFileSync(join(root, name, "1", "samples", "a.json"), JSON.stringify(sample));
  return name;
}

const step = (c: typeof OCR, i: number) => c.ensemble_scheduling.step[i];
const cases: Array<[string, (c: typeof OCR) => void, string]> = [
  [
    "unknown processor",
    (c) => Object.assign(step(c, 0), { processor: "decode" }),
    "step[0]: unknown processor 'decode' (known: decode_image, det_preprocess, db_postprocess, crop_regions, classify_angle, recognize_text)",
  ],
  [
    "unwritten value",
    (c) => Object.assign(step(c, 1), { input_map: { image: "nope" } }),
    "step[1]: input_map.image reads 'nope', which no earlier step writes",
  ],
  [
    "wrong kind",
    (c) => Object.assign(step(c, 1), { input_map: { image: "image" } }),
    "step[1]: input_map.image reads 'image' of kind tensor, expected kind image",
  ],
  [
    "unknown model input",
    (c) => Object.assign(step(c, 2), { input_map: { y: "det_input" } }),
    "step[2]: model 'ocr-det' has no input 'y'",
  ],
  [
    "unknown step model",
    (c) => Object.assign(step(c, 2), { model_name: "nope" }),
    "step[2]: step model 'nope' (version 1) is not available",
  ],
  [
    "missing model role",
    (c) => Object.assign(step(c, 5), { models: {} }),
    "step[5]: models.cls is required by processor 'classify_angle'",
  ],
  [
    "unknown parameter",
    (c) => Object.assign(step(c, 0), { parameters: { max_byte: 1 } }),
    "step[0]: unknown parameter 'max_byte' (allowed: max_bytes, max_pixels)",
  ],
  [
    "parameter out of range",
    (c) => Object.assign(step(c, 3), { parameters: { thresh: 2 } }),
    "step[3]: parameters.thresh must be a number in [0, 1], received 2",
  ],
  [
    "batch over the step model's",
    (c) => Object.assign(step(c, 5).parameters, { batch_size: 64 }),
    "step[5]: parameters.batch_size must be a number in [1, 32], received 64",
  ],
  [
    "unwritten output",
    (c) => Object.assign(step(c, 6), { output_map: { text: "text", boxes: "boxes" } }),
    "config.json of model 'p9': output 'scores' is written by no step as a tensor",
  ],
  [
    "missing dictionary",
    (c) => Object.assign(step(c, 6).parameters, { dictionary: "keys.txt" }),
    "model 'p10' version 1: file 'keys.txt' cannot be read",
  ],
  [
    "dictionary outside",
    (c) => Object.assign(step(c, 6).parameters, { dictionary: "../../ocr-det/config.json" }),
    "model 'p11': file '../../ocr-det/config.json' is outside its version directory",
  ],
];
const names = cases.map(([, edit], i) => pipeline(`p${i}`, edit));
const noSample = pipeline("no-sample", () => {}, null);
const wrong = structuredClone(SAMPLE);
wrong.expected.outputs[0].data = ["Goodbye"];
const disagrees = pipeline("disagrees", () => {}, wrong);
const malformed = pipeline("malformed", () => {}, { inputs: [] });

// Bounds its sample (hello.png: 2066 bytes, 400x80 pixels, one line) stays within.
const small = pipeline("small", (c) =>
  Object.assign(step(c, 0).parameters, { max_bytes: 4096, max_pixels: 40_000 }),
);
const few = pipeline("few", (c) => Object.assign(step(c, 3).parameters, { max_regions: 2 }));

const { pipeline: backend, close } = pipelineOver(root, [
  ...names,
  noSample,
  disagrees,
  malformed,
  small,
  few,
]);
afterAll(async () => {
  await close();
  rmSync(root, { recursive: true, force: true });
});

describe("a pipeline that cannot run is never ready", () => {
  it.each(cases.map(([what, , message], i) => [what, `p${i}`, message] as const))(
    "%s",
    async (_, name, message) => {
      await expect(backend.describe(name, undefined)).rejects.toMatchObject({ kind: "model_not_ready" });
      await expect(backend.describe(name, undefined)).rejects.toThrow(message);
      expect(await backend.ready(name, undefined)).toBe(false);
    },
  );

  it("needs a sample to warm up with", async () => {
    await expect(backend.describe(noSample, undefined)).rejects.toThrow(
      "model 'no-sample' version 1: a pipeline needs a sample (samples/<name>.json) to warm up with",
    );
  });

  it("is not ready when its answer disagrees with the sample, or the sample is malformed", async () => {
    await expect(backend.describe(disagrees, undefined)).rejects.toThrow(
      `model 'disagrees' version 1 disagrees with sample 'a.json': output 'text': 1 of 1 elements beyond abs 0.0001 + rel 0.001; worst element [0]: expected Goodbye, got Hello World 2026`,
    );
    expect(await backend.ready(disagrees, undefined)).toBe(false);
    await expect(backend.describe(malformed, undefined)).rejects.toThrow(
      "sample 'malformed/1/samples/a.json': the document has unknown field 'inputs' (allowed: request, expected, tolerance)",
    );
  });

  it("answers unknown pipelines and versions as not found", async () => {
    await expect(backend.describe("elsewhere", undefined)).rejects.toMatchObject({ kind: "model_not_found" });
    await expect(backend.ready(disagrees, 7)).rejects.toThrow(`model "disagrees" has no version 7`);
  });
});

describe("a pipeline's bounds, per request", () => {
  const read = (name: string, file: string) =>
    checkedInfer(backend, name, { inputs: [imageInput(readFileSync(FIXTURES + file))] });

  it.each([
    ["lines.jpg", "input 'image' is 19817 bytes, at most 4096 allowed"],
    ["mono.png", "input 'image' is 560x90 pixels (50400), at most 40000 pixels allowed"],
  ])("refuses %s over max_bytes or max_pixels as the client's fault", async (file, message) => {
    await expect(read(small, file)).rejects.toMatchObject({ kind: "invalid_input", message });
    expect(strings((await read(small, "hello.png")).outputs[0])).toEqual(EXPECTED["hello.png"]);
  });

  it("recognises at most max_regions regions of an image: the first found, top down", async () => {
    const r = await read(few, "paragraph.png");
    expect(strings(r.outputs[0])).toEqual(EXPECTED["paragraph.png"]?.slice(0, 2));
    expect(r.outputs[1]?.shape).toEqual([2, 4, 2]);
  });
});
