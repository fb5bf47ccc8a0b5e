/** The demo `ocr` pipeline in-process: every fixture read exactly, outputs coherent, versions and readiness. */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { checkedInfer, unchecked } from "../../support/infer";
import { DEMO, EXPECTED, FIXTURES, imageInput, OCR_STEPS, pipelineOver, strings } from "./support";

const { pipeline, close } = pipelineOver(DEMO, ["ocr"]);
afterAll(() => close());

describe("the ocr pipeline", () => {
  it("is ready only after its sample ran, and describes itself like any model", async () => {
    expect(await pipeline.ready("ocr", undefined)).toBe(false);
    const d = await pipeline.describe("ocr", undefined);
    expect(await pipeline.ready("ocr", undefined)).toBe(true);
    expect(d.metadata).toEqual({
      name: "ocr",
      versions: ["1"],
      platform: "ensemble",
      inputs: [{ name: "image", datatype: "BYTES", shape: [1] }],
      outputs: [
        { name: "text", datatype: "BYTES", shape: [-1] },
        { name: "boxes", datatype: "FP32", shape: [-1, 4, 2] },
        { name: "scores", datatype: "FP32", shape: [-1] },
      ],
    });
    await expect(pipeline.describe("ocr", 2)).rejects.toThrow(`model "ocr" has no version 2`);
  });

  it.each(Object.keys(EXPECTED))("reads %s", async (file) => {
    const r = await checkedInfer(pipeline, "ocr", { inputs: [imageInput(readFileSync(FIXTURES + file))] });
    const [text, boxes, scores] = r.outputs;
    expect(strings(text)).toEqual(EXPECTED[file]);
    const n = EXPECTED[file]?.length ?? 0;
    expect(boxes?.shape).toEqual([n, 4, 2]);
    expect(scores?.shape).toEqual([n]);
    for (const s of (scores?.data ?? []) as Float32Array) expect(s).toBeGreaterThan(0.9);
    // Boxes lie in the image, top to bottom.
    const b = boxes?.data as Float32Array;
    for (let i = 1; i < n; i++) expect(b[i * 8 + 1]).toBeGreaterThan(b[(i - 1) * 8 + 1] as number);
    expect(Math.min(...b, 0)).toBe(0);
    expect(r.version).toBe("1");
    expect(Object.keys(r.timing?.steps ?? {})).toEqual(OCR_STEPS);
  });

  it("starts no step once the request's deadline has passed", async () => {
    const gone = AbortSignal.abort(new Error("deadline passed"));
    const image = imageInput(readFileSync(`${FIXTURES}hello.png`));
    await expect(pipeline.infer("ocr", undefined, unchecked({ inputs: [image] }), gone)).rejects.toThrow(
      "deadline passed",
    );
  });

  it("returns only the outputs asked for", async () => {
    const image = imageInput(readFileSync(`${FIXTURES}hello.png`));
    const r = await checkedInfer(pipeline, "ocr", { inputs: [image], outputs: [{ name: "text" }] }, 1);
    expect(r.outputs.map((o) => o.name)).toEqual(["text"]);
  });

  it("accepts a base64 element (parameters.content_type), as in its sample", async () => {
    const base64 = new TextEncoder().encode(readFileSync(`${FIXTURES}small.png`).toString("base64"));
    const image = { ...imageInput(base64), parameters: { content_type: "base64" } };
    const r = await checkedInfer(pipeline, "ocr", { inputs: [image] });
    expect(strings(r.outputs[0])).toEqual(EXPECTED["small.png"]);
  });

  it("refuses a bad image with a 400-kind error naming the input, and still serves after", async () => {
    const bad = imageInput(new TextEncoder().encode("not an image"));
    await expect(checkedInfer(pipeline, "ocr", { inputs: [bad] })).rejects.toMatchObject({
      kind: "invalid_input",
      message: "input 'image' is not a PNG or JPEG image",
    });
    const r = await checkedInfer(pipeline, "ocr", {
      inputs: [imageInput(readFileSync(`${FIXTURES}hello.png`))],
    });
    expect(strings(r.outputs[0])).toEqual(EXPECTED["hello.png"]);
  });
});
