import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parseModelConfig } from "../../../layers/repository";

const OCR = JSON.parse(
  readFileSync(new URL("../../../functions/models/ocr/config.json", import.meta.url), "utf8"),
);
const io = {
  inputs: [{ name: "image", datatype: "BYTES", shape: [1] }],
  outputs: [{ name: "text", datatype: "BYTES", shape: [-1] }],
};
const step = { processor: "decode_image", input_map: { bytes: "image" }, output_map: { image: "rgb" } };
const doc = (extra: Record<string, unknown>) => ({
  platform: "ensemble",
  ...io,
  ensemble_scheduling: { step: [step] },
  ...extra,
});
const PREFIX = "config.json of model 'p': ";

describe("platform ensemble", () => {
  test("the demo ocr pipeline parses: steps kept, no batch dimension", () => {
    const c = parseModelConfig(OCR, "ocr");
    expect(c).toMatchObject({ platform: "ensemble", max_batch_size: 0, backend: "cpu" });
    expect(
      c.ensemble_scheduling?.step.map((s) =>
        "processor" in s ? s.processor : `${s.model_name}@${s.model_version}`,
      ),
    ).toEqual([
      "decode_image",
      "det_preprocess",
      "ocr-det@1",
      "db_postprocess",
      "crop_regions",
      "classify_angle",
      "recognize_text",
    ]);
    expect(c.ensemble_scheduling?.step[5]).toMatchObject({
      models: { cls: { model_name: "ocr-cls", model_version: 1 } },
    });
  });

  test("a model step with version -1 (live) and a processor step with defaults", () => {
    const model = { model_name: "m", model_version: -1, input_map: { x: "a" }, output_map: { y: "b" } };
    const c = parseModelConfig(doc({ ensemble_scheduling: { step: [step, model] } }), "p");
    expect(c.ensemble_scheduling?.step).toEqual([{ ...step, parameters: {}, models: {} }, model]);
  });

  test.each([
    [
      "no inputs",
      { inputs: undefined },
      `platform "ensemble" needs inputs and outputs: a pipeline has no ONNX file to read them from`,
    ],
    [
      "batching",
      { max_batch_size: 4 },
      `max_batch_size does not apply to platform "ensemble" (a pipeline has no batch dimension)`,
    ],
    [
      "instances",
      { instance_group: [{ count: 2 }] },
      `instance_group does not apply to platform "ensemble" (its steps' models have their own)`,
    ],
    [
      "no steps",
      { ensemble_scheduling: { step: [] } },
      "ensemble_scheduling.step must be a non-empty array, received an array of 0",
    ],
    [
      "both kinds",
      { ensemble_scheduling: { step: [{ ...step, model_name: "m" }] } },
      "ensemble_scheduling.step[0] must name exactly one of model_name (a model step) or processor (a processor step)",
    ],
    [
      "version 0",
      {
        ensemble_scheduling: {
          step: [{ model_name: "m", model_version: 0, input_map: { x: "a" }, output_map: { y: "b" } }],
        },
      },
      "ensemble_scheduling.step[0].model_version must be -1 (the live version) or a positive integer, received 0",
    ],
    [
      "empty map",
      { ensemble_scheduling: { step: [{ ...step, input_map: {} }] } },
      "ensemble_scheduling.step[0].input_map must map at least one name",
    ],
    [
      "map to a number",
      { ensemble_scheduling: { step: [{ ...step, output_map: { image: 3 } }] } },
      "ensemble_scheduling.step[0].output_map.image must be a non-empty string, received 3",
    ],
    [
      "unknown step field",
      { ensemble_scheduling: { step: [{ ...step, model: "m" }] } },
      "unknown field 'ensemble_scheduling.step[0].model'",
    ],
  ])("%s is refused, naming the field", (_, extra, message) => {
    expect(() => parseModelConfig(doc(extra), "p")).toThrow(PREFIX + message);
  });

  test("ensemble_scheduling on an ONNX model is refused", () => {
    expect(() => parseModelConfig({ ensemble_scheduling: { step: [step] } }, "p")).toThrow(
      `${PREFIX}ensemble_scheduling belongs to platform "ensemble"`,
    );
  });
});
