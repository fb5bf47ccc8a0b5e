/** config.json `release` and the repository's sample files (layers/repository/release.ts). */
import { describe, expect, it } from "vitest";
import { parseModelConfig } from "../../../layers/repository/config";
import { DEFAULT_RELEASE, toleranceFor } from "../../../layers/repository/release";
import { parseSample, SampleError } from "../../../layers/repository/samples";

const release = (value: unknown) => parseModelConfig({ release: value }, "m").release;

describe("config.json release", () => {
  it("defaults to a small tolerance and no comparison with the live version", () => {
    expect(parseModelConfig({}, "m").release).toEqual({
      tolerance: { abs: 1e-4, rel: 1e-3 },
      compare_with_live: false,
    });
    expect(release({ compare_with_live: true })).toEqual({ ...DEFAULT_RELEASE, compare_with_live: true });
  });

  it("takes a tolerance for every output, refined per output", () => {
    const r = release({ tolerance: { abs: 0.01, outputs: { boxes: { abs: 0.5 }, scores: { rel: 0.1 } } } });
    expect(toleranceFor(r.tolerance, "boxes")).toEqual({ abs: 0.5, rel: 1e-3 });
    expect(toleranceFor(r.tolerance, "scores")).toEqual({ abs: 0.01, rel: 0.1 });
    expect(toleranceFor(r.tolerance, "other")).toEqual({ abs: 0.01, rel: 1e-3 });
  });

  it.each([
    [{ tolerence: {} }, "unknown field 'release.tolerence' (allowed: tolerance, compare_with_live)"],
    [{ compare_with_live: "yes" }, 'release.compare_with_live must be a boolean, received "yes"'],
    [{ tolerance: { abs: -1 } }, "release.tolerance.abs must be a non-negative number, received -1"],
    [
      { tolerance: { absolute: 1 } },
      "release.tolerance has unknown field 'absolute' (allowed: abs, rel, outputs)",
    ],
    [
      { tolerance: { outputs: { y: { abs: "1" } } } },
      "release.tolerance.outputs.y.abs must be a non-negative number",
    ],
  ])("rejects %j, naming the field", (value, message) => {
    expect(() => release(value)).toThrow(message);
  });
});

describe("samples", () => {
  const base = DEFAULT_RELEASE.tolerance;
  const request = { inputs: [{ name: "x", datatype: "FP32", shape: [2], data: [1, 2] }] };

  it("reads a request and its expected outputs, nested data flattened, with its own tolerance", () => {
    const text = JSON.stringify({
      request,
      expected: { outputs: [{ name: "y", datatype: "FP32", shape: [1, 2], data: [[1.5, "NaN"]] }] },
      tolerance: { abs: 0.5 },
    });
    expect(parseSample(text, "s1", base)).toEqual({
      name: "s1",
      request,
      expected: [{ name: "y", datatype: "FP32", shape: [1, 2], data: [1.5, "NaN"] }],
      tolerance: { abs: 0.5, rel: 1e-3 },
    });
  });

  it.each([
    ["{", "sample 's': not valid JSON"],
    [
      JSON.stringify({ request, expected: { outputs: [] } }),
      "sample 's': expected.outputs must be a non-empty array",
    ],
    [
      JSON.stringify({ request: { inputs: [] }, expected: {} }),
      "sample 's': request.inputs must be a non-empty array",
    ],
    [
      JSON.stringify({
        request,
        expected: { outputs: [{ name: "y", datatype: "FP32", shape: [3], data: [1] }] },
      }),
      "sample 's': expected.outputs[0].data holds 1 elements, shape [3] needs 3",
    ],
    [
      JSON.stringify({
        request,
        expected: { outputs: [{ name: "y", datatype: "F32", shape: [1], data: [1] }] },
      }),
      "sample 's': expected.outputs[0].datatype must be a protocol datatype, received \"F32\"",
    ],
    [JSON.stringify({ request, expected: { outputs: [] }, extra: 1 }), "has unknown field 'extra'"],
  ])("rejects a malformed sample: %s", (text, message) => {
    expect(() => parseSample(text, "s", base)).toThrow(SampleError);
    expect(() => parseSample(text, "s", base)).toThrow(message);
  });
});
